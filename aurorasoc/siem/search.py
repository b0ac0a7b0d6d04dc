"""Stored events (``siem_logs``): search (newest first), histogram, facets.

Time is event time (``timestamp``, spec §27.1); ranges are relative (``15m`` … ``30d``), ``all``, or
absolute ``since``/``until``. Pages are addressed by an opaque cursor (keyset on event time and
id, so new events never shift a page); ``skip`` still works for old clients. ``total`` is exact up
to ``COUNT_CAP`` matches; beyond it the count stops and ``total_is_estimate`` says so (spec §28).
On PostgreSQL a large store's total that is slow to count is scaled from its newest days and
flagged the same way (``siem.counting``).
The histogram and facets filter with the same compiled query as the search. When a range holds
nothing but the query matches older or newer events, ``newest_at`` says where the newest of them
is, so the console can jump there.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import itertools
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import orjson
from sqlalchemy import ColumnElement, Integer, Select, and_, cast, func, literal, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.errors import InvalidInput, NotFound
from aurorasoc.core.siem_partitions import partition_days
from aurorasoc.core.types import Unindexed, utcnow
from aurorasoc.siem.counting import COUNT_CAP, Total, budgeted_count, capped_count
from aurorasoc.siem.models import SiemLogModel
from aurorasoc.siem.query import compile_query, covered_prefix, parse

SEARCH_CAP = 1_000
FEW_MATCHES = 2_000  # PostgreSQL: up to this many matches are read through their filter and sorted
MIN_STRETCH = timedelta(hours=1)  # PostgreSQL: the shortest recent stretch sorted for a page
FACET_FIELDS = ("host", "user_name", "src_ip", "event_id", "process_executable")
FACET_SIZE = 10
FACET_SAMPLE = 10_000  # facets count at most this many matches, the newest
MAX_BUCKETS = 60
FILLED_BUCKETS_MAX = 4 * MAX_BUCKETS  # empty buckets are returned up to this many in all
TimeRange = Literal["15m", "1h", "4h", "24h", "7d", "30d", "all"]
RANGES: dict[str, timedelta | None] = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "all": None,
}
_BUCKET_STEPS = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86_400, 7 * 86_400, 30 * 86_400, 365 * 86_400)


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
        delta = RANGES[self.range]
        return replace(self, range=None, since=None if delta is None else (now or utcnow()) - delta)

    def untimed(self) -> LogFilters:
        """The same query and filters over all time (where are the events, if not in the range?)."""
        return replace(self, range=None, since=None, until=None)

    def time_only(self) -> bool:
        """No query and no filter but time: what an index on event time alone can count."""
        return compile_query(self.q) is None and not (self.sources or self.severities or self.hosts)

    def keys_in_one_index(self) -> bool:
        """Whether one index holds the keys of every match (PostgreSQL: a single wildcard term on
        ``host``/``user_name``/``process_executable``, and at most a time range): sorting them all
        there costs less than walking event time, however many there are."""
        if self.sources or self.severities or self.hosts:
            return False
        return covered_prefix(parse(self.q or ""))

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
    total: int  # exact up to COUNT_CAP, unless ``estimated``
    truncated: bool  # more than COUNT_CAP rows matched: ``total`` is a lower bound
    newest_at: datetime | None = None  # newest match over all time, when the range held none
    next_cursor: str | None = None  # opaque: the page after this one (None on the last page)
    estimated: bool = False  # ``total`` is scaled from the newest matches (see siem.counting)


def encode_cursor(row: SiemLogModel) -> str:
    """The position after ``row`` in (event time, id) descending order, opaque to clients."""
    return base64.urlsafe_b64encode(orjson.dumps([row.timestamp.isoformat(), row.id.hex])).decode()


def cursor_position(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (event time, id) a cursor names; a cursor this API did not return is a 400."""
    try:
        stamp, key = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(stamp), uuid.UUID(hex=key)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidInput("cursor is not one this API returned", code="invalid_cursor") from None


