"""The alert queue at scale (spec §28): keyset cursors, flagged estimates, full-text search, and the
query plans that make them cheap (the indexes, never a scan), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, event, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts import paging
from aurorasoc.alerts.filters import AlertFilters, AlertSort
from aurorasoc.alerts.paging import Explain, page_query
from aurorasoc.alerts.search import fts_count
from aurorasoc.alerts.service import AlertService
from aurorasoc.core.models import AlertModel
from aurorasoc.core.vocabulary import AlertStatus, Severity

BASE = datetime(2026, 11, 1, tzinfo=UTC)
SEVERITIES = ["critical", "high", "medium", "low", "info"]


def _alert(i: int, **columns: object) -> AlertModel:
    values: dict[str, object] = {
        "title": f"alert {i:03d}",
        "severity": SEVERITIES[i % 5],
        "source": "edr",
        "dedup_hash": f"hash-{i}",
        "occurrence_count": i % 4 + 1,
        "created_at": BASE + timedelta(seconds=i),
        "last_seen_at": BASE + timedelta(seconds=i),
        "first_seen_at": BASE + timedelta(seconds=i),
    }
    return AlertModel(**(values | columns))


async def _seed(session: AsyncSession, count: int, start: int = 0) -> set[str]:
    alerts = [_alert(i) for i in range(start, start + count)]
    session.add_all(alerts)
    await session.flush()
    return {str(a.id) for a in alerts}


@contextmanager
def _statements(session: AsyncSession) -> Iterator[list[str]]:
    """The SQL statements run on the session's engine while the block runs."""
    seen: list[str] = []
    engine = session.get_bind().engine  # type: ignore[union-attr]

    def keep(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


@pytest.mark.parametrize("sort", ["-created_at", "title", "-severity", "occurrence_count", "last_seen_at"])
async def test_cursor_pages_neither_repeat_nor_skip_while_alerts_arrive(
    any_db_session: AsyncSession, sort: AlertSort
) -> None:
    originals = await _seed(any_db_session, 30)
    service, filters = AlertService(any_db_session), AlertFilters(sort=sort)
    seen: list[str] = []
    cursor: str | None = None
    for page_number in range(20):
        page = await service.list(filters, limit=7, cursor=cursor)
        seen += [str(a.id) for a in page.items]
        # New alerts land before, inside and after the pages already read.
        await _seed(any_db_session, 2, start=100 + 2 * page_number)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "a row came back on two pages"
    assert originals <= set(seen), "a row that existed before paging started was skipped"


async def test_a_cursor_continues_the_order_of_skip_paging(any_db_session: AsyncSession) -> None:
    await _seed(any_db_session, 12)
    service, filters = AlertService(any_db_session), AlertFilters(sort="-severity")
    by_skip = [a.id for s in (0, 5, 10) for a in (await service.list(filters, skip=s, limit=5)).items]
    first = await service.list(filters, limit=5)
    second = await service.list(filters, limit=5, cursor=first.next_cursor)
    third = await service.list(filters, limit=5, cursor=second.next_cursor)
    assert [a.id for a in first.items + second.items + third.items] == by_skip
    assert third.next_cursor is None


async def test_totals_past_the_cap_are_flagged_estimates(
    any_db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _seed(any_db_session, 12)
    monkeypatch.setattr(paging, "COUNT_CAP", 5)
    service = AlertService(any_db_session)
    page = await service.list(AlertFilters(), limit=3)
    assert page.total_is_estimate and page.total > 5
    filtered = await service.list(AlertFilters(q="alert 001"), limit=3)
    assert (filtered.total, filtered.total_is_estimate) == (1, False)
    monkeypatch.setattr(paging, "COUNT_CAP", 50)
    assert (await service.list(AlertFilters(), limit=3)).total == 12


async def test_full_text_finds_words_of_title_description_and_entities(any_db_session: AsyncSession) -> None:
    any_db_session.add_all(
        [
            _alert(1, title="Credential dumping with Mimikatz"),
            _alert(2, description="LSASS memory read by procdump"),
            _alert(3, host="WS-Finance-07", user_name="CORP\\alice"),
            _alert(4, iocs=["evil-domain.example"], process_command_line="powershell -enc SQBFAFgA"),
            _alert(5, affected_assets=["host:db-primary"]),
        ]
    )
    await any_db_session.flush()
    service = AlertService(any_db_session)

    async def titles(q: str) -> list[str]:
        return [a.title for a in (await service.list(AlertFilters(q=q, sort="title"))).items]

    assert await titles("mimikatz") == ["Credential dumping with Mimikatz"]
    assert await titles("MIMI") == ["Credential dumping with Mimikatz"]  # word prefix, any case
    assert await titles("lsass procdump") == ["alert 002"]  # every word, any order
    assert await titles("ws-finance-07") == ["alert 003"]
    assert await titles("alice") == ["alert 003"]
    assert await titles("evil-domain.example") == ["alert 004"]
    assert await titles("powershell") == ["alert 004"]
    assert await titles("db-primary") == ["alert 005"]
    assert await titles('"mimikatz') == ["Credential dumping with Mimikatz"]  # quotes are text, not syntax
    assert await titles("lsass mimikatz") == []


async def test_the_index_follows_edits_and_deletes(any_db_session: AsyncSession) -> None:
    alert = _alert(1, title="Suspicious rundll32")
    any_db_session.add(alert)
    await any_db_session.flush()
    service = AlertService(any_db_session)
    alert.title = "Suspicious regsvr32"
    await any_db_session.flush()
    assert (await service.list(AlertFilters(q="rundll32"))).items == []
    assert [a.id for a in (await service.list(AlertFilters(q="regsvr32"))).items] == [alert.id]
    await any_db_session.execute(delete(AlertModel).where(AlertModel.id == alert.id))
    assert (await service.list(AlertFilters(q="regsvr32"))).items == []


async def _plan(session: AsyncSession, filters: AlertFilters, cursor: str | None = None) -> str:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":  # a handful of rows: make the planner show the index it can use
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        if filters.q or filters.asset:  # GIN indexes answer through bitmaps; not a walk of the sort index
            await session.execute(text("SET LOCAL enable_indexscan = off"))
    rows = (await session.execute(Explain(page_query(filters, dialect, cursor=cursor)))).all()
    return "\n".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        (AlertFilters(q="mimikatz"), {"sqlite": "alerts_fts", "postgresql": "ix_alerts_search_tsv"}),
        (AlertFilters(q="mimikatz"), {"sqlite": "alerts_fts", "postgresql": "ix_alerts_search_trgm"}),
        (AlertFilters(host="WS-7"), {"sqlite": "ix_alerts_host_lower_last_seen"}),
        (AlertFilters(user="alice"), {"sqlite": "ix_alerts_user_lower_last_seen"}),
        (AlertFilters(asset="host:db-1"), {"sqlite": "alerts_fts", "postgresql": "ix_alerts_assets_gin"}),
        (AlertFilters(ip="10.0.0.5"), {"sqlite": "ix_alerts_src_ip", "postgresql": "ix_alerts_dst_ip"}),
        (AlertFilters(sort="-title"), {"sqlite": "ix_alerts_title", "postgresql": "ix_alerts_title"}),
    ],
)
async def test_filters_compile_to_index_lookups(
    any_db_session: AsyncSession, filters: AlertFilters, index: dict[str, str]
) -> None:
    await _seed(any_db_session, 20)
    dialect = any_db_session.get_bind().dialect.name
    expected = index.get(dialect, index.get("sqlite", ""))
    plan = await _plan(any_db_session, filters)
    assert expected in plan, plan
    assert "SCAN alerts\n" not in plan + "\n" and "Seq Scan on alerts" not in plan, plan


