"""The SIEM store (spec §13.6, §27, §28): log sources, the event table with its search indexes, saved hunts.

``core.models`` re-exports them so ``Base.metadata`` holds the tables.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    Computed,
    Connection,
    Date,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    event,
    func,
    inspect,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, synonym
from sqlalchemy.sql.compiler import DDLCompiler
from sqlalchemy.sql.ddl import BaseDDLElement, DDLIfCallable
from sqlalchemy.sql.schema import SchemaItem

from aurorasoc.core import siem_partitions
from aurorasoc.core.models_base import Base, _Keyed, _Mutable
from aurorasoc.core.types import JSONType, PostgresOnly, UTCDateTime, utcnow


class LogSourceModel(_Mutable, Base):
    __tablename__ = "log_sources"

    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), default="file", nullable=False)
    format: Mapped[str] = mapped_column(String(16), default="auto", nullable=False)
    path: Mapped[str | None] = mapped_column(String(1024))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    passthrough_alerts: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    offset: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    inode: Mapped[int | None] = mapped_column(BigInteger)
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the newest event's own time
    last_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when a batch last arrived
    events_total: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    parse_errors: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="healthy", nullable=False)


# Spec §28: bare words and phrases search the message and the flattened field values through a
# full-text index. PostgreSQL: a GIN index over this expression (the query compiler emits the very
# same text, so the planner matches it); every non-alphanumeric character separates words, as in
# SQLite's unicode61 tokenizer, and only the first 200,000 characters are indexed (a tsvector is
# bounded to 1 MB). SQLite: an FTS5 table with ``siem_logs`` as external content,
# kept current by triggers; its ``fields`` column holds the JSON leaf values, computed identically on
# insert and delete. The FTS rows are keyed by the implicit rowid, which VACUUM may renumber: after a
# VACUUM run ``SIEM_FTS_REPOPULATE`` (FTS5's own 'rebuild' would index the JSON text instead).
SIEM_SEARCH_VECTOR = (
    "to_tsvector('simple'::regconfig, regexp_replace(left(coalesce(message, '') || ' ' || "
    "jsonb_path_query_array(fields, '$.*'::jsonpath)::text, 200000), '[^[:alnum:]]+', ' ', 'g'))"
)
SIEM_PREFIX_COLUMNS = ("host", "user_name", "process_executable")


def _has_search_vector(bind: Connection | None) -> bool:
    """Whether ``search_vector`` exists (0021 or newer; with no connection: the current model)."""
    return bind is None or "search_vector" in {c["name"] for c in inspect(bind).get_columns("siem_logs")}


def _if_search_vector(present: bool) -> DDLIfCallable:
    """A ``ddl_if`` condition: build the index only when the column's presence is ``present``."""

    def condition(
        ddl: BaseDDLElement,
        target: SchemaItem | str,
        bind: Connection | None,
        tables: list[Table] | None = None,
        state: Any = None,
        *,
        dialect: Dialect,
        compiler: DDLCompiler | None = None,
        checkfirst: bool = False,
    ) -> bool:
        return _has_search_vector(bind) is present

    return condition


_FTS_LEAVES = (
    "(SELECT group_concat(value, ' ') FROM json_tree({row}.fields) WHERE type IN ('text', 'integer', 'real'))"
)
_FTS_ADD = "INSERT INTO siem_logs_fts(rowid, message, fields) VALUES (new.rowid, new.message, {leaves});"
_FTS_REMOVE = (
    "INSERT INTO siem_logs_fts(siem_logs_fts, rowid, message, fields) "
    "VALUES ('delete', old.rowid, old.message, {leaves});"
)
_ADD, _REMOVE = (
    _FTS_ADD.format(leaves=_FTS_LEAVES.format(row="new")),
    _FTS_REMOVE.format(leaves=_FTS_LEAVES.format(row="old")),
)
SIEM_FTS_DDL = (
    "CREATE VIRTUAL TABLE siem_logs_fts USING fts5(message, fields, content='siem_logs')",
    f"CREATE TRIGGER siem_logs_fts_insert AFTER INSERT ON siem_logs BEGIN {_ADD} END",
    f"CREATE TRIGGER siem_logs_fts_delete AFTER DELETE ON siem_logs BEGIN {_REMOVE} END",
    "CREATE TRIGGER siem_logs_fts_update AFTER UPDATE OF message, fields ON siem_logs "
    f"BEGIN {_REMOVE} {_ADD} END",
)
SIEM_FTS_REPOPULATE = (
    "INSERT INTO siem_logs_fts(siem_logs_fts) VALUES ('delete-all')",
    "INSERT INTO siem_logs_fts(rowid, message, fields) SELECT rowid, message, "  # noqa: S608 (constant)
    f"{_FTS_LEAVES.format(row='siem_logs')} FROM siem_logs",
)


