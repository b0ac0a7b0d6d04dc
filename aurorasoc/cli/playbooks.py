"""``aurorasoc playbooks``: validate playbook files and import them (or the showcase set)."""

from __future__ import annotations

from pathlib import Path

import typer

from aurorasoc.cli.common import console, ensure_schema, err_console, run
from aurorasoc.core.db import session_scope
from aurorasoc.soar.playbook import PlaybookValidationError, parse_playbook
from aurorasoc.soar.playbooks import ImportReport, PlaybookService

app = typer.Typer(help="SOAR playbook tools.", no_args_is_help=True)
BAD_INPUT = 2


@app.command("validate")
def validate(path: Path = typer.Argument(..., help="A playbook YAML file")) -> None:
    """Check a playbook against the schema; every problem is listed with its field and line."""
    if not path.is_file():
        err_console.print(f"[red]error:[/red] no such file: {path}", highlight=False)
        raise typer.Exit(BAD_INPUT)
    try:
        definition = parse_playbook(path.read_text(encoding="utf-8"))
    except PlaybookValidationError as exc:
        for problem in exc.errors:
            line = f":{problem['line']}" if problem.get("line") else ""
            err_console.print(f"{path}{line}: {problem['field']}: {problem['message']}", highlight=False)
        raise typer.Exit(1) from None
    summary = f"{path}: valid playbook {definition.name} ({len(definition.steps)} steps)"
    console.print(summary, highlight=False, soft_wrap=True)


def _import(work: str, paths: list[Path] | None) -> ImportReport:
    ensure_schema()

    async def _run() -> ImportReport:
        async with session_scope() as session:
            service = PlaybookService(session)
            if paths is None:
                return await service.import_showcase(actor="cli")
            return await service.import_paths(paths, actor="cli")

    report = run(_run)
    console.print(
        f"{work}: {report.imported} imported, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.errors)} invalid",
        highlight=False,
    )
    for where, reason in report.errors:
        err_console.print(f"  {where}: {reason}", highlight=False, soft_wrap=True)
    return report


@app.command("import")
def import_playbooks(
    paths: list[Path] = typer.Argument(..., help="Playbook files or directories (searched recursively)"),
) -> None:
    """Store playbooks in the database; a changed playbook gets a new version. Exit 1 if any is invalid."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        err_console.print(f"[red]error:[/red] no such path: {', '.join(missing)}", highlight=False)
        raise typer.Exit(BAD_INPUT)
    if _import("playbooks", paths).errors:
        raise typer.Exit(1)


@app.command("import-showcase")
def import_showcase() -> None:
    """Import the six bundled showcase playbooks, disabled."""
    _import("showcase playbooks", None)