async def test_postgresql_checks_text_candidates_against_the_stored_words(pg_session: AsyncSession) -> None:
    """Every candidate of a text search is checked again; against ``search_vector`` (stored at write
    time) rather than a tsvector rebuilt from the alert's document per row, which cost a common word
    ~750 re-tokenised alerts per page at 1M alerts."""
    await _seed(pg_session, 20)
    pg_session.add(_alert(99, title="Mimikatz sekurlsa", host="WS-9"))
    await pg_session.flush()
    plan = await _plan(pg_session, AlertFilters(q="sekurlsa"))
    assert "search_vector @@" in plan and "to_tsvector" not in plan, plan
    stored = await pg_session.scalar(text("SELECT search_vector::text FROM alerts WHERE host = 'WS-9'"))
    assert "'sekurlsa'" in stored and "'ws'" in stored, stored


async def test_a_severity_and_status_filter_reads_in_event_time_order(db_session: AsyncSession) -> None:
    """SQLite: the queue's default order (event time) under its commonest filter comes from one index;
    without it every match was sorted (50 ms p95 at 20k alerts, growing with the store)."""
    await _seed(db_session, 20)
    filters = AlertFilters(severity=[Severity.HIGH], status=[AlertStatus.NEW])
    plan = await _plan(db_session, filters)
    assert "ix_alerts_severity_status_last_seen" in plan and "TEMP B-TREE FOR ORDER BY" not in plan, plan


