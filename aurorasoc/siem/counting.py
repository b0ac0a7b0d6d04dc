"""How many stored events match a search: exact when that is cheap, otherwise a flagged estimate.

On PostgreSQL ``siem_logs`` is partitioned by day and each day has its own full-text index. A
phrase of common words (``"failed password for user042"``) costs every day's index a walk of the
common words' postings whatever the number of matches: ~5 ms per day, so 325 ms over the 60 days
of 10M events, where the first page (the newest days) took a few. The total is therefore counted
newest day first, a stretch at a time, within a time budget; when the budget runs out before the
oldest event, the matches counted so far are scaled by the share of the span they covered and the
total is flagged as an estimate. A count that is cheap everywhere (a field, a rare word) finishes
within the budget and stays exact.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.siem.models import SiemLogModel

COUNT_CAP = 100_000
COUNT_BUDGET_SECONDS = 0.04  # PostgreSQL: counting stops after the stretch that passes this
COUNT_STRETCH = timedelta(days=7)  # PostgreSQL: the span counted per statement
MIN_SAMPLE = 100  # matches counted before any estimate: fewer say too little about the rest


@dataclass(frozen=True)
class Total:
    """Matches counted up to ``COUNT_CAP + 1``; ``estimated``: scaled from the newest ``covered``."""

    matched: int
    estimated: bool = False


async def capped_count(session: AsyncSession, clauses: Sequence[ColumnElement[bool]]) -> int:
    """Matches up to ``COUNT_CAP + 1``; a constant is selected so an index alone can answer."""
    window = select(literal(1)).select_from(SiemLogModel).where(*clauses).limit(COUNT_CAP + 1).subquery()
    return int(await session.scalar(select(func.count()).select_from(window)) or 0)


def extrapolate(counted: int, covered: timedelta, span: timedelta) -> int:
    """``counted`` matches over the newest ``covered`` of ``span``, spread evenly over all of it."""
    if covered >= span or covered <= timedelta(0):
        return counted
    return round(counted * (span / covered))


async def budgeted_count(
    session: AsyncSession,
    clauses: Sequence[ColumnElement[bool]],
    span: tuple[datetime, datetime],
    *,
    budget: float | None = None,
    stretch: timedelta | None = None,
) -> Total:
    """Count the newest ``stretch`` of ``span`` (oldest, newest event time the search can match),
    then the rest: in one statement when the time taken so far says it fits the ``budget`` (a
    cheap count stays exact in two statements), otherwise scaled from what was counted once that
    is ``MIN_SAMPLE`` matches (see the module). Fewer matches keep the count going, a stretch
    twice as long each time: an estimate from a handful would say "about none" of a search whose
    older matches the page then shows."""
    low, high = span
    budget = COUNT_BUDGET_SECONDS if budget is None else budget
    stretch = stretch or COUNT_STRETCH
    started, counted, end = time.monotonic(), 0, high
    ts = SiemLogModel.timestamp
    while True:
        start = end - stretch
        if start <= low:
            bounds = [ts <= end] if end < high else []
            return Total(counted + await capped_count(session, [*clauses, *bounds]))
        bounds = [ts > start, ts <= end] if end < high else [ts > start]
        counted += await capped_count(session, [*clauses, *bounds])
        spent, covered = time.monotonic() - started, high - start
        if counted > COUNT_CAP:
            return Total(counted)
        if spent + spent * ((start - low) / covered) <= budget:  # the rest, at the same pace, fits
            return Total(counted + await capped_count(session, [*clauses, ts <= start]))
        if counted >= MIN_SAMPLE:
            return Total(min(extrapolate(counted, covered, high - low), COUNT_CAP + 1), estimated=True)
        end, stretch = start, stretch * 2
