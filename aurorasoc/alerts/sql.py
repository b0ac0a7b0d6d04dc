"""Hot-path upserts for alert ingest, as cached textual SQL.

SQLAlchemy does not cache compiled ``INSERT … ON CONFLICT`` constructs (the dialect inserts set
``inherit_cache = False``), so compiling them cost more than executing them. The same
``ON CONFLICT … DO UPDATE … RETURNING`` text runs unchanged on SQLite ≥ 3.35 and PostgreSQL;
typed bind parameters keep UUID, JSON and UTC-datetime handling identical to the ORM's.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Table, TextClause, bindparam, text
from sqlalchemy.sql.selectable import TextualSelect

from aurorasoc.core.models import OPEN_ALERT_PREDICATE, AlertIOCModel, AlertModel, IOCModel


def _typed(table: Table, names: list[str], sql: str) -> TextClause:
    columns = table.columns
    return text(sql).bindparams(*(bindparam(n, type_=columns[n].type) for n in names))


@cache
def alert_upsert() -> TextualSelect:
    """Insert an alert, or bump the open alert with the same dedup hash; returns the row."""
    table: Table = AlertModel.__table__  # type: ignore[assignment]
    names = [c.name for c in table.columns if c.name not in {"occurrence_count"}]
    returning = ", ".join(c.name for c in table.columns)
    # Built from our own table metadata only; every value is a bound parameter.
    sql = (
        f"INSERT INTO alerts ({', '.join(names)}, occurrence_count) "  # noqa: S608
        f"VALUES ({', '.join(':' + n for n in names)}, 1) "
        f"ON CONFLICT (dedup_hash) WHERE {OPEN_ALERT_PREDICATE} DO UPDATE SET "
        "occurrence_count = alerts.occurrence_count + 1, "
        # Event times: the span of every event behind the alert, whatever order they arrive in.
        "first_seen_at = CASE WHEN :first_seen_at < alerts.first_seen_at "
        "THEN :first_seen_at ELSE alerts.first_seen_at END, "
        "last_seen_at = CASE WHEN :last_seen_at > alerts.last_seen_at "
        "THEN :last_seen_at ELSE alerts.last_seen_at END, updated_at = :updated_at "
        f"RETURNING {returning}"
    )
    return _typed(table, names, sql).columns(*table.columns)


@cache
def ioc_upsert() -> TextClause:
    """Insert a typed IOC, or add the row's ``sightings`` (max confidence, newest last_seen).

    Run as an executemany, one row per distinct IOC of a batch carrying how many new alerts saw it.
    """
    table: Table = IOCModel.__table__  # type: ignore[assignment]
    names = [c.name for c in table.columns]
    sql = (
        f"INSERT INTO iocs ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)}) "  # noqa: S608
        "ON CONFLICT (type, value) DO UPDATE SET sightings = iocs.sightings + excluded.sightings, "
        "last_seen = excluded.last_seen, updated_at = excluded.updated_at, confidence = CASE "
        "WHEN excluded.confidence > iocs.confidence THEN excluded.confidence ELSE iocs.confidence END"
    )
    return _typed(table, names, sql)


@cache
def alert_ioc_link() -> TextClause:
    table: Table = AlertIOCModel.__table__  # type: ignore[assignment]
    sql = "INSERT INTO alert_iocs (alert_id, ioc_id) VALUES (:alert_id, :ioc_id) ON CONFLICT DO NOTHING"
    return _typed(table, ["alert_id", "ioc_id"], sql)
