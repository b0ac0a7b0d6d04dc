"""Alembic migrations: upgrade/downgrade/upgrade on SQLite and PostgreSQL, and drift from the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from aurorasoc.core import migrate
from aurorasoc.core.alert_search import include_name
from aurorasoc.core.models import SIEM_SEARCH_VECTOR, Base


def _tables(async_url: str) -> set[str]:
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine

    async def _inspect() -> set[str]:
        engine = create_async_engine(async_url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(_inspect())


# Created by DDL the autogenerate comparison cannot express: the SQLite FTS5 table (and its shadow
# tables) behind SIEM search, PostgreSQL's GIN expression index, which reflects reformatted, and the
# SIEM fingerprint key, one per dialect (``ddl_if``), which autogenerate reads as both missing.
_NOT_COMPARED = ("siem_logs_fts", "ix_siem_logs_search", "uq_siem_logs_fingerprint")


def _compared(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (name or "").startswith(_NOT_COMPARED)


def _drift(async_url: str) -> list:
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine

    async def _compare() -> list:
        engine = create_async_engine(async_url)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(
                        c,
                        opts={
                            "compare_type": True,
                            "include_name": include_name,
                            "include_object": _compared,
                        },
                    ),
                    Base.metadata,
                )
            )
        await engine.dispose()
        return diff

    return asyncio.run(_compare())


def _round_trip(url: str) -> None:
    migrate.upgrade(url)
    assert set(Base.metadata.tables) <= _tables(url)
    migrate.downgrade(url)
    assert _tables(url) <= {"alembic_version"}
    migrate.upgrade(url)
    assert set(Base.metadata.tables) <= _tables(url)
    assert _drift(url) == []


# (host, user, event time, arrival): two hosts' events of one day, an import of old evidence.
_STORED = [
    ("ws01", "alice", "2026-03-01 08:00:00", "2026-03-01 08:00:05"),
    ("ws01", "alice", "2026-03-01 23:59:00", "2026-03-02 00:00:01"),
    ("ws01", None, "2026-03-01 09:00:00", "2026-03-01 09:00:01"),
    ("srv9", "", "2019-05-05 05:05:05", "2026-03-02 10:00:00"),
]


def _entity_days_backfill(url: str, uuid_sql: str) -> list[tuple]:
    """0026 fills ``siem_entity_days`` from the stored events: per kind (host, user, log source), name
    and the day of the later of event time and arrival; blank names are not entities."""
    migrate.upgrade(url, revision="0025_alert_status_event_time")
    _sql(
        url,
        *(
            "INSERT INTO siem_logs (id, created_at, timestamp, received_at, source, format, severity, fields,"
            f" time_source, fingerprint, entities, host, user_name) VALUES ({uuid_sql.format(n=n)},"
            f" '{arrived}', '{at}', '{arrived}', 'evtx', 'json', 'info', '{{}}', 'record', 'fp{n}', '{{}}',"
            f" '{host}', {'NULL' if user is None else repr(user)})"
            for n, (host, user, at, arrived) in enumerate(_STORED)
        ),
    )
    migrate.upgrade(url)
    (rows,) = _sql(
        url, "SELECT kind, day, name, event_count, last_seen FROM siem_entity_days ORDER BY 1, 2, 3"
    )
    return [(kind, str(day), name, count, str(last)[:19]) for kind, day, name, count, last in rows]


_BACKFILLED = [
    ("host", "2026-03-01", "ws01", 2, "2026-03-01 09:00:00"),
    ("host", "2026-03-02", "srv9", 1, "2019-05-05 05:05:05"),
    ("host", "2026-03-02", "ws01", 1, "2026-03-01 23:59:00"),
    ("source", "2026-03-01", "evtx", 2, "2026-03-01 09:00:00"),
    ("source", "2026-03-02", "evtx", 2, "2026-03-01 23:59:00"),
    ("user", "2026-03-01", "alice", 1, "2026-03-01 08:00:00"),
    ("user", "2026-03-02", "alice", 1, "2026-03-01 23:59:00"),
]


def _log_source_arrival(url: str, uuid_sql: str) -> list[tuple]:
    """0027: an imported file (no followed path) becomes kind ``import``; arrival is the last count."""
    migrate.upgrade(url, revision="0026_siem_entity_days")
    sources = [
        ("sample.evtx", "file", "NULL", 5),
        ("auth", "file", "'/var/log/auth.log'", 3),
        ("fw", "http", "NULL", 0),
    ]
    _sql(
        url,
        *(
            'INSERT INTO log_sources (id, name, kind, format, path, enabled, passthrough_alerts, "offset",'
            " events_total, parse_errors, status, created_at, updated_at) VALUES"
            f" ({uuid_sql.format(n=n)}, '{name}', '{kind}', 'auto', {path}, true, false, 0, {events}, 0,"
            " 'healthy', '2026-03-01 08:00:00', '2026-03-02 09:00:00')"
            for n, (name, kind, path, events) in enumerate(sources)
        ),
    )
    migrate.upgrade(url)
    (rows,) = _sql(url, "SELECT name, kind, last_received_at FROM log_sources ORDER BY name")
    return [(name, kind, str(at)[:19] if at else None) for name, kind, at in rows]


_ARRIVALS = [
    ("auth", "file", "2026-03-02 09:00:00"),
    ("fw", "http", None),
    ("sample.evtx", "import", "2026-03-02 09:00:00"),
]


class TestSQLiteMigrations:
    def test_upgrade_downgrade_upgrade_on_empty_file(self, tmp_path):
        _round_trip(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")

    def test_entity_days_are_filled_from_stored_events(self, tmp_path):
        url = f"sqlite+aiosqlite:///{tmp_path / 'stored.db'}"
        assert _entity_days_backfill(url, "'{n:032x}'") == _BACKFILLED

    def test_imports_and_arrival_times_of_log_sources(self, tmp_path):
        assert _log_source_arrival(f"sqlite+aiosqlite:///{tmp_path / 'src.db'}", "'{n:032x}'") == _ARRIVALS


@pytest.mark.integration
class TestPostgresMigrations:
    def test_upgrade_downgrade_upgrade(self, scratch_pg_url: str) -> None:
        _round_trip(scratch_pg_url)

    def test_entity_days_are_filled_from_stored_events(self, scratch_pg_url: str) -> None:
        assert _entity_days_backfill(scratch_pg_url, "gen_random_uuid()") == _BACKFILLED

    def test_imports_and_arrival_times_of_log_sources(self, scratch_pg_url: str) -> None:
        assert _log_source_arrival(scratch_pg_url, "gen_random_uuid()") == _ARRIVALS

    def test_siem_logs_move_into_day_partitions_and_back(self, scratch_pg_url: str) -> None:
        """0019 on a populated table: every row lands in its event day's partition, the search
        index still answers, and downgrade puts the same rows back into a plain table."""
        migrate.upgrade(scratch_pg_url, revision="0018_siem_scale")
        rows = [(n, f"2019-03-0{1 + n % 3} 23:30:00+00") for n in range(6)]  # 3 days, 2 rows each
        _sql(
            scratch_pg_url,
            *(
                "INSERT INTO siem_logs (id, created_at, timestamp, received_at, source, format, severity,"
                " fields, time_source, fingerprint, entities, message) VALUES (gen_random_uuid(), now(),"
                f" '{at}', now(), 'evtx', 'json', 'info', '{{}}', 'record', 'fp{n}', '{{}}', 'mimikatz {n}')"
                for n, at in rows
            ),
        )
        migrate.upgrade(scratch_pg_url)
        per_partition = _sql(
            scratch_pg_url,
            "SELECT tableoid::regclass::text, count(*) FROM siem_logs GROUP BY 1 ORDER BY 1",
            "SELECT count(*) FROM siem_logs WHERE "
            f"{SIEM_SEARCH_VECTOR} @@ plainto_tsquery('simple', 'mimikatz')",
            "SELECT indexname FROM pg_indexes WHERE tablename = 'siem_logs' AND indexname LIKE '%search'",
        )
        assert per_partition == [
            [("siem_logs_p20190301", 2), ("siem_logs_p20190302", 2), ("siem_logs_p20190303", 2)],
            [(6,)],
            [("ix_siem_logs_search",)],
        ]
        migrate.downgrade(scratch_pg_url, revision="0018_siem_scale")
        assert _sql(
            scratch_pg_url, "SELECT tableoid::regclass::text, count(*) FROM siem_logs GROUP BY 1"
        ) == [[("siem_logs", 6)]]


def _sql(async_url: str, *statements: str) -> list[list[tuple]]:
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def _run() -> list[list[tuple]]:
        engine = create_async_engine(async_url)
        async with engine.begin() as conn:
            results = [await conn.execute(text(sql)) for sql in statements]
            rows = [[tuple(row) for row in result] if result.returns_rows else [] for result in results]
        await engine.dispose()
        return rows

    return asyncio.run(_run())
