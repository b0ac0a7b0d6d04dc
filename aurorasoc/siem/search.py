"""Stored events (``siem_logs``): search (query language + filters, newest first) and promotion.

A search looks at most at the newest ``SEARCH_CAP`` (1 000) matches: counting every match of a
substring search over a large table would cost more than the page itself, so ``total`` is capped
and ``truncated`` says more rows matched. Paging happens inside that window.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.cases.service import TITLE_MAX, CaseService
from aurorasoc.core.errors import InvalidInput, NotFound
from aurorasoc.core.models import CaseModel, SiemLogModel, TimelineEntryModel
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import CaseSource
from aurorasoc.siem.query import compile_query

SEARCH_CAP = 1_000
TimeRange = Literal["15m", "1h", "4h", "24h", "7d"]
RANGES: dict[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}


@dataclass(frozen=True)
class LogFilters:
    """Everything a search filters on; ``range`` is relative to the moment the search runs."""

    q: str | None = None
    range: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sources: Sequence[str] = field(default_factory=tuple)
    severities: Sequence[str] = field(default_factory=tuple)
    hosts: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.range is not None and self.range not in RANGES:
            raise InvalidInput(f"range must be one of {list(RANGES)}")
        if self.range and (self.since or self.until):
            raise InvalidInput("give either range or since/until, not both")
        if self.since and self.until and self.since > self.until:
            raise InvalidInput("'since' must not be after 'until'")

    def pinned(self, now: datetime | None = None) -> LogFilters:
        """The same filters with ``range`` turned into a fixed ``since`` (stable across queries)."""
        if not self.range:
            return self
        return replace(self, range=None, since=(now or utcnow()) - RANGES[self.range])

    def clauses(self) -> list[ColumnElement[bool]]:
        """SQL conditions; bad query syntax raises InvalidInput before anything runs."""
        clauses: list[ColumnElement[bool]] = []
        query = compile_query(self.q)
        if query is not None:
            clauses.append(query)
        since = self.pinned().since
        if since:
            clauses.append(SiemLogModel.timestamp >= since)
        if self.until:
            clauses.append(SiemLogModel.timestamp <= self.until)
        if self.sources:
            clauses.append(SiemLogModel.source.in_(self.sources))
        if self.severities:
            clauses.append(SiemLogModel.severity.in_(self.severities))
        if self.hosts:
            clauses.append(SiemLogModel.host.in_(self.hosts))
        return clauses


@dataclass(frozen=True)
class SearchResult:
    rows: list[SiemLogModel]
    total: int  # matches inside the capped window (≤ SEARCH_CAP)
    truncated: bool  # more than SEARCH_CAP rows matched


class SiemSearchService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, log_id: uuid.UUID) -> SiemLogModel:
        found = await self.session.get(SiemLogModel, log_id)
        if found is None:
            raise NotFound(f"log {log_id} does not exist", log_id=str(log_id))
        return found

    async def search(self, filters: LogFilters, *, skip: int = 0, limit: int = SEARCH_CAP) -> SearchResult:
        """One page of the newest ``SEARCH_CAP`` matches."""
        clauses = filters.clauses()
        window = select(SiemLogModel.id).where(*clauses).limit(SEARCH_CAP + 1).subquery()
        matched = int(await self.session.scalar(select(func.count()).select_from(window)) or 0)
        take = max(0, min(limit, SEARCH_CAP - skip))
        rows: list[SiemLogModel] = []
        if take:
            stmt = (
                select(SiemLogModel)
                .where(*clauses)
                .order_by(SiemLogModel.timestamp.desc(), SiemLogModel.id.desc())
                .offset(skip)
                .limit(take)
            )
            rows = list((await self.session.scalars(stmt)).all())
        return SearchResult(rows, min(matched, SEARCH_CAP), matched > SEARCH_CAP)

    async def count(self, filters: LogFilters) -> int:
        """Every match, uncapped (hunt runs report true hit counts)."""
        stmt = select(func.count()).select_from(SiemLogModel).where(*filters.clauses())
        return int(await self.session.scalar(stmt) or 0)


async def promote_log(
    session: AsyncSession,
    log: SiemLogModel,
    actor: str,
    *,
    rule_id: str | None = None,
    title: str | None = None,
    severity: str | None = None,
) -> CaseModel:
    """Open a ``siem_promotion`` case with the log on its timeline as evidence."""
    summary = (log.message or log.raw or f"{log.source} event").strip().splitlines()[0]
    created = await CaseService(session).create(
        title=title or f"SIEM: {summary}"[:TITLE_MAX],
        severity=severity or log.severity,
        actor=actor,
        description=log.message,
        source=CaseSource.SIEM_PROMOTION,
        details=f"Promoted from SIEM log {log.id}",
    )
    assets = [f"host:{log.host}" if log.host else "", f"user:{log.user_name}" if log.user_name else ""]
    created.affected_assets = [asset for asset in assets if asset]
    created.metadata_ = {"siem_log_ids": [str(log.id)], **({"rule_id": rule_id} if rule_id else {})}
    evidence = {
        "log_id": str(log.id),
        "timestamp": log.timestamp.isoformat(),
        "source": log.source,
        "host": log.host,
        "message": log.message,
        "rule_id": rule_id,
    }
    session.add(
        TimelineEntryModel(
            case_id=created.id,
            action="evidence_added",
            actor=actor,
            details=f"SIEM log {log.id}",
            data=evidence,
        )
    )
    await session.flush()
    return created
