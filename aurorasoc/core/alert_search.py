"""Full-text index over alerts (spec §28): SQLite FTS5, PostgreSQL ``tsvector`` GIN plus ``pg_trgm``.

Neither an FTS5 virtual table nor an expression GIN index fits SQLAlchemy's table metadata, so the
DDL lives here: attached to ``alerts`` with DDL events (every ``metadata.create_all`` builds it,
as the tests' schemas do) and run by the migration that introduced it. ``include_name`` keeps the
objects out of Alembic's model-vs-database comparison.

SQLite: an external-content FTS5 table (the text is stored once, in ``alerts``) kept current by
triggers; the update trigger fires only when an indexed column changes, so a dedup hit (which
bumps counters and times) costs the index nothing. PostgreSQL: one text document expression, its
words stored in the generated column ``search_vector`` with a GIN index, and a trigram GIN index for
substrings; queries use the very same expressions so the planner can match them to the indexes.
"""

from __future__ import annotations

from sqlalchemy import DDL, Table, event

from aurorasoc.core import siem_partitions

# Indexed columns: the alert's words and its entities (spec §27.2); ``iocs`` and
# ``affected_assets`` are JSON lists whose text tokenises into their values.
SEARCH_COLUMNS = (
    "title", "description", "host", "user_name", "src_ip", "dst_ip", "process_executable",
    "process_command_line", "iocs", "affected_assets",
)  # fmt: skip
FTS_TABLE = "alerts_fts"
PG_SEARCH_INDEXES = ("ix_alerts_search_tsv", "ix_alerts_search_trgm", "ix_alerts_assets_gin")

# PostgreSQL: the searchable document; must stay byte-identical to the indexed expressions.
PG_DOCUMENT = " || ' ' || ".join(
    f"coalesce({c}::text, '')" if c in {"iocs", "affected_assets"} else f"coalesce({c}, '')"
    for c in SEARCH_COLUMNS
)
PG_TSVECTOR = f"to_tsvector('simple'::regconfig, {PG_DOCUMENT})"


def _sqlite_trigger(name: str, when: str, body: str) -> str:
    return f"CREATE TRIGGER IF NOT EXISTS {name} {when} ON alerts BEGIN {body}; END"


def _fts_row(prefix: str) -> str:
    return ", ".join(f"{prefix}.{c}" for c in SEARCH_COLUMNS)


# Every name below is a constant of this module; nothing comes from input.
_COLUMNS = ", ".join(SEARCH_COLUMNS)
_DELETE_OLD = (
    f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {_COLUMNS}) "  # noqa: S608
    f"VALUES ('delete', old.rowid, {_fts_row('old')})"
)
_INSERT_NEW = f"INSERT INTO {FTS_TABLE} (rowid, {_COLUMNS}) VALUES (new.rowid, {_fts_row('new')})"  # noqa: S608

SQLITE_CREATE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({_COLUMNS}, "
    "content='alerts', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')",
    _sqlite_trigger("alerts_fts_ai", "AFTER INSERT", _INSERT_NEW),
    _sqlite_trigger("alerts_fts_ad", "AFTER DELETE", _DELETE_OLD),
    _sqlite_trigger("alerts_fts_au", f"AFTER UPDATE OF {_COLUMNS}", f"{_DELETE_OLD}; {_INSERT_NEW}"),
    # Rows stored before the index existed (the migration on a populated database).
    f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')",  # noqa: S608
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS alerts_fts_ai",
    "DROP TRIGGER IF EXISTS alerts_fts_ad",
    "DROP TRIGGER IF EXISTS alerts_fts_au",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)
# The words index is over the stored ``alerts.search_vector`` (0024, generated from ``PG_TSVECTOR``);
# before 0024 it was over the expression itself (``PG_TSVECTOR_INDEX_0017``: migrations only).
_TSV_INDEX = "CREATE INDEX IF NOT EXISTS ix_alerts_search_tsv ON alerts USING gin"
PG_TSVECTOR_INDEX = f"{_TSV_INDEX} (search_vector)"
PG_TSVECTOR_INDEX_0017 = f"{_TSV_INDEX} (({PG_TSVECTOR}))"
POSTGRES_CREATE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    PG_TSVECTOR_INDEX,
    f"CREATE INDEX IF NOT EXISTS ix_alerts_search_trgm ON alerts USING gin (({PG_DOCUMENT}) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_alerts_assets_gin ON alerts USING gin (affected_assets jsonb_path_ops)",
)
POSTGRES_DROP = tuple(f"DROP INDEX IF EXISTS {name}" for name in PG_SEARCH_INDEXES)


def create_statements(dialect: str, *, stored_vector: bool = True) -> tuple[str, ...]:
    """The search DDL; ``stored_vector=False``: as migration 0017 built it (no ``search_vector`` yet)."""
    if dialect == "postgresql" and not stored_vector:
        return tuple(PG_TSVECTOR_INDEX_0017 if sql == PG_TSVECTOR_INDEX else sql for sql in POSTGRES_CREATE)
    return {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}.get(dialect, ())


def drop_statements(dialect: str) -> tuple[str, ...]:
    return {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(dialect, ())


def attach(table: Table) -> None:
    """Build the index whenever ``table`` is created by metadata, and drop it before the table."""
    for dialect in ("sqlite", "postgresql"):
        for sql in create_statements(dialect):
            event.listen(table, "after_create", DDL(sql).execute_if(dialect=dialect))  # type: ignore[no-untyped-call]
        for sql in drop_statements(dialect):
            event.listen(table, "before_drop", DDL(sql).execute_if(dialect=dialect))  # type: ignore[no-untyped-call]


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic filter: the search objects are managed here, and the SIEM partitions at run time
    (``core.siem_partitions``), not by autogenerate."""
    if name is None:
        return True
    if type_ == "table":
        return not (name.startswith(FTS_TABLE) or siem_partitions.is_partition(name))
    unmanaged = (*PG_SEARCH_INDEXES, *siem_partitions.FINGERPRINT_KEYS.values())
    return not (type_ == "index" and name in unmanaged)
