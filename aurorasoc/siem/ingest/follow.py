"""Follow growing log files and feed their events to a sink (spec §13.1 *Files*).

Each followed file is a ``log_sources`` row (kind ``file``) holding its ``offset`` and ``inode``, so
a restarted follower resumes where it stopped. The position is saved only after the sink (the
detection pipeline) has stored the events: a crash in between re-reads them rather than losing them.
In ``dummy`` mode the follower pauses.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aurorasoc.core import runtime
from aurorasoc.core.vocabulary import NormalizedEvent, RuntimeMode
from aurorasoc.siem.ingest.files import TailChunk, TailPosition, read_new
from aurorasoc.siem.models import LogSourceModel
from aurorasoc.siem.sources import record_ingest

log = logging.getLogger(__name__)
Sink = Callable[[list[NormalizedEvent]], Awaitable[object]]


def expand(patterns: Iterable[str]) -> list[Path]:
    """The regular files the glob patterns name today (``~`` expanded, ``**`` recursive)."""
    found = {
        Path(p)
        for pattern in patterns
        for p in glob.glob(str(Path(pattern).expanduser()), recursive=True)
        if Path(p).is_file()
    }
    return sorted(found)


def split_patterns(value: str) -> list[str]:
    """``AURORA_INGEST_PATHS`` is a comma- or ``os.pathsep``-separated list of globs."""
    return [p.strip() for p in value.replace(";", ",").replace(":", ",").split(",") if p.strip()]


@dataclass
class FollowTotals:
    events: int = 0
    parse_errors: int = 0
    files: int = 0


class FileFollower:
    """Polls files, hands new events to ``sink`` and persists positions per ``log_sources`` row."""

    def __init__(
        self,
        sink: Sink,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        format: str = "auto",
        source: str | None = None,
        on_error: Callable[[Path, str, str], None] | None = None,
    ) -> None:
        self.sink = sink
        self.session_factory = session_factory
        self.format = format
        self.source = source
        self.on_error = on_error
        self._positions: dict[Path, TailPosition] = {}

    async def poll(self, paths: Iterable[Path]) -> FollowTotals:
        """One pass over ``paths``; unreadable files are reported and retried next pass."""
        totals = FollowTotals()
        for path in paths:
            try:
                chunk = await self._read(path)
            except OSError as exc:
                self._report(path, "file", exc.strerror or str(exc))
                continue
            if chunk.events:
                await self.sink(chunk.events)
            for error in chunk.errors:
                self._report(path, error.position, error.message)
            await self._save(path, chunk)
            totals.files += 1
            totals.events += len(chunk.events)
            totals.parse_errors += len(chunk.errors)
        return totals

    async def run(
        self,
        discover: Callable[[], list[Path]],
        stop: asyncio.Event,
        *,
        interval: float = 1.0,
        on_poll: Callable[[FollowTotals], Awaitable[None]] | None = None,
    ) -> None:
        """Poll until ``stop`` is set; ``discover`` is asked each time, so new files are picked up."""
        while not stop.is_set():
            if runtime.current_mode() is not RuntimeMode.DUMMY:
                totals = await self.poll(discover())
                if on_poll is not None:
                    await on_poll(totals)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    def _report(self, path: Path, position: str, message: str) -> None:
        if self.on_error is not None:
            self.on_error(path, position, message)
        else:
            log.warning("ingest error in %s at %s: %s", path, position, message)

    async def _read(self, path: Path) -> TailChunk:
        if path not in self._positions:
            self._positions[path] = await self._load(path)
        return await asyncio.to_thread(
            read_new, path, self._positions[path], format=self.format, source=self.source
        )

    async def _row(self, session: AsyncSession, path: Path) -> LogSourceModel:
        row = await session.scalar(select(LogSourceModel).where(LogSourceModel.path == str(path)))
        if row is None:
            name = path.name if await _name_free(session, path.name) else f"{path.parent.name}/{path.name}"
            row = LogSourceModel(name=name[-128:], kind="file", format=self.format, path=str(path))
            session.add(row)
            await session.flush()
        return row

    async def _load(self, path: Path) -> TailPosition:
        async with self.session_factory() as session:
            row = await self._row(session, path)
            await session.commit()
            return TailPosition(offset=row.offset, inode=row.inode)

    async def _save(self, path: Path, chunk: TailChunk) -> None:
        self._positions[path] = chunk.position
        async with self.session_factory() as session:
            row = await self._row(session, path)
            row.offset, row.inode = chunk.position.offset, chunk.position.inode
            await record_ingest(
                session,
                row.name,
                kind="file",
                format=self.format,
                events=len(chunk.events),
                parse_errors=len(chunk.errors),
                last_event_at=max((e.timestamp for e in chunk.events), default=None),
            )


async def _name_free(session: AsyncSession, name: str) -> bool:
    return await session.scalar(select(LogSourceModel.id).where(LogSourceModel.name == name)) is None
