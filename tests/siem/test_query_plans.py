"""The SIEM query compiler uses the indexes (spec §28, issue #15): EXPLAIN of the search page for the
five main query shapes on SQLite and PostgreSQL, plus cursor pages that stay stable under inserts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.errors import InvalidInput
from aurorasoc.core.models import SiemLogModel
from aurorasoc.core.siem_partitions import ensure_day_partitions, partition_name
from aurorasoc.siem import search as siem_search
from aurorasoc.siem.search import LogFilters, SiemSearchService, page_statement

T0 = datetime(2026, 11, 1, tzinfo=UTC)
HOST_INDEX = {"ix_siem_logs_host_lower_timestamp", "ix_siem_logs_host_prefix"}  # SQLite | PostgreSQL
USER_INDEX = {"ix_siem_logs_user_lower", "ix_siem_logs_user_name_prefix"}
TEXT_INDEX = {"siem_logs_fts", "ix_siem_logs_search"}  # SQLite FTS5 | PostgreSQL GIN on search_vector
SHAPES = {
    "field equality": ("host:WEB-07", HOST_INDEX),
    "rare word": ("mimikatz", TEXT_INDEX),
    "phrase": ('"password for root"', TEXT_INDEX),
    "wildcard suffix": ("host:web-07*", HOST_INDEX),
    "AND of two fields": ("host:web-07 AND user_name:alice", HOST_INDEX | USER_INDEX),
}


def _rows(count: int, start: int = 0) -> list[SiemLogModel]:
    users = ["alice", "bob", "carol", "svc_backup"]
    return [
        SiemLogModel(
            timestamp=T0 + timedelta(seconds=n),
            source="seed",
            format="json",
            host=f"web-{n % 40:02d}",
            user_name=users[n % 4],
            message="Failed password for root" if n % 97 == 0 else f"session opened by {users[n % 4]}",
            fields={"Image": "mimikatz.exe" if n == 500 else "sshd", "pid": n},
        )
        for n in range(start, start + count)
    ]


async def _stock(session: AsyncSession) -> AsyncSession:
    await ensure_day_partitions(session, [T0])  # PostgreSQL: the rows go to their day partition
    session.add_all(_rows(2_000))
    await session.flush()
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("ANALYZE siem_logs"))
        # Few rows make a scan cheapest, of the table or in event-time order (2,000 rows in one
        # partition); what matters is that the compiled conditions *can* be served by their index.
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        await session.execute(text("SET LOCAL enable_indexscan = off"))
    return session


@pytest.fixture
async def stocked(any_db_session: AsyncSession) -> AsyncSession:
    return await _stock(any_db_session)


async def _plan(session: AsyncSession, query: str) -> str:
    stmt = page_statement(LogFilters(q=query).clauses(), skip=0, limit=50)
    sql = str(stmt.compile(dialect=session.bind.dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if session.bind.dialect.name == "sqlite" else "EXPLAIN "
    rows = (await session.execute(text(prefix + sql))).all()
    return "\n".join(str(row[-1]) for row in rows)


async def _index_names(session: AsyncSession, names: set[str]) -> set[str]:
    """On PostgreSQL's day partitions a plan names each partition's copy of the table's index."""
    if session.bind.dialect.name != "postgresql":
        return names
    tree = text("SELECT relid::text FROM pg_partition_tree(CAST(:name AS regclass))")
    present = [name for name in names if await session.scalar(text("SELECT to_regclass(:n)"), {"n": name})]
    return {leaf for name in present for leaf in (await session.scalars(tree, {"name": name}))}


@pytest.mark.parametrize("shape", list(SHAPES))
async def test_every_main_query_shape_is_served_by_an_index(stocked: AsyncSession, shape: str) -> None:
    query, indexes = SHAPES[shape]
    plan = await _plan(stocked, query)
    assert any(name in plan for name in await _index_names(stocked, indexes)), plan
    if stocked.bind.dialect.name == "postgresql":  # the rows' day partition, read through its index
        assert f"Bitmap Heap Scan on {partition_name(T0.date())} " in plan, plan
    if stocked.bind.dialect.name == "sqlite":
        assert "SCAN siem_logs\n" not in plan + "\n" and not plan.startswith("SCAN siem_logs USING"), plan


@pytest.mark.parametrize(
    ("query", "hosts"),
    [
        ("host:WEB-07", {"web-07"}),
        ("host:web-0*", {f"web-0{n}" for n in range(10)}),
        ("mimikatz", {"web-20"}),
        ('"password for root" AND host:web-17', {"web-17"}),
        ("host:web-07 AND user_name:ALICE", set()),  # web-07 only ever sees user 3 (svc_backup)
        ("host:web-04 AND user_name:alice", {"web-04"}),
    ],
)
async def test_indexed_shapes_return_the_right_rows(
    stocked: AsyncSession, query: str, hosts: set[str]
) -> None:
    found = await SiemSearchService(stocked).search(LogFilters(q=query, range="all"), limit=2_000)
    assert {row.host for row in found.rows} == hosts


