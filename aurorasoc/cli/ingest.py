"""``aurorasoc ingest PATH...``: one-shot import of log files through the detection pipeline."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import structlog
import typer
from rich.table import Table

from aurorasoc.cli.common import console, ensure_schema, fail, run
from aurorasoc.cli.ingest_enqueue import enqueue as enqueue_events
from aurorasoc.cli.ingest_files import IngestReport, collect_files, ingest_files
from aurorasoc.cli.ingest_follow import follow as follow_files
from aurorasoc.core.config import get_settings
from aurorasoc.core.db import get_session_factory
from aurorasoc.detection.rules import import_startup_rules, load_engine
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.parsers.detect import canonical_format

SHOWN_RULES = 15


@contextmanager
def _quiet_info_logs() -> Iterator[None]:
    """One info line per alert would drown the progress bar; the summary reports the totals."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        yield
    finally:
        structlog.configure(**saved)


def _summary(report: IngestReport) -> Table:
    result = report.result
    rate = result.events / report.seconds if report.seconds > 0 else 0.0
    table = Table(title="Ingest summary", show_header=False)
    table.add_column("metric")
    table.add_column("value", overflow="fold")
    rows = [
        ("files", str(report.files)),
        ("events", str(result.events)),
        ("already stored", str(result.replayed)),  # skipped: a re-import adds nothing (spec §27.5)
        ("parse errors", str(report.error_count)),
        ("repaired", str(report.repaired)),  # stored with NUL / invalid UTF-8 / oversized values mended
        ("files failed", str(len(report.failed_files))),
        ("alerts created", str(result.alerts_created)),
        ("dedup hits", str(result.deduplicated)),
        ("cases created", str(report.cases_created)),
        ("alerts in cases", str(report.alerts_filed)),
        ("events/s", f"{rate:,.0f}"),
    ]
    rows += [
        (f"hits: {result.rule_titles[uid]}", str(n)) for uid, n in result.rule_hits.most_common(SHOWN_RULES)
    ]
    rows += [("error", line) for line in report.errors]
    if report.uncorrelated:
        detail = f"{report.uncorrelated} alert event(s) not filed in cases: {report.correlation_error}"
        rows.append(("correlation failed", detail))
    for name, value in rows:
        table.add_row(name, value)
    return table


def _load_rules(rule_dirs: list[Path], bundled: bool, packs: bool) -> SigmaEngine:
    """The rules the server runs, plus the ``--rules`` files and directories.

    That is every enabled rule stored: the bundled pack and ``AURORA_SIGMA_RULE_PATHS`` (imported
    here as ``serve`` does at start), ``aurorasoc rules import``, rules written in the console, and
    the installed packs as their policies allow; with the stored rule exceptions. A rule disabled in
    the console stays off here too.
    """

    async def _stored() -> SigmaEngine:
        async with get_session_factory()() as session:
            await import_startup_rules(session, get_settings())
            await session.commit()
            return await load_engine(session, bundled=bundled, packs=packs)

    engine = run(_stored)
    engine.add_paths(rule_dirs)
    console.print(f"{sum(r.supported for r in engine.rules.values())} Sigma rules loaded", highlight=False)
    return engine


def ingest(
    paths: list[Path] = typer.Argument(..., help="Log files or directories (searched recursively)."),
    format: str = typer.Option(
        "auto",
        "--format",
        help="auto, json, ndjson, syslog, cef, eve, zeek, evtx, auditd, weblog, w3c (iis), line.",
    ),
    source: str | None = typer.Option(None, "--source", help="Log-source name (default: the file name)."),
    rules: list[Path] = typer.Option([], "--rules", help="Extra Sigma rule directory or file (repeatable)."),
    no_bundled: bool = typer.Option(False, "--no-bundled", help="Do not load the bundled rule pack."),
    no_packs: bool = typer.Option(False, "--no-packs", help="Do not load installed packs (rules update)."),
    follow: bool = typer.Option(
        False, "--follow", "-f", help="Keep tailing the files (new lines, rotation) until Ctrl-C."
    ),
    enqueue: bool = typer.Option(
        False, "--enqueue", help="Queue the events for `aurorasoc worker --role detection` (needs Redis)."
    ),
) -> None:
    """One-shot import: store the events, run the Sigma rules, raise alerts, print a summary."""
    try:
        fmt = canonical_format(format)
    except ValueError as exc:
        fail(str(exc), code=2)
    missing = [str(p) for p in [*paths, *rules] if not p.exists()]
    if missing:
        fail(f"no such file or directory: {', '.join(missing)}", code=2)
    files = collect_files(paths)
    if not files and not follow:
        fail("no log files found under the given paths", code=2)
    if enqueue:
        return enqueue_events(files, fmt, source)
    ensure_schema()
    engine = _load_rules(rules, bundled=not no_bundled, packs=not no_packs)
    with _quiet_info_logs():
        if follow:
            report = run(lambda: follow_files(paths, engine, fmt, source))
        else:
            report = run(lambda: ingest_files(files, engine, fmt, source))
    console.print(_summary(report))
    if report.failed_files:
        shown = ", ".join(report.failed_files[:5])
        fail(f"{len(report.failed_files)} file(s) could not be parsed at all or were refused: {shown}")
    if report.uncorrelated:
        failed = report.uncorrelated
        fail(f"the events and alerts are stored, but {failed} alert event(s) could not be filed in cases")