def after_cursor(cursor: str) -> ColumnElement[bool]:
    """Rows strictly after the cursor's position: keyset paging, stable while events arrive."""
    at, log_id = cursor_position(cursor)
    ts = SiemLogModel.timestamp
    return or_(ts < at, and_(ts == at, SiemLogModel.id < log_id))


def page_statement(
    clauses: Sequence[ColumnElement[bool]],
    *,
    skip: int,
    limit: int,
    sort_matches: bool = False,
    keys_first: bool = False,
) -> Select[Any]:
    """The rows of one page, newest event first (the statement the query-plan tests explain).

    With ``sort_matches`` the order is the same but written as an expression no index provides, so
    the planner fetches the matches through the filter's own index and sorts them. PostgreSQL
    otherwise walks the event-time index newest first whenever it believes matches are common,
    and its estimate for a rare word or host is often 50-100x too high: at 10M events a word in
    100 of them read the whole table backwards (4.3 s) instead of its 100 rows from the GIN index.

    With ``keys_first`` the page's keys (event time, id) are found first and only those rows are
    read: a pattern index that holds the keys (0022) then sorts thousands of matches without
    reading any of them from the table.
    """
    # PostgreSQL's spelling: only PostgreSQL takes this path (see SiemSearchService._count_first)
    shift: ColumnElement[Any] = literal_column("INTERVAL '0 seconds'")
    newest = SiemLogModel.timestamp + shift if sort_matches else SiemLogModel.timestamp
    order = (newest.desc(), SiemLogModel.id.desc())
    if not keys_first:
        return select(SiemLogModel).where(*clauses).order_by(*order).offset(skip).limit(limit)
    keys = (
        select(SiemLogModel.timestamp, SiemLogModel.id)
        .where(*clauses)
        .order_by(*order)
        .offset(skip)
        .limit(limit)
        .subquery("page_keys")
    )
    same = and_(SiemLogModel.timestamp == keys.c.timestamp, SiemLogModel.id == keys.c.id)
    return (
        select(SiemLogModel).join(keys, same).order_by(SiemLogModel.timestamp.desc(), SiemLogModel.id.desc())
    )


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    """Most frequent first, then by value (a stable order for ties)."""
    return -item[1], item[0]


