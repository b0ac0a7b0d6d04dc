"""``aurorasoc rules``: import/list stored rules, check a rule directory, test one rule against a log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from aurorasoc.cli import rule_packs
from aurorasoc.cli.common import console, ensure_schema, err_console, run
from aurorasoc.core.db import session_scope
from aurorasoc.detection.rules import BUNDLED_RULES, DetectionRuleService, ImportReport, RuleFilters
from aurorasoc.detection.schemas import RuleOut
from aurorasoc.detection.sigma.engine import CompiledRule, SigmaEngine
from aurorasoc.siem.parsers import ParseError, parse_file

app = typer.Typer(help="Sigma rule tools.", no_args_is_help=True)
app.command("update")(rule_packs.update)
app.command("rollback")(rule_packs.rollback)
app.command("packs")(rule_packs.packs)
app.command("policy")(rule_packs.policy)
__all__ = ["BUNDLED_RULES", "app"]
BAD_INPUT = 2


def _bad_input(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(BAD_INPUT)


@app.command("check")
def check(
    paths: list[Path] = typer.Argument(..., help="Rule files or directories (searched recursively)"),
    show: int = typer.Option(20, "--show", help="How many unsupported rules to list"),
) -> None:
    """Compile every rule and report how many compiled; list the rest with the reason."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise _bad_input(f"no such file or directory: {', '.join(missing)}")
    report = SigmaEngine.from_paths(paths).report
    console.print(
        f"{report.compiled} of {report.loaded} rules compiled ({report.compile_ratio:.1%}); "
        f"{len(report.unsupported)} unsupported"
    )
    table = Table("rule", "reason", title="Unsupported rules" if report.unsupported else None)
    for path, rule_id, reason in report.unsupported[:show]:
        table.add_row(f"{path} ({rule_id})" if rule_id else str(path), reason)
    if report.unsupported:
        console.print(table)