async def test_cursor_pages_cover_every_match_once_even_while_events_arrive(stocked: AsyncSession) -> None:
    service, filters = SiemSearchService(stocked), LogFilters(q="user_name:bob", range="all")
    first = await service.search(filters, limit=200)
    stocked.add_all(_rows(400, start=2_000))  # newer events: they must not shift the next pages
    await stocked.flush()
    seen, cursor = [row.id for row in first.rows], first.next_cursor
    while cursor is not None:
        page = await service.search(filters, limit=200, cursor=cursor)
        seen += [row.id for row in page.rows]
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 500  # the 500 bob events of the first 2,000, each once
    assert all(row.timestamp < T0 + timedelta(seconds=2_000) for row in first.rows)


async def test_a_forged_cursor_is_refused(db_session: AsyncSession) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        await SiemSearchService(db_session).search(LogFilters(q="x"), cursor="not-a-cursor")


@contextmanager
def _statements(session: AsyncSession) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements run on the session's engine while the block runs, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: Any, *_: object) -> None:
        seen.append((statement, parameters))

    event.listen(session.bind.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(session.bind.sync_engine, "before_cursor_execute", record)


async def test_a_first_page_holding_every_match_is_its_own_total(stocked: AsyncSession) -> None:
    with _statements(stocked) as seen:
        found = await SiemSearchService(stocked).search(LogFilters(q="mimikatz", range="all"), limit=50)
    assert (found.total, found.truncated, len(found.rows)) == (1, False, 1)
    if stocked.bind.dialect.name == "postgresql":  # few matches: counted first, then sorted by themselves
        days, count, page = (statement.lower() for statement, _ in seen)  # the days that hold events
        assert "pg_inherits" in days and "count(" in count and "interval" in page, seen
    else:
        assert len(seen) == 1 and "count(" not in seen[0][0].lower(), seen  # the page alone, no count pass


@pytest.mark.parametrize(("query", "total"), [("root", 21), ("host:web-07", 50)])
async def test_a_partial_first_page_or_a_later_one_counts_every_match(
    stocked: AsyncSession, query: str, total: int
) -> None:
    service, filters = SiemSearchService(stocked), LogFilters(q=query, range="all")
    first = await service.search(filters, limit=5)
    assert (first.total, len(first.rows), first.truncated) == (total, 5, False)
    assert first.next_cursor is not None
    later = await service.search(filters, limit=5, cursor=first.next_cursor)
    assert later.total == total and not {row.id for row in later.rows} & {row.id for row in first.rows}
    skipped = await service.search(filters, skip=total - 2, limit=5)
    assert (skipped.total, len(skipped.rows)) == (total, 2)


@pytest.mark.parametrize("few", [0, 2_000])
async def test_few_or_many_matches_page_the_same_rows_newest_first(
    stocked: AsyncSession, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    """PostgreSQL sorts up to FEW_MATCHES matches itself instead of walking the time index: the
    pages, totals and cursors are the same either way (0: never; 2,000: "root"'s 21 matches)."""
    monkeypatch.setattr(siem_search, "FEW_MATCHES", few)
    service, filters = SiemSearchService(stocked), LogFilters(q="root", range="all")
    seen: list[SiemLogModel] = []
    cursor: str | None = None
    for _ in range(10):
        page = await service.search(filters, limit=6, cursor=cursor)
        assert (page.total, page.truncated) == (21, False)
        seen += page.rows
        if (cursor := page.next_cursor) is None:
            break
    assert len(seen) == len({row.id for row in seen}) == 21
    assert [row.timestamp for row in seen] == sorted((row.timestamp for row in seen), reverse=True)


@pytest.mark.parametrize(
    ("query", "indexes"), [("host:web-0*", HOST_INDEX), ('"password for root"', TEXT_INDEX)]
)
async def test_the_sql_a_search_runs_keeps_its_index_under_a_generic_plan(
    pg_session: AsyncSession, query: str, indexes: set[str]
) -> None:
    """A driver prepares each statement; from its 6th run PostgreSQL may plan it once for any
    parameter values, and ``LIKE $1`` or ``@@ to_tsquery($1)`` then cannot use an index (a scan of
    every partition: 1.8 s at 1M events). The values a plan depends on are written into the SQL."""
    stocked = await _stock(pg_session)
    with _statements(stocked) as seen:
        await SiemSearchService(stocked).search(LogFilters(q=query, range="all"), limit=5)
    statement, parameters = next((s, p) for s, p in seen if "count(" in s.lower())  # after the days
    driver = (await (await stocked.connection()).get_raw_connection()).driver_connection
    await driver.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    await driver.execute(f"PREPARE siem_page AS {statement}")
    # only LIMIT / OFFSET stay parameters (and event-time bounds, when days are counted apart)
    values = ", ".join(
        f"'{value.isoformat()}'::timestamptz" if isinstance(value, datetime) else str(int(value))
        for value in parameters
    )
    try:
        plan = "\n".join(row[0] for row in await driver.fetch(f"EXPLAIN EXECUTE siem_page({values})"))
    finally:
        await driver.execute("DEALLOCATE siem_page")  # prepared statements outlive the transaction
    assert any(name in plan for name in await _index_names(stocked, indexes)), plan


@pytest.mark.parametrize("query", ["host:web-0*", "user_name:B*"])
async def test_a_wildcard_term_pages_its_keys_from_one_index_alone(
    pg_session: AsyncSession, query: str
) -> None:
    """PostgreSQL: a single ``host:``/``user_name:`` wildcard term is paged from its covering pattern
    index (0022) whatever the number of matches; the table is read for the page's rows only (at 10M
    events a host prefix walked ~100,000 rows, or read ~5,000 from the table, for one page)."""
    session = await _stock(pg_session)
    await session.execute(text("SET LOCAL enable_indexscan = on"))
    await session.execute(text("SET LOCAL enable_bitmapscan = off"))
    filters = LogFilters(q=query, range="all")
    assert filters.keys_in_one_index()
    stmt = page_statement(filters.clauses(), skip=0, limit=50, sort_matches=True, keys_first=True)
    sql = str(stmt.compile(dialect=session.bind.dialect, compile_kwargs={"literal_binds": True}))
    plan = "\n".join(row[0] for row in await session.execute(text("EXPLAIN " + sql)))
    column = query.split(":")[0]
    indexes = await _index_names(session, {f"ix_siem_logs_{column}_prefix"})
    day = partition_name(T0.date())
    assert any(f"Index Only Scan using {name} on {day} " in plan for name in indexes), plan
    rows = (await session.scalars(stmt)).all()
    found = await SiemSearchService(session).search(filters, limit=50)
    assert [row.id for row in found.rows] == [row.id for row in rows]


@pytest.mark.parametrize(
    ("query", "covered"),
    [
        ("host:web-0*", True),
        ("process_executable:C:\\\\Windows\\\\*", True),
        ("host:*07", False),  # no prefix: the whole index
        ("host:web-07", False),  # exact: its (lower(host), timestamp) order serves the page directly
        ('host:"web-0*"', False),
        ("mimikatz", False),
        ("host:a* AND user_name:b*", False),
        ("channel:Sec*", False),
    ],
)
def test_which_queries_one_index_answers(query: str, covered: bool) -> None:
    assert LogFilters(q=query).keys_in_one_index() is covered
    assert LogFilters(q=query, sources=["edr"]).keys_in_one_index() is False


@pytest.mark.parametrize("query", ["root", "session opened", "user_name:bob"])
async def test_spread_matches_page_from_the_most_recent_stretch_like_a_full_sort(
    pg_session: AsyncSession, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    """PostgreSQL: thousands of matches over weeks are paged from the most recent stretch that holds
    the page, widened until it does; every page, cursor and skip is what sorting every match gives."""
    days = [T0 + timedelta(days=d) for d in range(4)]
    await ensure_day_partitions(pg_session, days)
    rows = _rows(2_000)
    for n, row in enumerate(rows):
        row.timestamp = T0 + timedelta(seconds=150 * n)  # 2,000 events over 3.5 days
    pg_session.add_all(rows)
    await pg_session.flush()
    monkeypatch.setattr(siem_search, "MIN_STRETCH", timedelta(minutes=1))
    service, filters = SiemSearchService(pg_session), LogFilters(q=query, range="all")

    async def pages(few: int) -> list[list[uuid.UUID]]:
        monkeypatch.setattr(siem_search, "FEW_MATCHES", few)
        out, cursor = [], None
        for _ in range(40):
            page = await service.search(filters, limit=7, cursor=cursor)
            out.append([row.id for row in page.rows])
            if (cursor := page.next_cursor) is None:
                break
        skipped = await service.search(filters, skip=11, limit=5)
        return [*out, [row.id for row in skipped.rows]]

    recent, everything = await pages(0), await pages(10**9)
    assert recent == everything and len(recent) > 3