class SiemSearchService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, log_id: uuid.UUID) -> SiemLogModel:
        found = await self.session.get(SiemLogModel, log_id)
        if found is None:
            raise NotFound(f"log {log_id} does not exist", log_id=str(log_id))
        return found

    async def search(
        self, filters: LogFilters, *, skip: int = 0, limit: int = SEARCH_CAP, cursor: str | None = None
    ) -> SearchResult:
        """One page of matches, newest event first, with the (capped) total.

        With ``cursor`` (a previous page's ``next_cursor``) the page starts right after it and
        ``skip`` is ignored; ``total`` still counts every match of the filters.
        """
        filters = filters.pinned()
        clauses = filters.clauses()
        paged = [*clauses, after_cursor(cursor)] if cursor is not None else clauses
        skip = 0 if cursor is not None else skip
        counted = await self._count_first(clauses, filters) if limit else None
        matched = counted.matched if counted else None
        rows: list[SiemLogModel] = []
        spread = (
            matched is not None and FEW_MATCHES < matched <= COUNT_CAP and not filters.keys_in_one_index()
        )
        if limit and spread:
            ends = [cursor_position(cursor)[0]] if cursor else [filters.until] if filters.until else []
            rows = await self._recent_first(paged, int(matched or 0), skip=skip, limit=limit, newest=ends)
        elif limit:
            # Few matches, or the keys of any number in one index: sort them rather than walk time.
            few = matched is not None and (matched <= FEW_MATCHES or filters.keys_in_one_index())
            keys_first = matched is not None  # PostgreSQL
            page = page_statement(paged, skip=skip, limit=limit, sort_matches=few, keys_first=keys_first)
            rows = list((await self.session.scalars(page)).all())
        if matched is None:  # else counted before the page
            first_page = cursor is None and not skip and limit and len(rows) < limit
            # a first page holding every match needs no second pass to count them
            matched = len(rows) if first_page else await capped_count(self.session, clauses)
        newest = None
        if matched == 0 and (filters.since or filters.until):
            untimed = filters.untimed().clauses()
            newest = await self.session.scalar(select(func.max(SiemLogModel.timestamp)).where(*untimed))
        following = encode_cursor(rows[-1]) if rows and len(rows) == limit else None
        estimated = counted is not None and counted.estimated
        return SearchResult(rows, min(matched, COUNT_CAP), matched > COUNT_CAP, newest, following, estimated)

    async def _recent_first(
        self,
        clauses: Sequence[ColumnElement[bool]],
        matched: int,
        *,
        skip: int,
        limit: int,
        newest: Sequence[datetime],
    ) -> list[SiemLogModel]:
        """PostgreSQL, thousands of matches spread over time (a phrase at 10M events: ~5,000 over 60
        days): sort the matches of the most recent stretch that should hold the page, widening it
        until it does. Walking event time read ~100,000 rows for such a page, and sorting every
        match read all of them; a stretch holding the page is exact, since every older match sorts
        after it. The first stretch is sized from the count, assuming matches spread evenly, and ends
        where the page can start (``newest``: the cursor's or the range's end)."""
        ts = SiemLogModel.timestamp  # the store's span: two index look-ups (the matches' would be a walk)
        low, high = (await self.session.execute(select(func.min(ts), func.max(ts)))).one()
        if low is None or high is None:
            return []
        high = min([high, *newest])  # a later page starts at its cursor, a bounded range at its end
        wanted = skip + limit
        stretch = max((high - low) * min(1.0, 4 * wanted / matched), MIN_STRETCH)
        while True:
            since = high - stretch
            bounded = [*clauses, ts >= since] if since > low else list(clauses)
            page = page_statement(bounded, skip=skip, limit=limit, sort_matches=True, keys_first=True)
            rows = list((await self.session.scalars(page)).all())
            if len(rows) == limit or since <= low:
                return rows
            stretch *= 4

    async def _count_first(self, clauses: Sequence[ColumnElement[bool]], filters: LogFilters) -> Total | None:
        """PostgreSQL: the total, taken before the page because it picks the page's plan (few
        matches are sorted by themselves, see :func:`page_statement`), and within a time budget
        over the days that hold events (:func:`~aurorasoc.siem.counting.budgeted_count`); None
        elsewhere."""
        if not clauses or self.session.get_bind().dialect.name != "postgresql":
            return None
        first = filters.since.date() if filters.since else date.min
        last = filters.until.date() if filters.until else date.max
        days = [(day, rows) for day, rows in await partition_days(self.session) if first <= day <= last]
        return await budgeted_count(self.session, clauses, days)

    async def histogram(self, filters: LogFilters) -> dict[str, Any]:
        """Event counts per time bucket (bucket size picked so the span fits ``MAX_BUCKETS``)."""
        filters = filters.pinned()
        clauses = filters.clauses()
        # Two subqueries: SQLite reads min() or max() off the index only when it is alone in its
        # SELECT; together they scanned the table (170 ms at 1M events).
        ends = (
            select(edge(SiemLogModel.timestamp)).where(*clauses).scalar_subquery()
            for edge in (func.min, func.max)
        )
        low, high = (await self.session.execute(select(*ends))).one()
        if low is None or high is None:
            return {"bucket_seconds": None, "buckets": []}
        start = filters.since or low
        end = filters.until or high
        span = max((end - start).total_seconds(), 1)
        step = next((s for s in _BUCKET_STEPS if span / s <= MAX_BUCKETS), _BUCKET_STEPS[-1])
        first, last = int(start.timestamp()) // step, int(end.timestamp()) // step
        if filters.time_only() and last - first < FILLED_BUCKETS_MAX:
            found = await self._range_counts(clauses, step, range(first, last + 1))
        else:
            bucket = self._bucket(step).label("bucket")
            stmt = select(bucket, func.count()).where(*clauses).group_by(bucket).order_by(bucket)
            found = {int(b): int(c) for b, c in (await self.session.execute(stmt)).all()}
        # Every bucket of the span, empty ones too: on a time axis a gap of weeks must show as one
        # (unless a stray timestamp centuries away would make thousands of them).
        span = range(min(first, *found), max(last, *found) + 1)
        span_keys: Iterable[int] = span if len(span) <= FILLED_BUCKETS_MAX else sorted(found)
        return {
            "bucket_seconds": step,
            "buckets": [
                {"start": datetime.fromtimestamp(k * step, UTC), "count": found.get(k, 0)} for k in span_keys
            ],
        }

    async def _range_counts(
        self, clauses: Sequence[ColumnElement[bool]], step: int, keys: range
    ) -> dict[int, int]:
        """Events per bucket when only time filters: one count per bucket along the event-time
        index, in one statement. Computing a bucket for every row and grouping took 0.7 s for all
        time at 1M events on SQLite; counting index ranges reads no row."""
        ts = SiemLogModel.timestamp
        edges = [datetime.fromtimestamp(k * step, UTC) for k in (*keys, keys[-1] + 1)]
        counts = [
            select(func.count())
            .select_from(SiemLogModel)
            .where(*clauses, ts >= low, ts < high)
            .scalar_subquery()
            for low, high in itertools.pairwise(edges)
        ]
        row = (await self.session.execute(select(*counts))).one()
        return {k: int(n) for k, n in zip(keys, row, strict=True) if n}

    def _bucket(self, step: int) -> Any:
        column = SiemLogModel.timestamp
        if self.session.bind.dialect.name == "postgresql":
            return func.floor(func.extract("epoch", column) / step)
        # ``//``: SQLAlchemy 2's ``/`` is true division, which gave every distinct second its own
        # "bucket" (two events of one day were two bars with the same start).
        return cast(func.strftime("%s", column), Integer) // step

    async def facets(self, filters: LogFilters) -> dict[str, Any]:
        """Top values of the entity columns among the matches; when more than ``FACET_SAMPLE`` match,
        among the newest ``FACET_SAMPLE`` matches that name any of them (``sampled`` says so, as
        Kibana's field summaries do).

        A ``GROUP BY`` per column over every match cost seconds at 1M events, and on SQLite the planner
        grouped along the column's own index, reading every row of the store for an empty day (26 s
        at 1M). A sample of the newest matches whatever they hold was no better for imported
        evidence: a text log without hosts, newest of all, left every facet empty.
        """
        clauses = filters.pinned().clauses()
        matches = select(literal(1)).select_from(SiemLogModel).where(*clauses).limit(FACET_SAMPLE + 1)
        matched = int(await self.session.scalar(select(func.count()).select_from(matches.subquery())) or 0)
        columns = [getattr(SiemLogModel, name) for name in FACET_FIELDS]
        rows = select(*columns).where(*clauses)  # few: every match, through the filters' own index
        if matched > FACET_SAMPLE:  # walk event time, not a column's index (SQLite's unary +)
            named = or_(*(Unindexed(column).is_not(None) for column in columns))
            newest = (SiemLogModel.timestamp.desc(), SiemLogModel.id.desc())
            rows = rows.where(named).order_by(*newest).limit(FACET_SAMPLE)
        counters: list[Counter[str]] = [Counter() for _ in FACET_FIELDS]
        for row in await self.session.execute(rows):
            for counter, value in zip(counters, row, strict=True):
                if value is not None:
                    counter[value] += 1
        out: dict[str, Any] = {
            name: [
                {"value": v, "count": n} for v, n in heapq.nsmallest(FACET_SIZE, counted.items(), _by_count)
            ]
            for name, counted in zip(FACET_FIELDS, counters, strict=True)
        }
        out["sampled"] = FACET_SAMPLE if matched > FACET_SAMPLE else None
        return out

    async def count(self, filters: LogFilters) -> int:
        """Every match, uncapped (hunt runs report true hit counts)."""
        stmt = select(func.count()).select_from(SiemLogModel).where(*filters.clauses())
        return int(await self.session.scalar(stmt) or 0)