@app.command("test")
def test_rule(
    rule: str = typer.Argument(..., help="A rule file, or a rule id together with --rules DIR"),
    logfile: Path = typer.Argument(
        ..., help="A log file of any supported format (EVTX, JSON, syslog, CEF, EVE…)"
    ),
    rules_dir: list[Path] = typer.Option([], "--rules", help="Where to find RULE when it is an id"),
    log_format: str = typer.Option("auto", "--format", help="Log format (default: detect)"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Print the events RULE fires on. Exit 0 when it fired, 1 when it did not, 2 on bad input."""
    engine, target = _load_target(rule, rules_dir)
    if not logfile.is_file():
        raise _bad_input(f"no such log file: {logfile}")
    hits, events, errors = [], 0, []
    try:
        for item in parse_file(logfile, format=log_format):
            if isinstance(item, ParseError):
                errors.append(f"{item.position}: {item.message}")
                continue
            events += 1
            for hit in engine.evaluate(item):
                if hit.rule.id == target.id:
                    hits.append(
                        {
                            "timestamp": item.timestamp.isoformat(),
                            "host": item.host,
                            "fields": hit.matched_fields,
                        }
                    )
    except (OSError, ValueError) as exc:
        raise _bad_input(str(exc)) from None
    _print_result(target, logfile, events, hits, errors, as_json)
    raise typer.Exit(0 if hits else 1)


def _load_target(rule: str, rules_dir: list[Path]) -> tuple[SigmaEngine, CompiledRule]:
    rule_path = Path(rule)
    if rule_path.is_file():
        engine = SigmaEngine.from_paths([rule_path])
        compiled = [r for r in engine.rules.values() if r.supported] if engine.rules else []
        if not compiled:
            reasons = "; ".join(reason for _, _, reason in engine.report.unsupported) or "no rule in the file"
            raise _bad_input(f"{rule}: cannot be evaluated ({reasons})")
        return engine, compiled[0]
    if not rules_dir:
        raise _bad_input(f"{rule} is not a file; pass --rules DIR to look it up by id")
    engine = SigmaEngine.from_paths(rules_dir)
    target = engine.rules.get(rule)
    if target is None:
        raise _bad_input(f"no rule with id {rule} under {', '.join(map(str, rules_dir))}")
    if not target.supported:
        raise _bad_input(f"rule {rule} cannot be evaluated: {target.reason}")
    return engine, target


def _print_result(
    target: CompiledRule,
    logfile: Path,
    events: int,
    hits: list[dict[str, Any]],
    errors: list[str],
    as_json: bool,
) -> None:
    if as_json:
        payload = {
            "rule_id": target.id,
            "title": target.title,
            "events": events,
            "hits": hits,
            "parse_errors": errors,
        }
        console.print_json(json.dumps(payload, default=str))
        return
    verdict = "[green]fired[/green]" if hits else "[yellow]did not fire[/yellow]"
    console.print(f"{target.title} ({target.id}) {verdict} on {len(hits)} of {events} events in {logfile}")
    for hit in hits[:50]:
        console.print(f"  {hit['timestamp']} {hit['host'] or '-'} {hit['fields']}")
    for error in errors[:20]:
        err_console.print(f"  parse error at {error}")


@app.command("import")
def import_rules(
    paths: list[Path] = typer.Argument(..., help="Rule files or directories (searched recursively)"),
    show: int = typer.Option(10, "--show", help="How many problem files to list"),
) -> None:
    """Store the rules in the database (origin custom); re-import updates changed rules only.

    Enabled flags and hit counters of rules already stored are kept.
    """
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise _bad_input(f"no such file or directory: {', '.join(missing)}")
    ensure_schema()

    async def _import() -> ImportReport:
        async with session_scope() as session:
            return await DetectionRuleService(session).import_paths(paths, origin="custom", actor="cli")

    report = run(_import)
    console.print(
        f"{report.imported} imported, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.unsupported} unsupported, {len(report.skipped)} skipped, {len(report.errors)} not Sigma",
        highlight=False,
    )
    for where, reason in [*report.skipped, *report.errors][:show]:
        console.print(f"  {where}: {reason}", highlight=False, soft_wrap=True)


@app.command("list")
def list_rules(
    enabled: bool | None = typer.Option(None, "--enabled/--disabled", help="Only enabled / disabled rules"),
    level: str | None = typer.Option(None, "--level"),
    product: str | None = typer.Option(None, "--product", help="Logsource product, e.g. windows"),
    kind: str | None = typer.Option(None, "--kind", help="rule | correlation"),
    tag: str | None = typer.Option(None, "--tag", help="e.g. attack.t1059.001"),
    q: str | None = typer.Option(None, "--q", help="Text in the title, or an exact rule id"),
    limit: int = typer.Option(50, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """The stored rules with their state and hit counters."""
    ensure_schema()
    filters = RuleFilters(enabled, level, product, kind, tag, q)

    async def _list() -> tuple[list[RuleOut], int]:
        async with session_scope() as session:
            rows, total = await DetectionRuleService(session).list(filters, skip=0, limit=limit)
            return [RuleOut.model_validate(row) for row in rows], total

    rules, total = run(_list)
    if as_json:
        items = [rule.model_dump(mode="json") for rule in rules]
        console.print_json(json.dumps({"total": total, "items": items}))
        return
    columns = ("rule id", "title", "level", "logsource", "enabled", "supported", "hits")
    table = Table(*columns, title=f"{total} rules")
    for rule in rules:
        parts = (rule.logsource_product, rule.logsource_category, rule.logsource_service)
        logsource = "/".join(p for p in parts if p)
        table.add_row(
            rule.rule_uid, rule.title, rule.level or "-", logsource or "-", "yes" if rule.enabled else "no",
            "yes" if rule.supported else f"no: {rule.unsupported_reason}", str(rule.hit_count),
        )  # fmt: skip
    console.print(table)
