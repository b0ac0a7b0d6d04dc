"""The API's file-ingest service: tail ``AURORA_INGEST_PATHS`` for the lifetime of the process."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from aurorasoc.core.db import get_session_factory
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.siem.ingest.follow import FileFollower, expand, split_patterns
from aurorasoc.siem.log_stream import PipelineFactory
from aurorasoc.siem.repair import process_isolated

log = structlog.get_logger(__name__)


class FileIngestService:
    """Started and stopped by the API lifespan (embedded mode) when ingest paths are configured.

    Events go straight through the detection pipeline rather than over the bus: a file position is
    saved only once its events are stored, so a crash re-reads instead of losing lines.
    """

    def __init__(self, patterns: str, pipeline_factory: PipelineFactory, *, interval: float = 1.0) -> None:
        self.patterns = split_patterns(patterns)
        self.pipeline_factory = pipeline_factory
        self.interval = interval
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _sink(self, events: list[NormalizedEvent]) -> None:
        await process_isolated(await self.pipeline_factory(), events, source="file-ingest")

    async def _run(self) -> None:
        follower = FileFollower(self._sink, get_session_factory())
        while not self._stop.is_set():
            try:
                await follower.run(lambda: expand(self.patterns), self._stop, interval=self.interval)
            except Exception:  # a database or rule error must not end tailing for good
                log.exception("file_ingest_failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=5 * self.interval)

    async def start(self) -> None:
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self._run(), name="file-ingest")
            log.info("file_ingest_started", patterns=self.patterns)

    async def stop(self) -> None:
        if self._task is not None:
            self._stop.set()
            await self._task
            self._task = None