async def test_a_deep_cursor_page_is_an_index_range(any_db_session: AsyncSession) -> None:
    await _seed(any_db_session, 20)
    service, filters = AlertService(any_db_session), AlertFilters(sort="-created_at")
    cursor = (await service.list(filters, limit=15)).next_cursor
    plan = await _plan(any_db_session, filters, cursor)
    assert "ix_alerts_created_at" in plan, plan
    assert "Seq Scan" not in plan and "SCAN alerts\n" not in plan + "\n", plan


class TestRoute:
    URL = "/api/v1/alerts"

    async def test_next_cursor_walks_the_queue_and_old_fields_stay(self, client, admin_headers) -> None:
        for i in range(5):
            body = {"title": f"route alert {i}", "severity": "low", "source": "edr"}
            assert (await client.post(self.URL, json=body, headers=admin_headers)).status_code == 201
        first = (await client.get(self.URL, params={"limit": 3}, headers=admin_headers)).json()
        assert {"items", "total", "skip", "limit", "data_source"} <= set(first)
        assert (first["total"], first["total_is_estimate"]) == (5, False)
        params = {"limit": 3, "cursor": first["next_cursor"]}
        second = (await client.get(self.URL, params=params, headers=admin_headers)).json()
        titles = [i["title"] for i in first["items"] + second["items"]]
        assert sorted(titles) == [f"route alert {i}" for i in range(5)] and second["next_cursor"] is None

    async def test_the_queue_reads_in_event_time_by_default(self, client, admin_headers) -> None:
        """Spec §27.1: an imported 2019 attack and a 2026 one stored before it list newest event first."""
        seen = {"first": "2026-11-01T10:00Z", "second": "2019-07-19T14:47Z", "third": "2021-04-22T22:09Z"}
        for order, at in seen.items():
            body = {"title": order, "severity": "low", "source": "edr", "first_seen_at": at}
            body["last_seen_at"] = at
            assert (await client.post(self.URL, json=body, headers=admin_headers)).status_code == 201
        listed = (await client.get(self.URL, headers=admin_headers)).json()["items"]
        assert [a["title"] for a in listed] == ["first", "third", "second"]  # 2026, 2021, 2019
        params = {"sort": "-created_at"}
        stored = (await client.get(self.URL, params=params, headers=admin_headers)).json()["items"]
        assert [a["title"] for a in stored] == ["third", "second", "first"]

    @pytest.mark.parametrize("cursor", ["garbage", "WyJ0aXRsZSIsImEiLCJ4Il0"])
    async def test_a_foreign_or_broken_cursor_is_400(self, client, admin_headers, cursor) -> None:
        resp = await client.get(self.URL, params={"cursor": cursor}, headers=admin_headers)
        assert resp.status_code == 400 and resp.json()["detail"]["code"] == "invalid_input"


