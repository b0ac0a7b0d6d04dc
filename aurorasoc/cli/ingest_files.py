"""Reading log files and running them through detection for ``aurorasoc ingest`` (and ``--follow``)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from aurorasoc.alerts.events import ALERTS_STREAM
from aurorasoc.cli.common import console
from aurorasoc.core.bus.base import DEAD_LETTER, BusMessage
from aurorasoc.core.bus.current import set_bus
from aurorasoc.core.bus.inprocess import InProcessBus
from aurorasoc.core.db import get_session_factory
from aurorasoc.core.heap import keep_long_lived
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.parsers import LimitExceeded, ParseError, parse_file
from aurorasoc.siem.pipeline import BatchResult, DetectionPipeline
from aurorasoc.siem.repair import repair
from aurorasoc.siem.sources import IMPORT_KIND, IngestCount, count_ingest_many
from aurorasoc.workers.alert_pipeline import PIPELINE_BATCH, PIPELINE_GROUP, handle_alert_events

LOG_SUFFIXES = frozenset(
    {".evtx", ".json", ".ndjson", ".jsonl", ".log", ".gz", ".txt", ".eve", ".cef", ".syslog"}
)

SHOWN_ERRORS = 20
LOCAL_DELIVERIES = 2  # tries per alert event in a CLI import's own alert pipeline
LOCAL_BACKOFF_SECONDS = 0.1


@dataclass
class IngestReport:
    """Totals of one run; ``failed_files``: nothing could be parsed, or the input was refused (a bomb)."""

    files: int = 0
    result: BatchResult = field(default_factory=BatchResult)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    failed_files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cases_created: int = 0
    alerts_filed: int = 0
    repaired: int = 0  # events stored with NULs, invalid UTF-8 or oversized values mended (siem.repair)
    uncorrelated: int = 0  # alert events the case correlation failed on (their alerts are stored)
    correlation_error: str = ""

    def error(self, path: Path, position: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < SHOWN_ERRORS:
            self.errors.append(f"{path}:{position}: {message}")


def collect_files(paths: list[Path]) -> list[Path]:
    """Files named directly, plus log-looking files found recursively under directories."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in LOG_SUFFIXES)
            )
        else:
            found.append(path)
    return found


@dataclass
class FileTally:
    """One file's counts, kept for its ``log_sources`` row."""

    events: int = 0
    errors: int = 0
    latest: datetime | None = None
    refused: bool = False


def _events(
    path: Path, fmt: str, source: str | None, report: IngestReport, progress: Progress, task: TaskID
) -> tuple[FileTally, Iterator[NormalizedEvent]]:
    tally = FileTally()

    def generate() -> Iterator[NormalizedEvent]:
        """The file's events; parse errors are recorded, and a file yielding none counts as failed."""
        try:
            for item in parse_file(path, format=fmt, source=source):
                if isinstance(item, ParseError):
                    tally.errors += 1
                    tally.refused = tally.refused or isinstance(item, LimitExceeded)
                    report.error(path, item.position, item.message)
                    continue
                tally.events += 1
                if tally.latest is None or item.timestamp > tally.latest:
                    tally.latest = item.timestamp
                if tally.events % 500 == 0:
                    progress.advance(task, 500)
                # as the HTTP and stream lanes do: a NUL in one request line (the EVTX samples' access
                # log) made PostgreSQL refuse the batch and ended the whole import
                if (fixed := repair(item)) is not item:
                    report.repaired += 1
                yield fixed
        except OSError as exc:
            tally.errors += 1
            report.error(path, "file", exc.strerror or str(exc))
        finally:
            progress.advance(task, tally.events % 500)
            if (tally.events == 0 and tally.errors) or tally.refused:
                report.failed_files.append(str(path))

    return tally, generate()


async def _count_sources(tallies: list[tuple[Path, FileTally]], fmt: str, source: str | None) -> None:
    """Each file's ``log_sources`` counts, in one transaction once the files are stored."""
    counts = [
        IngestCount((source or path.name)[:128], tally.events, tally.errors, tally.latest)
        for path, tally in tallies
    ]
    async with get_session_factory()() as session:
        await count_ingest_many(session, counts, kind=IMPORT_KIND, format=fmt)
        await session.commit()


@contextlib.asynccontextmanager
async def local_alert_pipeline(report: IngestReport) -> AsyncIterator[None]:
    """Run the alert pipeline (case correlation) in this process while the body runs.

    A CLI import has no API process behind it, so it files its own alerts into cases through the
    same ``alert-pipeline`` handler the API uses, and waits for it to drain before returning. A
    failing handler is retried once, briefly, then counted in the report: the server's retry
    schedule (five deliveries, backing off to 8 s, one message at a time) would hold an import
    of a thousand alerts for hours.
    """
    bus = InProcessBus(max_deliveries=LOCAL_DELIVERIES, backoff_base=LOCAL_BACKOFF_SECONDS)
    set_bus(bus)

    async def _failed(messages: list[BusMessage]) -> None:
        for message in messages:
            if message.data.get("source_stream") == ALERTS_STREAM:
                report.uncorrelated += 1
                report.correlation_error = report.correlation_error or str(message.data.get("error", ""))

    async def _correlate(messages: list[BusMessage]) -> None:
        for result in await handle_alert_events(messages, bus):
            if result.case_id is not None:
                report.alerts_filed += 1
                report.cases_created += int(result.created)

    bus.subscribe_batch(ALERTS_STREAM, PIPELINE_GROUP, _correlate, batch_size=PIPELINE_BATCH)
    bus.subscribe_batch(DEAD_LETTER, "ingest-report", _failed)
    await bus.start()
    try:
        yield
        await bus.join(ALERTS_STREAM, PIPELINE_GROUP)
        await bus.join(DEAD_LETTER, "ingest-report")
    finally:
        await bus.close()
        set_bus(None)


async def ingest_files(files: list[Path], engine: SigmaEngine, fmt: str, source: str | None) -> IngestReport:
    """Store, detect and correlate ``files``; the rules loaded so far live as long as the run.

    They are moved out of the cyclic collector's reach (``keep_long_lived``): a few million
    long-lived objects would otherwise be re-traversed by every full collection the ingest's
    short-lived events trigger (~10 % of the run's CPU on the SigmaHQ rule set).
    """
    keep_long_lived()
    report = IngestReport()
    async with local_alert_pipeline(report):
        await _detect(files, engine, fmt, source, report)
    return report


async def _detect(
    files: list[Path], engine: SigmaEngine, fmt: str, source: str | None, report: IngestReport
) -> None:
    """All files through one pipeline stream: a batch may span files, so small files share commits."""
    pipeline = DetectionPipeline(engine)
    started = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    tallies: list[tuple[Path, FileTally]] = []
    with Progress(*columns, console=console, transient=True) as progress:
        files_task = progress.add_task("files", total=len(files))
        events_task = progress.add_task("events", total=None)

        def stream() -> Iterator[NormalizedEvent]:
            for path in files:
                tally, events = _events(path, fmt, source, report, progress, events_task)
                tallies.append((path, tally))
                yield from events
                report.files += 1
                progress.advance(files_task)

        report.result.merge(await pipeline.process(stream()))
    await _count_sources(tallies, fmt, source)
    report.seconds = time.perf_counter() - started
