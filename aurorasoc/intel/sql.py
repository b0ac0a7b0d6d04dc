"""Hot-path IOC upserts for alert ingest, as cached textual SQL (see ``alerts.sql`` for why).

The same ``ON CONFLICT`` text runs unchanged on SQLite >= 3.35 and PostgreSQL; typed bind
parameters keep UUID, JSON and UTC-datetime handling identical to the ORM's.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Table, TextClause

from aurorasoc.core.bulk import typed_text
from aurorasoc.intel.models import AlertIOCModel, IOCModel


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
    return typed_text(table, names, sql)


@cache
def alert_ioc_link() -> TextClause:
    table: Table = AlertIOCModel.__table__  # type: ignore[assignment]
    sql = (
        "INSERT INTO alert_iocs (alert_id, ioc_id, last_seen_at) VALUES (:alert_id, :ioc_id, :last_seen_at) "
        "ON CONFLICT DO NOTHING"
    )
    return typed_text(table, ["alert_id", "ioc_id", "last_seen_at"], sql)


@cache
def alert_ioc_times() -> TextClause:
    """Move an alert's links up to its new ``last_seen_at`` (run as an executemany per batch)."""
    table: Table = AlertIOCModel.__table__  # type: ignore[assignment]
    sql = (
        "UPDATE alert_iocs SET last_seen_at = :last_seen_at WHERE alert_id = :alert_id "
        "AND (last_seen_at IS NULL OR last_seen_at < :last_seen_at)"
    )
    return typed_text(table, ["alert_id", "last_seen_at"], sql)
