"""Daily partitions of ``siem_logs`` on PostgreSQL (spec §28, issue #15).

Why: retention drops a whole day instead of deleting its rows one by one (no bloat, no vacuum debt),
and a search bounded in time reads only the days it covers. The table is ``PARTITION BY RANGE
(timestamp)`` (event time, so a re-ingested record lands on the same key: idempotence holds) with a
``DEFAULT`` partition as safety net. A partition per UTC day is created on demand, before a batch is
written, for the days the batch holds (imported EVTX carries event times from years ago), in a
savepoint of the writer's own transaction: a separate connection would wait on the locks that very
transaction holds. If a day cannot get its partition (rows of that day already sit in ``DEFAULT``,
or a deadlock with another writer creating one), its rows go to ``DEFAULT``, which retention prunes
row by row: correctness never depends on a partition existing. SQLite has no partitions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

TABLE = "siem_logs"
DEFAULT_PARTITION = f"{TABLE}_default"
DAY_PREFIX = f"{TABLE}_p"
# The fingerprint key per dialect (``ddl_if``), which autogenerate cannot tell apart: the migrations own them.
FINGERPRINT_KEYS = {"postgresql": "uq_siem_logs_fingerprint_time", "sqlite": "uq_siem_logs_fingerprint"}
CREATE_DEFAULT = f"CREATE TABLE IF NOT EXISTS {DEFAULT_PARTITION} PARTITION OF {TABLE} DEFAULT"

# Days this process knows to be settled (partition committed, or its rows live in DEFAULT): no
# catalog round trip per batch. A day created in a transaction is pending in ``Session.info`` until
# that transaction commits (a rolled-back creation must be tried again); retention forgets what it drops.
_settled: set[date] = set()
_PENDING = "siem_partition_days"


@event.listens_for(Session, "after_commit")
def _settle(session: Session) -> None:
    _settled.update(session.info.pop(_PENDING, ()))


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.nested is False:
        session.info.pop(_PENDING, None)


# The day partitions, oldest first, with the rows the statistics count (0 before the first analyse).
_DAY_PARTITIONS = text(
    "SELECT c.relname, greatest(c.reltuples, 0)::bigint"
    " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
    " WHERE i.inhparent = CAST(:parent AS regclass) AND c.relname LIKE :pattern ORDER BY c.relname"
)


def partition_name(day: date) -> str:
    return f"{DAY_PREFIX}{day:%Y%m%d}"


def partition_day(name: str) -> date:
    return datetime.strptime(name.removeprefix(DAY_PREFIX), "%Y%m%d").replace(tzinfo=UTC).date()


def is_partition(name: str) -> bool:
    """Partition tables are created at run time, not by the models (the migration drift check skips them)."""
    return name == DEFAULT_PARTITION or (name.startswith(DAY_PREFIX) and name[len(DAY_PREFIX) :].isdigit())


def _create_day(day: date) -> str:
    start = datetime.combine(day, time(), UTC)
    bounds = f"FROM ('{start.isoformat()}') TO ('{(start + timedelta(days=1)).isoformat()}')"
    return f"CREATE TABLE IF NOT EXISTS {partition_name(day)} PARTITION OF {TABLE} FOR VALUES {bounds}"


async def ensure_day_partitions(session: AsyncSession, timestamps: Iterable[datetime]) -> None:
    """Create the missing partitions for the UTC days of ``timestamps`` (no-op on SQLite)."""
    if session.bind.dialect.name != "postgresql":
        return
    pending: set[date] = session.info.setdefault(_PENDING, set())
    for day in sorted({ts.astimezone(UTC).date() for ts in timestamps} - _settled - pending):
        try:
            async with session.begin_nested():
                await session.execute(text(_create_day(day)))
            pending.add(day)
        except DBAPIError:
            _settled.add(day)  # rows of that day already in DEFAULT (or a deadlock): DEFAULT keeps them


async def _expired(session: AsyncSession, name: str, cutoff: datetime) -> bool:
    """Every row received before ``cutoff`` (an index lookup); an empty day once the day itself is."""
    newest = await session.scalar(text(f"SELECT max(received_at) FROM {name}"))  # noqa: S608 (catalog name)
    day_end = datetime.combine(partition_day(name) + timedelta(days=1), time(), UTC)
    return bool(newest < cutoff) if newest is not None else day_end <= cutoff


async def partition_days(session: AsyncSession) -> list[tuple[date, int]]:
    """The days that have a partition, oldest first, each with the rows PostgreSQL's statistics say
    it holds (0 before its first analyse); one catalog query, none on SQLite."""
    if session.bind.dialect.name != "postgresql":
        return []
    found = await session.execute(_DAY_PARTITIONS, {"parent": TABLE, "pattern": f"{DAY_PREFIX}%"})
    return [(partition_day(name), int(rows)) for name, rows in found if is_partition(name)]


async def drop_days_before(session: AsyncSession, cutoff: datetime) -> tuple[int, int]:
    """Drop the day partitions every row of which was received before ``cutoff``; returns
    (partitions dropped, rows they held).

    Retention counts from ``received_at`` (see ``siem.retention``), while partitions are by event
    time: a day goes whole once its newest arrival is older than the cutoff; the caller deletes the
    remaining expired rows one by one. A candidate is locked and checked again before it goes, so a
    row a concurrent import just wrote into an old day is never dropped with it.
    """
    if session.bind.dialect.name != "postgresql":
        return 0, 0
    names = (await session.scalars(_DAY_PARTITIONS, {"parent": TABLE, "pattern": f"{DAY_PREFIX}%"})).all()
    dropped = rows = 0
    for name in filter(is_partition, names):
        if not await _expired(session, name, cutoff):
            continue
        await session.execute(text(f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE"))
        if not await _expired(session, name, cutoff):
            continue
        rows += await session.scalar(text(f"SELECT count(*) FROM {name}")) or 0  # noqa: S608 (catalog name)
        await session.execute(text(f"DROP TABLE {name}"))
        _settled.discard(partition_day(name))
        dropped += 1
    return dropped, rows