class SiemLogModel(_Keyed, Base):
    __tablename__ = "siem_logs"
    __table_args__ = (
        Index("ix_siem_logs_timestamp", "timestamp"),
        Index("ix_siem_logs_source_timestamp", "source", "timestamp"),
        Index("ix_siem_logs_host", "host"),
        Index("ix_siem_logs_src_ip", "src_ip"),
        Index("ix_siem_logs_received_at", "received_at"),
        # Idempotent ingest (spec §27.5). A unique index of a partitioned table must hold the partition
        # key: on PostgreSQL it is (fingerprint, event time) — the same record keeps both.
        Index("uq_siem_logs_fingerprint", "fingerprint", unique=True).ddl_if(dialect="sqlite"),
        Index("uq_siem_logs_fingerprint_time", "fingerprint", "timestamp", unique=True).ddl_if(
            dialect="postgresql"
        ),
        Index("ix_siem_logs_host_lower_timestamp", func.lower(text("host")), "timestamp"),
        Index("ix_siem_logs_user_lower", func.lower(text("user_name"))),
        Index("ix_siem_logs_dst_ip", "dst_ip"),
        Index("ix_siem_logs_event_id", "event_id"),
        Index("ix_siem_logs_channel", "channel"),
        Index("ix_siem_logs_process_entity_id", "process_entity_id"),
        Index("ix_siem_logs_process_lower", func.lower(text("process_executable"))),
        Index("ix_siem_logs_parent_lower", func.lower(text("parent_executable"))),
        Index("ix_siem_logs_channel_lower", func.lower(text("channel"))),
        # The GIN index over the stored ``search_vector`` (0021); a schema from before 0021 (which
        # 0019 rebuilds on the way up and down) has it over the expression itself. Same name: one or other.
        Index("ix_siem_logs_search", "search_vector", postgresql_using="gin").ddl_if(
            dialect="postgresql", callable_=_if_search_vector(True)
        ),
        Index("ix_siem_logs_search", text(SIEM_SEARCH_VECTOR), postgresql_using="gin").ddl_if(
            dialect="postgresql", callable_=_if_search_vector(False)
        ),
        *(
            # ``host:web*`` → ``lower(host) LIKE 'web%'``: PostgreSQL serves it from a pattern index
            # that also holds the page key (event time, id) and the column itself, so the count and
            # the page's keys come from the index alone (0022; ``host`` for ``host IS NOT NULL``)
            Index(
                f"ix_siem_logs_{name}_prefix",
                text(f"lower({name}) text_pattern_ops"),
                "timestamp",
                "id",
                postgresql_include=[name],
            ).ddl_if(dialect="postgresql")
            for name in SIEM_PREFIX_COLUMNS
        ),
        {"postgresql_partition_by": "RANGE (timestamp)"},  # daily partitions: core.siem_partitions
    )

    # The primary key holds the partition key (PostgreSQL requires it); rows are still known by ``id``.
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    log_source_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("log_sources.id", ondelete="SET NULL")
    )
    source: Mapped[str] = mapped_column(String(128), nullable=False)
    format: Mapped[str] = mapped_column(String(16), nullable=False)
    product: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    service: Mapped[str | None] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(String(64))
    host: Mapped[str | None] = mapped_column(String(255))
    user_name: Mapped[str | None] = mapped_column(String(255))
    src_ip: Mapped[str | None] = mapped_column(String(64))
    src_port: Mapped[int | None] = mapped_column(Integer)
    dst_ip: Mapped[str | None] = mapped_column(String(64))
    dst_port: Mapped[int | None] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(32), default="info", nullable=False)
    message: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    raw: Mapped[str | None] = mapped_column(Text)
    # Spec §27: ``timestamp`` is the event time (``event_time``); ``time_source`` says whether it came
    # from the record or is the arrival time; ``fingerprint`` makes re-ingest idempotent.
    time_source: Mapped[str] = mapped_column(String(16), default="record", nullable=False)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(255))
    process_executable: Mapped[str | None] = mapped_column(String(1024))
    process_command_line: Mapped[str | None] = mapped_column(Text)
    process_entity_id: Mapped[str | None] = mapped_column(String(128))
    parent_executable: Mapped[str | None] = mapped_column(String(1024))
    parent_entity_id: Mapped[str | None] = mapped_column(String(128))
    entities: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    # Spec §28: the full-text words of the row, computed by PostgreSQL on insert (the writers never
    # send it) and stored, so a phrase's position check reads them instead of re-tokenising every
    # candidate row. Never loaded (deferred); on SQLite a virtual NULL column (FTS5 does this there).
    search_vector: Mapped[str | None] = mapped_column(
        TSVECTOR().with_variant(Text(), "sqlite"), Computed(PostgresOnly(SIEM_SEARCH_VECTOR)), deferred=True
    )
    event_time = synonym("timestamp")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"primary_key": [cls.__table__.c.id]}


def _sqlite_ddl(statement: str) -> DDL:
    ddl: DDL = DDL(statement).execute_if(dialect="sqlite")  # type: ignore[no-untyped-call]
    return ddl


for _statement in SIEM_FTS_DDL:
    event.listen(SiemLogModel.__table__, "after_create", _sqlite_ddl(_statement))
event.listen(SiemLogModel.__table__, "before_drop", _sqlite_ddl("DROP TABLE IF EXISTS siem_logs_fts"))
event.listen(
    SiemLogModel.__table__,
    "after_create",
    DDL(siem_partitions.CREATE_DEFAULT).execute_if(dialect="postgresql"),  # type: ignore[no-untyped-call]
)


class SiemHuntModel(_Mutable, Base):
    """A saved SIEM query (spec §13.6); scheduling fields are executed by the scheduler (§21)."""

    __tablename__ = "siem_hunts"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text, nullable=False)
    filters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    sharing_mode: Mapped[str] = mapped_column(String(16), default="private", nullable=False)
    shared_with_roles: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    schedule_minutes: Mapped[int | None] = mapped_column(Integer)
    alert_on_hits: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    dispatch_agent: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_hit_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    total_hits: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)


class SiemEntityDayModel(Base):
    """Events per host or user per UTC day of activity: what the Endpoints and UEBA pages count.

    The day is that of the later of event time and arrival (an import of last year's logs is
    activity today), so the inventories' window reads a few rows per entity instead of every event.
    """

    __tablename__ = "siem_entity_days"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_count: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
