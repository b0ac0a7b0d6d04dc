"""Hot-path upsert for alert ingest, as cached textual SQL (the IOC upserts are in ``intel.sql``).

SQLAlchemy does not cache compiled ``INSERT … ON CONFLICT`` constructs (the dialect inserts set
``inherit_cache = False``), so compiling them cost more than executing them. The same
``ON CONFLICT … DO UPDATE … RETURNING`` text runs unchanged on SQLite ≥ 3.35 and PostgreSQL;
typed bind parameters keep UUID, JSON and UTC-datetime handling identical to the ORM's.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import bindparam, select, text
from sqlalchemy.sql.selectable import ExecutableReturnsRows

from aurorasoc.alerts.models import OPEN_ALERT_PREDICATE, WRITTEN_COLUMNS, AlertModel


@lru_cache(maxsize=16)
def alert_upsert(rows: int = 1) -> ExecutableReturnsRows:
    """Insert ``rows`` alerts in one statement; an alert whose dedup hash an open alert holds
    bumps that one instead (by its own ``occurrence_count``). Returns every row written, as
    ``AlertModel`` objects. The ORM statement is cached with the text: SQLAlchemy memoises a
    statement's cache key on the object, and walking the ~9k bound parameters anew for every
    batch cost more CPU than the rest of the statement's execution.

    Parameters are ``<column>_<n>``. The rows must have distinct dedup hashes (PostgreSQL refuses
    to update one row twice in a statement): the service folds a batch's repeats first.
    """
    names = [c.name for c in WRITTEN_COLUMNS]
    returning = ", ".join(names)
    values = ", ".join("(" + ", ".join(f":{p}" for p in row) + ")" for row in upsert_param_names(rows))
    # Built from our own table metadata only; every value is a bound parameter.
    sql = (
        f"INSERT INTO alerts ({', '.join(names)}) VALUES {values} "  # noqa: S608
        f"ON CONFLICT (dedup_hash) WHERE {OPEN_ALERT_PREDICATE} DO UPDATE SET "
        "occurrence_count = alerts.occurrence_count + excluded.occurrence_count, "
        # Event times: the span of every event behind the alert, whatever order they arrive in.
        "first_seen_at = CASE WHEN excluded.first_seen_at < alerts.first_seen_at "
        "THEN excluded.first_seen_at ELSE alerts.first_seen_at END, "
        "last_seen_at = CASE WHEN excluded.last_seen_at > alerts.last_seen_at "
        "THEN excluded.last_seen_at ELSE alerts.last_seen_at END, updated_at = excluded.updated_at "
        f"RETURNING {returning}"
    )
    params = [
        bindparam(name, type_=c.type)
        for row in upsert_param_names(rows)
        for name, c in zip(row, WRITTEN_COLUMNS, strict=True)
    ]
    return select(AlertModel).from_statement(text(sql).bindparams(*params).columns(*WRITTEN_COLUMNS))


@lru_cache(maxsize=16)
def upsert_param_names(rows: int) -> tuple[tuple[str, ...], ...]:
    """Per row of :func:`alert_upsert`, its parameters' names in ``WRITTEN_COLUMNS`` order (formatting
    ~9k names for every batch cost as much as building its rows)."""
    return tuple(tuple(f"{c.name}_{i}" for c in WRITTEN_COLUMNS) for i in range(rows))
