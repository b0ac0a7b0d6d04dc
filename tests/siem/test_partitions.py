"""Daily partitions of ``siem_logs`` on PostgreSQL (spec §28, issue #15): one per event day, created
by the ingest itself, idempotent re-ingest, searches pruned to the days asked for, and retention that
drops whole expired days and prunes the boundary day row by row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aurorasoc.core.config import get_settings
from aurorasoc.core.models import SiemLogModel
from aurorasoc.core.siem_partitions import DEFAULT_PARTITION, partition_name
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.pipeline import DetectionPipeline
from aurorasoc.siem.retention import merge_search_backlog, purge_expired
from aurorasoc.siem.search import LogFilters, page_statement

pytestmark = pytest.mark.integration

DAY0 = datetime(2019, 3, 4, 22, 0, tzinfo=UTC)  # imported EVTX carries event times years back
PARTITIONS = text(
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "WHERE i.inhparent = 'siem_logs'::regclass"
)


def _events(days: int, per_day: int, received: datetime) -> list[NormalizedEvent]:
    return [
        NormalizedEvent(
            timestamp=DAY0 + timedelta(days=day, hours=n),  # 22:00, 23:00, then the next day
            received_at=received,
            source="evtx",
            format="json",
            host=f"dc-{day:02d}",
            message=f"logon {day}/{n}",
            raw=f'{{"day": {day}, "n": {n}}}',
            time_source="record",
        )
        for day in range(days)
        for n in range(per_day)
    ]


async def _ingest(session: AsyncSession, events: list[NormalizedEvent]) -> int:
    """Through the product's write path, on the test's connection (its savepoints commit)."""
    factory = async_sessionmaker(
        bind=session.bind, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    return (await DetectionPipeline(SigmaEngine(), factory).process(events)).events


async def _count(session: AsyncSession, table: str) -> int:
    return int(await session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


async def test_ingest_creates_one_partition_per_event_day_and_reingest_is_idempotent(
    pg_session: AsyncSession,
) -> None:
    events = _events(days=3, per_day=4, received=datetime(2026, 12, 1, tzinfo=UTC))
    assert await _ingest(pg_session, events) == 12
    days = {(DAY0 + timedelta(days=d)).date() for d in range(4)}  # the last events run past midnight
    partitions = set((await pg_session.scalars(PARTITIONS)).all())
    assert {partition_name(day) for day in days} <= partitions and DEFAULT_PARTITION in partitions
    assert await _count(pg_session, DEFAULT_PARTITION) == 0
    assert await _count(pg_session, partition_name(DAY0.date())) == 2  # 22:00 and 23:00

    again = [event.model_copy(update={"received_at": datetime(2026, 12, 2, tzinfo=UTC)}) for event in events]
    assert await _ingest(pg_session, again) == 0
    assert await pg_session.scalar(select(func.count()).select_from(SiemLogModel)) == 12


async def test_a_record_without_its_own_time_is_stored_once_across_re_ingests(
    pg_session: AsyncSession,
) -> None:
    """Its event time is the arrival time, so it differs at every re-ingest: the fingerprint alone decides."""
    line = NormalizedEvent(source="syslog", format="text", raw="kernel: eth0 link up", time_source="received")
    later = line.model_copy(update={"timestamp": line.timestamp + timedelta(days=2)})
    assert [await _ingest(pg_session, [event]) for event in (line, later)] == [1, 0]
    assert await pg_session.scalar(select(func.count()).select_from(SiemLogModel)) == 1


async def test_a_time_bounded_search_reads_only_its_days(pg_session: AsyncSession) -> None:
    await _ingest(pg_session, _events(days=3, per_day=4, received=datetime(2026, 12, 1, tzinfo=UTC)))
    day = DAY0 + timedelta(days=1, hours=2)  # 2019-03-06 00:00
    filters = LogFilters(q="host:dc-01", since=day, until=day + timedelta(hours=23))
    stmt = page_statement(filters.clauses(), skip=0, limit=50)
    sql = str(stmt.compile(dialect=pg_session.bind.dialect, compile_kwargs={"literal_binds": True}))
    plan = "\n".join(row[0] for row in await pg_session.execute(text("EXPLAIN " + sql)))
    assert partition_name(day.date()) in plan, plan
    assert partition_name(DAY0.date()) not in plan and DEFAULT_PARTITION not in plan, plan
    rows = (await pg_session.scalars(stmt)).all()
    assert {row.host for row in rows} == {"dc-01"} and len(rows) == 2  # 00:00 and 01:00 of that day


async def test_retention_drops_expired_days_and_prunes_the_boundary_day_row_by_row(
    pg_session: AsyncSession,
) -> None:
    settings = get_settings()
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    cutoff = now - timedelta(days=settings.detection.siem_retention_days)
    old, fresh = cutoff - timedelta(hours=1), cutoff + timedelta(hours=1)
    events = _events(days=3, per_day=4, received=old)
    # the boundary day: its first two events arrived before the cutoff, a replay of two more after it
    boundary = _events(days=3, per_day=4, received=fresh)[8:10]
    replay = [e.model_copy(update={"raw": e.raw + " replayed", "received_at": fresh}) for e in boundary]
    assert await _ingest(pg_session, events + replay) == 14

    purged = await purge_expired(pg_session, settings, now)

    partitions = set((await pg_session.scalars(PARTITIONS)).all())
    kept_day = DAY0 + timedelta(days=2)
    assert partitions == {DEFAULT_PARTITION, partition_name(kept_day.date())}
    assert purged["siem_partitions"] == 3  # 2019-03-04, -05 and -07 went whole
    assert purged["siem_logs"] == 12
    remaining = (await pg_session.scalars(select(SiemLogModel))).all()
    assert sorted(row.raw or "" for row in remaining) == sorted(e.raw or "" for e in replay)


async def test_retention_merges_the_full_text_backlog_of_every_day(pg_session: AsyncSession) -> None:
    """New words wait in each day's GIN pending list, read in full by every search, until merged."""
    assert await _ingest(pg_session, _events(days=2, per_day=4, received=DAY0)) == 8
    word = select(func.count()).select_from(SiemLogModel).where(text("search_vector @@ 'logon'::tsquery"))
    assert await pg_session.scalar(word) == 8
    assert await merge_search_backlog(pg_session) >= 2  # one pending page per day partition at least
    assert await merge_search_backlog(pg_session) == 0
    assert await pg_session.scalar(word) == 8  # now answered from the index proper