@pytest.mark.parametrize("few", [0, 1_000])
async def test_a_common_word_walks_the_time_order_and_pages_the_same(
    db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    """SQLite: a word more alerts hold than ``FEW_MATCHES`` is filtered while the queue walks its
    time index (a common word at 1M alerts sorted 62,000 rows: 300 ms); fewer are read through the
    full-text index and sorted. Pages, totals and cursors are the same either way."""
    monkeypatch.setattr(paging, "FEW_MATCHES", few)
    monkeypatch.setattr("aurorasoc.alerts.service.FEW_MATCHES", few)
    await _seed(db_session, 40)
    service, filters = AlertService(db_session), AlertFilters(q="alert")
    many = few < 40
    page = page_query(filters, "sqlite", limit=10, many_matches=many)
    plan = "\n".join(str(row[-1]) for row in await db_session.execute(Explain(page)))
    assert ("USING INDEX ix_alerts_last_seen_at" in plan) is many, plan  # the default order: event time
    assert ("TEMP B-TREE FOR ORDER BY" in plan) is not many, plan
    seen, cursor = [], None
    for _ in range(10):
        listing = await service.list(filters, limit=9, cursor=cursor)
        assert (listing.total, listing.total_is_estimate) == (40, False)
        seen += listing.items
        if (cursor := listing.next_cursor) is None:
            break
    assert [a.last_seen_at for a in seen] == sorted((a.last_seen_at for a in seen), reverse=True)
    assert len({a.id for a in seen}) == 40


@pytest.mark.parametrize("q", ["alert", "alert 01", "ALERT 03*", "nothing", "--"])
async def test_a_text_search_alone_is_counted_in_the_full_text_index(
    any_db_session: AsyncSession, q: str
) -> None:
    """SQLite counts a lone text search in its FTS table (stopping at the cap) instead of listing
    every match by rowid; the totals are the same as counting the alerts themselves."""
    await _seed(any_db_session, 40)
    dialect = any_db_session.get_bind().dialect.name
    clauses = AlertFilters(q=q).clauses(dialect)
    expected = await paging.count_alerts(any_db_session, clauses)
    assert await paging.count_alerts(any_db_session, clauses, text_only=q) == expected
    if dialect == "sqlite" and q != "--":
        counted = await any_db_session.scalar(fts_count(q, 25))  # it stops at its cap
        assert counted == min(expected[0], 25)


async def test_postgresql_skips_a_count_the_planner_expects_far_past_the_cap(
    pg_session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A common word's capped count rechecked every match (180 ms at 1M alerts): when the planner
    expects far more than ``ESTIMATE_PAST`` matches the total is its flagged estimate, uncounted."""
    await _seed(pg_session, 60)
    await pg_session.execute(text("ANALYZE alerts"))
    monkeypatch.setattr(paging, "COUNT_CAP", 5)
    monkeypatch.setattr(paging, "ESTIMATE_PAST", 20)
    clauses = AlertFilters(source="edr").clauses("postgresql")  # every seeded alert
    with _statements(pg_session) as statements:
        total, estimated = await paging.count_alerts(pg_session, clauses)
    assert estimated and total > 20, total
    assert not any("count(" in s.lower() for s in statements), statements
    monkeypatch.setattr(paging, "ESTIMATE_PAST", 10**6)  # an estimate near the cap: counted
    assert await paging.count_alerts(pg_session, clauses) == (await paging.count_alerts(pg_session, []))


async def test_postgresql_counts_few_text_matches_in_the_pass_that_sorts_them(
    pg_session: AsyncSession,
) -> None:
    """A text search the planner expects few matches for is paged and counted in one statement
    (``count(*) OVER ()``): each candidate is checked again row by row, so a separate count did it
    all twice (~33 ms of 67 for a host name at 1M alerts). Pages and totals are unchanged."""
    await _seed(pg_session, 30)
    await pg_session.execute(text("ANALYZE alerts"))
    service, filters = AlertService(pg_session), AlertFilters(q="alert")
    with _statements(pg_session) as statements:
        first = await service.list(filters, limit=7)
        skipped = await service.list(filters, skip=28, limit=7)
        beyond = await service.list(filters, skip=40, limit=7)
    assert (first.total, first.total_is_estimate, len(first.items)) == (30, False, 7)
    assert (skipped.total, len(skipped.items), beyond.total, len(beyond.items)) == (30, 2, 30, 0)
    assert sum("OVER ()" in s for s in statements) == 3, statements
    assert not any("count(*) AS count_1" in s for s in statements[:4]), statements  # no count pass
    later = await service.list(filters, limit=7, cursor=first.next_cursor)  # a cursor page: as before
    assert later.total == 30 and not {a.id for a in later.items} & {a.id for a in first.items}


async def test_postgresql_checks_an_unsure_text_estimate_against_the_words_alone(
    pg_session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The substring arm of a text search is estimated from sampled documents (``q=WS-0042``:
    11,858 expected, 613 found at 1M alerts), so the queue walked its time order for a few matches
    (500 ms). Between ``FEW_MATCHES`` and ``UNSURE_PAST`` the word match's own estimate decides, and
    the few matches are found through the indexes, then sorted (a ``MATERIALIZED`` CTE)."""
    await _seed(pg_session, 60)
    for i in range(8):
        pg_session.add(_alert(100 + i, title=f"sekurlsa run {i}", host="WS-0042"))
    await pg_session.flush()
    await pg_session.execute(text("ANALYZE alerts"))
    filters = AlertFilters(q="sekurlsa")
    either = await paging._plan_rows(pg_session, select(AlertModel.id).where(*filters.clauses("postgresql")))
    words = filters.clauses("postgresql", words_only=True)
    alone = await paging._plan_rows(pg_session, select(AlertModel.id).where(*words))
    assert alone < either, (alone, either)  # the substring arm adds to the estimate
    monkeypatch.setattr(paging, "FEW_MATCHES", alone)
    monkeypatch.setattr("aurorasoc.alerts.service.FEW_MATCHES", alone)
    with _statements(pg_session) as statements:
        listing = await AlertService(pg_session).list(filters, limit=5)
    assert (listing.total, listing.total_is_estimate, len(listing.items)) == (8, False, 5)
    assert sum(s.startswith("EXPLAIN") for s in statements) == 2, statements
    assert any("AS MATERIALIZED" in s and "OVER ()" in s for s in statements), statements
    monkeypatch.setattr(paging, "UNSURE_PAST", alone)  # past it, the estimate is taken as it is
    with _statements(pg_session) as statements:
        again = await AlertService(pg_session).list(filters, limit=5)
    assert [a.id for a in again.items] == [a.id for a in listing.items] and again.total == 8
    assert not any("AS MATERIALIZED" in s for s in statements), statements
