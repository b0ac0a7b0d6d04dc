"""``aurorasoc ingest --follow``: keep tailing the files and print what each poll brought."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import datetime
from pathlib import Path

from aurorasoc.cli.common import console
from aurorasoc.cli.ingest_files import IngestReport, collect_files, local_alert_pipeline
from aurorasoc.core.db import get_session_factory
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.ingest.follow import FileFollower, FollowTotals
from aurorasoc.siem.pipeline import DetectionPipeline


async def follow(
    paths: list[Path], engine: SigmaEngine, fmt: str, source: str | None, *, interval: float = 1.0
) -> IngestReport:
    """Tail ``paths`` (files, or directories searched for log files) until SIGINT or SIGTERM."""
    report, stop, seen = IngestReport(), asyncio.Event(), set[Path]()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    pipeline = DetectionPipeline(engine)

    async def sink(events: list[NormalizedEvent]) -> None:
        report.result.merge(await pipeline.process(events))

    def discover() -> list[Path]:
        found = collect_files(paths)
        seen.update(found)
        return found

    async def status(totals: FollowTotals) -> None:
        if totals.events or totals.parse_errors:
            console.print(
                f"{datetime.now():%H:%M:%S} +{totals.events} events, +{totals.parse_errors} errors; "
                f"total {report.result.events} events, {report.result.alerts_created} alerts",
                highlight=False,
            )

    follower = FileFollower(
        sink,
        get_session_factory(),
        format=fmt,
        source=source,
        on_error=lambda path, position, message: report.error(path, position, message),
    )
    console.print(f"following {len(collect_files(paths))} file(s); Ctrl-C stops", highlight=False)
    started = time.perf_counter()
    async with local_alert_pipeline(report):
        await follower.run(discover, stop, interval=interval, on_poll=status)
    report.seconds, report.files = time.perf_counter() - started, len(seen)
    return report
