"""Every read the evidence tools make on the SIEM store, behind small functions.

Today they read the columns the store already has (``timestamp`` = the record's event time,
``host``, ``user_name``, ``event_id``) and the flattened EventData in ``fields``; when the store
gains indexed entity columns (spec §27.2, §28) only this module changes. Every query is bounded
(``limit``) so an investigation never scans the whole store.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.siem.models import SiemLogModel

PROCESS_CREATION_IDS = ("1", "4688")
LOGON_IDS = ("4624", "4625", "4634", "4647", "4648", "4672")
SCAN_LIMIT = 5000


@dataclass(frozen=True)
class Event:
    """A stored event as the evidence tools read it."""

    id: str
    time: datetime
    host: str | None
    user: str | None
    event_id: str | None
    source: str
    message: str
    fields: dict[str, Any]

    def get(self, *names: str) -> str | None:
        """The first non-empty field among ``names`` (EventData names differ across EIDs)."""
        for name in names:
            value = self.fields.get(name)
            if value not in (None, "", "-"):
                return str(value)
        return None


def _event(row: SiemLogModel) -> Event:
    return Event(
        str(row.id),
        row.timestamp,
        row.host,
        row.user_name,
        row.event_id,
        row.source,
        row.message or "",
        dict(row.fields or {}),
    )


async def _rows(session: AsyncSession, stmt: Select[tuple[SiemLogModel]]) -> list[Event]:
    return [_event(r) for r in (await session.scalars(stmt)).all()]


async def events_by_ids(session: AsyncSession, ids: Iterable[str]) -> list[Event]:
    keys = [uuid.UUID(i) for i in ids]
    if not keys:
        return []
    stmt = select(SiemLogModel).where(SiemLogModel.id.in_(keys)).order_by(SiemLogModel.timestamp)
    return await _rows(session, stmt)


def _window(stmt: Select[tuple[SiemLogModel]], start: datetime | None, end: datetime | None) -> Any:
    if start is not None:
        stmt = stmt.where(SiemLogModel.timestamp >= start)
    if end is not None:
        stmt = stmt.where(SiemLogModel.timestamp <= end)
    return stmt


async def host_events(
    session: AsyncSession,
    host: str,
    start: datetime | None,
    end: datetime | None,
    *,
    limit: int,
    event_ids: Sequence[str] = (),
) -> list[Event]:
    """Events on ``host`` (case-insensitive) in event-time order."""
    stmt = select(SiemLogModel).where(func.lower(SiemLogModel.host) == host.lower())
    if event_ids:
        stmt = stmt.where(SiemLogModel.event_id.in_(event_ids))
    stmt = _window(stmt, start, end).order_by(SiemLogModel.timestamp).limit(limit)
    return await _rows(session, stmt)


def user_matches(stored: str | None, user: str) -> bool:
    """``DOMAIN\\name`` matches ``name`` and vice versa; case-insensitive."""
    if not stored:
        return False
    a, b = stored.lower(), user.lower()
    return a == b or a.rsplit("\\", 1)[-1] == b.rsplit("\\", 1)[-1]


async def user_events(
    session: AsyncSession,
    user: str,
    start: datetime | None,
    end: datetime | None,
    *,
    limit: int,
    event_ids: Sequence[str] = (),
) -> list[Event]:
    """Events acted by or on ``user`` (the user column, or the Target/Subject names of the record)."""
    name = user.rsplit("\\", 1)[-1].lower()
    stmt = select(SiemLogModel).where(
        or_(func.lower(SiemLogModel.user_name).like(f"%{name}"), SiemLogModel.raw.ilike(f"%{name}%"))
    )
    if event_ids:
        stmt = stmt.where(SiemLogModel.event_id.in_(event_ids))
    stmt = _window(stmt, start, end).order_by(SiemLogModel.timestamp).limit(SCAN_LIMIT)
    found = [
        e
        for e in await _rows(session, stmt)
        if user_matches(e.user, user)
        or any(user_matches(e.get(f), user) for f in ("TargetUserName", "SubjectUserName", "User"))
    ]
    return found[:limit]


async def events_mentioning(session: AsyncSession, value: str, *, limit: int = SCAN_LIMIT) -> list[Event]:
    """Events whose record contains ``value`` (case-insensitive), oldest first."""
    like = f"%{value}%"
    stmt = (
        select(SiemLogModel)
        .where(or_(SiemLogModel.raw.ilike(like), SiemLogModel.message.ilike(like)))
        .order_by(SiemLogModel.timestamp)
        .limit(limit)
    )
    return await _rows(session, stmt)


async def known_host_count(session: AsyncSession) -> int:
    """How many hosts the store has seen (the denominator of prevalence)."""
    return int(await session.scalar(select(func.count(distinct(SiemLogModel.host)))) or 0)


async def alerts_near(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    host: str | None = None,
    address: str | None = None,
) -> list[AlertModel]:
    """Alerts whose events overlap ``[start, end]`` (event time), earliest first (at most 200): on
    ``host``, or, for an alert that names none (a web attack), from source ``address`` with no host.

    Through the entity indexes (``lower(host)`` / ``src_ip`` with ``last_seen_at``): a host seen in
    years of imports has thousands of alerts, and only those of the window matter.
    """
    if host is not None:
        entity = [func.lower(AlertModel.host) == host.lower()]
    else:
        entity = [AlertModel.src_ip == address, AlertModel.host.is_(None)]
    stmt = (
        select(AlertModel)
        .where(*entity, AlertModel.last_seen_at >= start, AlertModel.first_seen_at <= end)
        .order_by(AlertModel.first_seen_at, AlertModel.id)
        .limit(200)
    )
    return list((await session.scalars(stmt)).all())
