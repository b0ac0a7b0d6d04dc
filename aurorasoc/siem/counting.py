"""How many stored events match a search: exact when that is cheap, otherwise a flagged estimate.

On PostgreSQL ``siem_logs`` is partitioned by day and each day has its own full-text index. A
phrase of common words (``"failed password for user042"``) costs every day's index a walk of the
common words' postings whatever the number of matches: ~5 ms per day, so 325 ms over the 60 days
of 10M events, where the first page (the newest days) took a few. The total is therefore counted
over the newest days that hold events first, within a time budget; when the rest of the days
would not fit it, the matches counted so far are scaled by the share of those days they covered,
and the total is flagged as an estimate. Counting by days that hold events (not by calendar time)
keeps an import spread over years (EVTX samples from 2017 to 2021) from being scaled by its empty
years, and prices the rest by what it costs: one index per day. A count that is cheap everywhere
(a field, a rare word) finishes within the budget and stays exact.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as day_start

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.siem.models import SiemLogModel

COUNT_CAP = 100_000
COUNT_BUDGET_SECONDS = 0.04  # PostgreSQL: counting goes on only while the rest is expected to fit this
COUNT_DAYS = 7  # PostgreSQL: the newest days counted first (then twice as many each time)
MIN_SAMPLE = 100  # matches counted before any estimate: fewer say too little about the rest


@dataclass(frozen=True)
class Total:
    """Matches counted up to ``COUNT_CAP + 1``; ``estimated``: scaled from the newest days."""

    matched: int
    estimated: bool = False


async def capped_count(session: AsyncSession, clauses: Sequence[ColumnElement[bool]]) -> int:
    """Matches up to ``COUNT_CAP + 1``; a constant is selected so an index alone can answer."""
    window = select(literal(1)).select_from(SiemLogModel).where(*clauses).limit(COUNT_CAP + 1).subquery()
    return int(await session.scalar(select(func.count()).select_from(window)) or 0)


def extrapolate(counted: int, covered_days: int, days: int) -> int:
    """``counted`` matches over the newest ``covered_days`` of ``days``, as many on every day."""
    if covered_days >= days or covered_days <= 0:
        return counted
    return round(counted * days / covered_days)


async def budgeted_count(
    session: AsyncSession,
    clauses: Sequence[ColumnElement[bool]],
    days: Sequence[date],
    *,
    budget: float | None = None,
    first_days: int | None = None,
) -> Total:
    """Count the newest ``first_days`` of ``days`` (the days holding events the search can match,
    oldest first), then the rest: in one statement when the pace so far says it fits the
    ``budget``, otherwise scaled from what was counted once that is ``MIN_SAMPLE`` matches (see
    the module). Fewer matches keep the count going over twice as many days each time: an
    estimate from a handful would say "about none" of a search whose older matches the page shows."""
    budget = COUNT_BUDGET_SECONDS if budget is None else budget
    stretch = first_days or COUNT_DAYS
    ts = SiemLogModel.timestamp
    started, counted, newest = time.monotonic(), 0, len(days)
    end: datetime | None = None  # counted from here on
    while True:
        oldest = newest - stretch
        if oldest <= 0:  # the rest holds every older event (and any outside the listed days)
            return Total(counted + await capped_count(session, [*clauses, *_before(end)]))
        start = datetime.combine(days[oldest], day_start.min, UTC)
        counted += await capped_count(session, [*clauses, ts >= start, *_before(end)])
        spent, covered = time.monotonic() - started, len(days) - oldest
        if counted > COUNT_CAP:
            return Total(counted)
        if spent * (1 + oldest / covered) <= budget:  # the rest, at the same pace per day, fits
            return Total(counted + await capped_count(session, [*clauses, ts < start]))
        if counted >= MIN_SAMPLE:
            return Total(min(extrapolate(counted, covered, len(days)), COUNT_CAP + 1), estimated=True)
        newest, end, stretch = oldest, start, stretch * 2


def _before(end: datetime | None) -> list[ColumnElement[bool]]:
    return [] if end is None else [SiemLogModel.timestamp < end]
