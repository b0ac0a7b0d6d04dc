"""Log sources (spec §13.1, §13.2): registry, ingest counters, health status and live rates.

Status rules: ``erroring`` when more than 5 % of the last 1 000 lines failed to parse,
``stale`` when a source that had events has received nothing for 15 minutes, else ``healthy``.
Silence is measured by arrival (``last_received_at``), never by event time: an import of 2019 logs
is not stale on arrival. A one-shot import (kind ``import``, ``aurorasoc ingest``) is never stale.
``log_sources`` keeps lifetime counters only, so the 1 000-line window is exact while a source
has seen ≤ 1 000 lines and is approximated by the latest ingest batch afterwards (batches under
``MIN_BATCH`` lines keep the previous verdict, so one bad line in a tiny batch does not flap).
``stale`` depends on the clock, so it is derived when read, not only when written.

Rates come from ``siem_logs.received_at`` (ingest time, so replays of old logs count too); "events
today" from the per-day counts of ``siem_entity_days`` (the UTC day of arrival, or of event time
when that is later).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import Conflict, InvalidInput, NotFound
from aurorasoc.core.metrics import EVENTS_INGESTED, EVENTS_PARSE_ERRORS
from aurorasoc.core.types import Unindexed, utcnow
from aurorasoc.siem.entity_days import entity_days
from aurorasoc.siem.models import LogSourceModel, SiemLogModel
from aurorasoc.siem.parsers.detect import FORMATS

ERROR_RATIO = 0.05
ERROR_WINDOW = 1_000
MIN_BATCH = 50
STALE_AFTER = timedelta(minutes=15)
IMPORT_KIND = "import"  # files stored once by ``aurorasoc ingest``
EPS_WINDOW = timedelta(minutes=1)
SOURCE_FORMATS = frozenset({"auto"} | FORMATS)
_EDITABLE = frozenset({"enabled", "passthrough_alerts", "format"})


def ingest_status(
    previous: str, *, total_lines: int, total_errors: int, batch_lines: int, batch_errors: int
) -> str:
    """``erroring`` or ``healthy`` after an ingest batch (totals already include the batch)."""
    if total_lines <= ERROR_WINDOW:
        lines, errors = total_lines, total_errors
    elif batch_lines >= MIN_BATCH:
        lines, errors = batch_lines, batch_errors
    else:
        return "erroring" if previous == "erroring" else "healthy"
    return "erroring" if lines and errors / lines > ERROR_RATIO else "healthy"


def effective_status(stored: str, kind: str, last_received_at: datetime | None, now: datetime) -> str:
    """The status to show now: silence for ``STALE_AFTER`` wins over the stored verdict, except for
    an import, which has nothing more to send."""
    if kind != IMPORT_KIND and last_received_at is not None and now - last_received_at > STALE_AFTER:
        return "stale"
    return stored


@dataclass(frozen=True)
class SourceStats:
    status: str
    eps: float  # average events/second over the last minute
    events_today: int  # received since 00:00 UTC


async def record_ingest(
    session: AsyncSession,
    source_name: str,
    *,
    kind: str,
    format: str,
    events: int,
    parse_errors: int,
    last_event_at: datetime | None,
) -> LogSourceModel:
    """Count one ingest batch against its source, creating the source on first sight, and commit
    (with whatever the caller staged for the same batch, e.g. a followed file's offset).

    Counters are incremented in SQL so concurrent writers do not lose updates.
    """
    source = await count_ingest(
        session,
        source_name,
        kind=kind,
        format=format,
        events=events,
        parse_errors=parse_errors,
        last_event_at=last_event_at,
    )
    await session.commit()
    return source


async def count_ingest(
    session: AsyncSession,
    source_name: str,
    *,
    kind: str,
    format: str,
    events: int,
    parse_errors: int,
    last_event_at: datetime | None,
) -> LogSourceModel:
    """``record_ingest`` without the commit: the caller commits several sources' counts at once."""
    count = IngestCount(source_name, events, parse_errors, last_event_at)
    return (await count_ingest_many(session, [count], kind=kind, format=format))[0]


@dataclass(frozen=True)
class IngestCount:
    """One file's or batch's counts for the source ``name``."""

    name: str
    events: int
    parse_errors: int
    last_event_at: datetime | None


def _merged(counts: Sequence[IngestCount]) -> dict[str, IngestCount]:
    merged: dict[str, IngestCount] = {}
    for count in counts:
        seen = merged.get(count.name)
        if seen is not None:
            latest = max((t for t in (seen.last_event_at, count.last_event_at) if t), default=None)
            count = IngestCount(
                count.name, seen.events + count.events, seen.parse_errors + count.parse_errors, latest
            )
        merged[count.name] = count
    return merged


async def count_ingest_many(
    session: AsyncSession, counts: Sequence[IngestCount], *, kind: str, format: str
) -> list[LogSourceModel]:
    """Count several sources' ingests (created on first sight), in one flush and two reads.

    ``aurorasoc ingest`` of a folder counts hundreds of files: one round trip per file cost more
    than storing their events. Counters are incremented in SQL so concurrent writers lose nothing.
    """
    merged = _merged(counts)
    sources = await _get_or_create_many(session, list(merged), kind=kind, format=format)
    now = utcnow()
    previous = {name: source.status for name, source in sources.items()}
    for name, count in merged.items():
        source = sources[name]
        EVENTS_INGESTED.labels(name).inc(count.events)
        EVENTS_PARSE_ERRORS.labels(name).inc(count.parse_errors)
        source.events_total = LogSourceModel.events_total + count.events
        source.parse_errors = LogSourceModel.parse_errors + count.parse_errors
        source.last_received_at = now
        latest = count.last_event_at
        if latest is not None and (source.last_event_at is None or latest > source.last_event_at):
            source.last_event_at = latest
    await session.flush()
    ids = [source.id for source in sources.values()]
    reread = select(LogSourceModel).where(LogSourceModel.id.in_(ids))
    await session.scalars(reread.execution_options(populate_existing=True))
    for name, count in merged.items():
        source = sources[name]
        source.status = ingest_status(
            previous[name],
            total_lines=source.events_total + source.parse_errors,
            total_errors=source.parse_errors,
            batch_lines=count.events + count.parse_errors,
            batch_errors=count.parse_errors,
        )
    return [sources[count.name] for count in counts]


async def _get_or_create_many(
    session: AsyncSession, names: list[str], *, kind: str, format: str
) -> dict[str, LogSourceModel]:
    """The sources named, in one read and (on first sight) one insert."""
    stmt = select(LogSourceModel).where(LogSourceModel.name.in_(names))
    sources = {source.name: source for source in (await session.scalars(stmt)).all()}
    missing = [name for name in names if name not in sources]
    if not missing:
        return sources
    try:
        async with session.begin_nested():
            created = [LogSourceModel(name=name, kind=kind, format=format) for name in missing]
            session.add_all(created)
        sources.update(zip(missing, created, strict=True))
    except IntegrityError:  # another writer created one of them first: one by one
        for name in missing:
            sources[name] = await _get_or_create(session, name, kind=kind, format=format)
    return sources


async def _get_or_create(session: AsyncSession, name: str, *, kind: str, format: str) -> LogSourceModel:
    stmt = select(LogSourceModel).where(LogSourceModel.name == name)
    found = (await session.scalars(stmt)).one_or_none()
    if found is not None:
        return found
    try:
        async with session.begin_nested():
            created = LogSourceModel(name=name, kind=kind, format=format)
            session.add(created)
        return created
    except IntegrityError:  # another writer created it first
        return (await session.scalars(stmt)).one()


class LogSourceService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list(self, *, skip: int, limit: int) -> tuple[builtins.list[LogSourceModel], int]:
        total = await self.session.scalar(select(func.count()).select_from(LogSourceModel))
        stmt = select(LogSourceModel).order_by(LogSourceModel.name).offset(skip).limit(limit)
        return builtins.list((await self.session.scalars(stmt)).all()), int(total or 0)

    async def get(self, source_id: uuid.UUID) -> LogSourceModel:
        found = await self.session.get(LogSourceModel, source_id)
        if found is None:
            raise NotFound(f"log source {source_id} does not exist", source_id=str(source_id))
        return found

    async def stats(self, sources: Sequence[LogSourceModel]) -> dict[uuid.UUID, SourceStats]:
        """Live status, EPS and today's count for each source, in two queries."""
        now = utcnow()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        names = [s.name for s in sources]
        last_minute = await self._counts_since(names, now - EPS_WINDOW)
        wanted = set(names)
        active = await entity_days(self.session, "source", midnight.date())
        today = {name: count for name, count, _ in active if name in wanted}
        return {
            s.id: SourceStats(
                status=effective_status(s.status, s.kind, s.last_received_at, now),
                eps=round(last_minute.get(s.name, 0) / EPS_WINDOW.total_seconds(), 3),
                events_today=today.get(s.name, 0),
            )
            for s in sources
        }

    async def _counts_since(self, names: Sequence[str], since: datetime) -> dict[str, int]:
        """Events received since ``since`` (a minute), read along arrival time: SQLite otherwise
        walked the source index to group by it, every row of a busy source (0.4 s at 1M events)."""
        if not names:
            return {}
        source = Unindexed(SiemLogModel.source)
        stmt = (
            select(source, func.count())
            .where(source.in_(names), SiemLogModel.received_at >= since)
            .group_by(source)
        )
        return {name: int(count) for name, count in (await self.session.execute(stmt)).all()}

    async def create(self, values: dict[str, Any]) -> LogSourceModel:
        """409 on a duplicate name; file sources need a path, HTTP sources take none."""
        _check_format(values.get("format", "auto"))
        if values["kind"] == "file" and not values.get("path"):
            raise InvalidInput("a file source needs a path")
        if values["kind"] == "http" and values.get("path"):
            raise InvalidInput("path only applies to file sources")
        exists = await self.session.scalar(
            select(LogSourceModel.id).where(LogSourceModel.name == values["name"])
        )
        if exists is not None:
            raise Conflict(
                f"log source {values['name']!r} already exists", code="duplicate", source_id=str(exists)
            )
        source = LogSourceModel(**values)
        try:
            async with self.session.begin_nested():
                self.session.add(source)
        except IntegrityError:
            raise Conflict(f"log source {values['name']!r} already exists", code="duplicate") from None
        return source

    async def update(self, source: LogSourceModel, changes: dict[str, Any]) -> dict[str, Any]:
        """Toggle ``enabled`` / ``passthrough_alerts`` or change ``format``; returns what changed."""
        unknown = set(changes) - _EDITABLE
        if unknown:
            raise InvalidInput(f"cannot change {sorted(unknown)}")
        if "format" in changes:
            _check_format(changes["format"])
        changed = {k: v for k, v in changes.items() if getattr(source, k) != v}
        for name, value in changed.items():
            setattr(source, name, value)
        if changed:
            source.updated_at = utcnow()
            await self.session.flush()
        return changed

    async def register(self, values: dict[str, Any], *, actor: Actor) -> LogSourceModel:
        """Validate and store a new source; audited with its fields; committed."""
        source = await self.create(values)
        await actor.audit(
            self.session, "log_source.create", ("log_source", str(source.id)), {"after": values}
        )
        await self.session.commit()
        return source

    async def change(self, source_id: uuid.UUID, changes: dict[str, Any], *, actor: Actor) -> LogSourceModel:
        """Apply a PATCH; audited when something really changed; committed."""
        source = await self.get(source_id)
        changed = await self.update(source, changes)
        if changed:
            await actor.audit(
                self.session, "log_source.update", ("log_source", str(source.id)), {"after": changed}
            )
        await self.session.commit()
        return source


def _resource(source: LogSourceModel) -> tuple[str, str]:
    return ("log_source", str(source.id))


def _check_format(value: str) -> None:
    if value not in SOURCE_FORMATS:
        raise InvalidInput(f"format must be one of {sorted(SOURCE_FORMATS)}")
