"""``aurorasoc rules update|rollback|packs|policy``: SigmaHQ (or any Sigma archive) as a versioned pack."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from aurorasoc.cli.common import CLI_ACTOR, console, ensure_schema, fail, run
from aurorasoc.core.config import Settings, get_settings
from aurorasoc.core.db import session_scope
from aurorasoc.detection.models import RulePackModel
from aurorasoc.detection.packs import DEFAULT_PACK, LEVELS, PackReport, RulePackService
from aurorasoc.detection.packs_archive import ArchiveRefused, open_archive

BAD_INPUT = 2


def print_report(report: PackReport, action: str, show: int) -> None:
    console.print(
        f"{action} pack {report.name} version {report.version}: {report.compiled} of {report.rules} rules "
        f"compiled ({report.compile_ratio:.1%}); {report.added} added, {report.updated} updated, "
        f"{report.removed} removed, {len(report.skipped)} skipped (id held by another rule)",
        highlight=False,
    )
    if report.failures:
        console.print(f"{len(report.failures)} not compiled (first {min(show, len(report.failures))}):")
    for where, reason in [*report.failures[:show], *report.skipped[:show]]:
        console.print(f"  {where}: {reason}", highlight=False, soft_wrap=True)


def update(
    source: str | None = typer.Option(
        None, "--source", help="URL, zip/tar file or directory (default: AURORA_RULE_PACK_SOURCE, SigmaHQ)"
    ),
    sha256: str | None = typer.Option(None, "--sha256", help="Refuse the archive unless it has this digest"),
    name: str = typer.Option(DEFAULT_PACK, "--name", help="Pack name"),
    timeout: float = typer.Option(60.0, "--timeout", help="Download timeout in seconds"),
    show: int = typer.Option(10, "--show", help="How many failures to list"),
) -> None:
    """Fetch a Sigma rule archive, check it, compile it and install it as the pack's next version."""
    src = source or get_settings().detection.rule_pack_source
    if not src.startswith(("http://", "https://")) and not Path(src).exists():
        fail(f"no such file or directory: {src}", code=BAD_INPUT)
    ensure_schema()
    try:
        archive = open_archive(src, sha256=sha256, timeout=timeout)
    except ArchiveRefused as exc:
        fail(f"archive refused, nothing imported: {exc}")
    except OSError as exc:
        fail(f"cannot fetch the archive, nothing imported: {exc}")

    async def _install() -> PackReport:
        async with session_scope() as session:
            return await RulePackService(session, actor=CLI_ACTOR).install(archive, name=name)

    report = run(_install)
    print_report(report, "installed", show)
    if archive.license is None and name != DEFAULT_PACK:
        console.print("note: the archive carries no LICENSE file", highlight=False)


def install_default_pack(settings: Settings) -> str:
    """Try the default pack with a short timeout; one plain sentence says what happened.

    Nothing to do when the pack is already there (``aurorasoc rules update --source`` before the first
    ``serve``): offline, the attempt would claim only the bundled rules run."""
    source = settings.detection.rule_pack_source
    command = "aurorasoc rules update"

    async def _installed() -> list[RulePackModel]:
        async with session_scope() as session:
            return await RulePackService(session).versions(DEFAULT_PACK)

    if run(_installed):
        return ""
    try:
        archive = open_archive(source, timeout=settings.detection.rule_pack_timeout_seconds)
    except (OSError, ArchiveRefused) as exc:
        return (
            f"Rule packs: could not fetch SigmaHQ ({exc}); running the bundled rules only. "
            f"Add the SigmaHQ rules any time with: {command}"
        )

    async def _install() -> PackReport:
        async with session_scope() as session:
            return await RulePackService(session).install(archive)

    report = run(_install)
    return (
        f"Rule packs: installed SigmaHQ ({report.compiled} of {report.rules} rules compiled) from {source}; "
        f"update with: {command}, undo with: aurorasoc rules rollback"
    )


def rollback(name: str = typer.Option(DEFAULT_PACK, "--name", help="Pack name")) -> None:
    """Put the pack's previous version back (its rules, their YAML; per-rule enabled flags are kept)."""
    ensure_schema()

    async def _rollback() -> PackReport:
        async with session_scope() as session:
            return await RulePackService(session, actor=CLI_ACTOR).rollback(name)

    print_report(run(_rollback), "rolled back to", 0)


def packs() -> None:
    """The installed packs: version, source, digest, compiled count, policy, licence."""
    ensure_schema()

    async def _list() -> list[tuple[str, ...]]:
        async with session_scope() as session:
            return [
                (
                    row.name, str(row.version), f"{row.compiled}/{row.rule_count}",
                    ",".join(row.statuses), row.min_level, row.source, row.sha256[:16],
                    (row.attribution or (row.license or "").split("\n", 1)[0])[:80],
                )
                for row in await RulePackService(session).current()
            ]  # fmt: skip

    rows = run(_list)
    columns = ("pack", "version", "compiled", "statuses", "min level", "source", "sha256", "licence")
    table = Table(*columns, title=f"{len(rows)} rule packs")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def policy(
    name: str = typer.Argument(DEFAULT_PACK, help="Pack name"),
    status: list[str] = typer.Option(["stable", "test"], "--status", help="Statuses that run (repeatable)"),
    min_level: str = typer.Option("low", "--min-level", help=f"One of {', '.join(LEVELS)}"),
) -> None:
    """Set which of the pack's rules run: their statuses and the minimum level."""
    ensure_schema()

    async def _set() -> None:
        async with session_scope() as session:
            service = RulePackService(session, actor=CLI_ACTOR)
            await service.set_policy(name, statuses=[s.lower() for s in status], min_level=min_level.lower())

    run(_set)
    console.print(f"pack {name}: statuses {', '.join(status)}, level >= {min_level}", highlight=False)
