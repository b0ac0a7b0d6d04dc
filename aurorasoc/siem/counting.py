"""How many stored events match a search: exact when that is cheap, otherwise a flagged estimate.

On PostgreSQL ``siem_logs`` is partitioned by day and each day has its own full-text index. A
phrase of common words (``"failed password for user042"``) costs every day's index a walk of the
common words' postings whatever the number of matches: ~5 ms per day, so 325 ms over the 60 days
of 10M events, where the first page (the newest days) took a few. The total is therefore counted
over the newest days that hold events first, within a time budget; when the rest would not fit
it and holds at least ``ESTIMATE_ROWS`` events (PostgreSQL's statistics of the day partitions),
the matches counted so far are scaled by the share of the events they covered, and the total is
flagged as an estimate. Scaling by events, not calendar time, keeps an import spread over years
(EVTX samples from 2017 to 2021) from being scaled by its empty years; a smaller store, or a count
that is cheap everywhere (a field, a rare word), stays exact whatever the machine's load.
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
ESTIMATE_ROWS = 1_000_000  # events left to count below which the count always finishes, exact
Day = tuple[date, int]  # a day that holds events, and how many (statistics: 0 when not yet known)


@dataclass(frozen=True)
class Total:
    """Matches counted up to ``COUNT_CAP + 1``; ``estimated``: scaled from the newest days."""

    matched: int
    estimated: bool = False


async def capped_count(session: AsyncSession, clauses: Sequence[ColumnElement[bool]]) -> int:
    """Matches up to ``COUNT_CAP + 1``; a constant is selected so an index alone can answer."""
    window = select(literal(1)).select_from(SiemLogModel).where(*clauses).limit(COUNT_CAP + 1).subquery()
    return int(await session.scalar(select(func.count()).select_from(window)) or 0)


def extrapolate(counted: int, covered: Sequence[Day], days: Sequence[Day]) -> int:
    """``counted`` matches in the ``covered`` days, at the same rate per event in all ``days`` (per
    day where the statistics know no events yet)."""
    weight = sum(rows for _, rows in covered)
    total = sum(rows for _, rows in days)
    if not weight or not total:
        weight, total = len(covered), len(days)
    return counted if weight >= total or not weight else round(counted * total / weight)


async def budgeted_count(
    session: AsyncSession,
    clauses: Sequence[ColumnElement[bool]],
    days: Sequence[Day],
    *,
    budget: float | None = None,
    first_days: int | None = None,
) -> Total:
    """Count the newest ``first_days`` of ``days`` (those holding events the search can match,
    oldest first), then the rest: in one statement when the pace so far says it fits the
    ``budget`` or it holds fewer than ``ESTIMATE_ROWS`` events; otherwise scaled from what was
    counted once that is ``MIN_SAMPLE`` matches (see the module). Fewer matches keep the count going
    over twice as many days each time: an estimate from a handful would say "about none" of a
    search whose older matches the page shows."""
    budget = COUNT_BUDGET_SECONDS if budget is None else budget
    stretch = first_days or COUNT_DAYS
    ts = SiemLogModel.timestamp
    started, counted, newest = time.monotonic(), 0, len(days)
    end: datetime | None = None  # counted from here on
    while True:
        oldest = newest - stretch
        if oldest <= 0:  # the rest holds every older event (and any outside the listed days)
            return Total(counted + await capped_count(session, [*clauses, *_before(end)]))
        start = datetime.combine(days[oldest][0], day_start.min, UTC)
        counted += await capped_count(session, [*clauses, ts >= start, *_before(end)])
        spent, covered = time.monotonic() - started, len(days) - oldest
        if counted > COUNT_CAP:
            return Total(counted)
        fits = spent * (1 + oldest / covered) <= budget  # the rest, at the same pace per day
        if fits or sum(rows for _, rows in days[:oldest]) < ESTIMATE_ROWS:
            return Total(counted + await capped_count(session, [*clauses, ts < start]))
        if counted >= MIN_SAMPLE:
            estimate = extrapolate(counted, days[oldest:], days)
            return Total(min(estimate, COUNT_CAP + 1), estimated=True)
        newest, end, stretch = oldest, start, stretch * 2


def _before(end: datetime | None) -> list[ColumnElement[bool]]:
    return [] if end is None else [SiemLogModel.timestamp < end]
