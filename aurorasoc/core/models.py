"""SQLAlchemy 2 typed ORM: the tables of the foundation (spec §4).

Enum-valued columns hold the enum's string value so rows compare equal to plain strings
(``alert.severity == "high"``). Primary keys are UUIDs generated client-side at flush.
Later domains add their tables in their own modules and migrations.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    event,
    func,
    text,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship, synonym

from aurorasoc.core import alert_search, siem_partitions
from aurorasoc.core.models_base import Base as Base
from aurorasoc.core.models_base import _Keyed, _Mutable
from aurorasoc.core.types import JSONType, UTCDateTime, utcnow

OPEN_ALERT_PREDICATE = "status NOT IN ('resolved', 'false_positive')"


class UserModel(_Mutable, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    display_name: Mapped[str | None] = mapped_column(String(128))
    email: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    auth_provider: Mapped[str] = mapped_column(String(32), default="local", nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Tokens issued before this instant are refused (set by a password reset or role change).
    sessions_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiKeyModel(_Mutable, Base):
    __tablename__ = "api_keys"

    service_name: Mapped[str] = mapped_column(String(128), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    key_prefix: Mapped[str] = mapped_column(String(32), nullable=False)
    permissions: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RevokedTokenModel(Base):
    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class CaseModel(_Mutable, Base):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_status_severity", "status", "severity"),)

    title: Mapped[str] = mapped_column(String(500), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(32), default="medium", nullable=False)
    status: Mapped[str] = mapped_column(String(32), default="open", nullable=False)
    assigned_to: Mapped[str | None] = mapped_column(String(64))
    assigned_agent: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(32), default="manual", nullable=False)
    cps_involved: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    confidence: Mapped[float | None] = mapped_column(Float)
    mitre_techniques: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    iocs: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    affected_assets: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    recommendations: Mapped[list[Any]] = mapped_column(JSONType, default=list, nullable=False)
    resolution_notes: Mapped[str | None] = mapped_column(Text)
    status_before_approval: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict, nullable=False)

    timeline: Mapped[list[TimelineEntryModel]] = relationship(
        back_populates="case",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="TimelineEntryModel.timestamp",
    )


class TimelineEntryModel(_Keyed, Base):
    __tablename__ = "case_timeline"
    __table_args__ = (Index("ix_case_timeline_case_ts", "case_id", "timestamp"),)

    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
    )
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    details: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    case: Mapped[CaseModel] = relationship(back_populates="timeline")


class AlertModel(_Mutable, Base):
    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_severity_status_created", "severity", "status", "created_at"),
        Index("ix_alerts_created_at", "created_at"),
        Index("ix_alerts_dedup_hash", "dedup_hash"),
        # At most one *open* alert per dedup hash: makes dedup atomic under concurrent ingest.
        Index(
            "uq_alerts_open_dedup_hash",
            "dedup_hash",
            unique=True,
            sqlite_where=text(OPEN_ALERT_PREDICATE),
            postgresql_where=text(OPEN_ALERT_PREDICATE),
        ),
        Index("ix_alerts_case_id", "case_id"),
        Index("ix_alerts_source", "source"),
        # Entity lookups (spec §27.2, §28): case-insensitive through lower(), newest event time first.
        Index("ix_alerts_host_lower_last_seen", func.lower(text("host")), "last_seen_at"),
        Index("ix_alerts_user_lower_last_seen", func.lower(text("user_name")), "last_seen_at"),
        Index("ix_alerts_src_ip", "src_ip"),
        Index("ix_alerts_dst_ip", "dst_ip"),
        Index("ix_alerts_process_executable", "process_executable"),
        Index("ix_alerts_last_seen_at", "last_seen_at"),
        # Keyset pages on the other sort orders of the queue (spec §28).
        Index("ix_alerts_occurrence_count", "occurrence_count"),
        Index("ix_alerts_title", "title"),
    )

    title: Mapped[str] = mapped_column(String(500), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(32), default="medium", nullable=False)
    status: Mapped[str] = mapped_column(String(32), default="new", nullable=False)
    source: Mapped[str] = mapped_column(String(128), default="manual", nullable=False)
    asset_type: Mapped[str | None] = mapped_column(String(32))
    affected_assets: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    iocs: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    mitre_techniques: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    raw_log: Mapped[str | None] = mapped_column(Text)
    assigned_agent: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="SET NULL"))
    dedup_hash: Mapped[str | None] = mapped_column(String(64))
    occurrence_count: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    resolution: Mapped[str | None] = mapped_column(String(32))
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("alerts.id", ondelete="SET NULL"))
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    origin_site: Mapped[str | None] = mapped_column(String(128))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict, nullable=False)
    # Evidence (spec §27.2): the entities of the events behind the alert; ``entities`` holds all of them
    # under ECS names, the columns the ones the queue filters and correlation looks up.
    host: Mapped[str | None] = mapped_column(String(255))
    user_name: Mapped[str | None] = mapped_column(String(255))
    src_ip: Mapped[str | None] = mapped_column(String(64))
    dst_ip: Mapped[str | None] = mapped_column(String(64))
    process_executable: Mapped[str | None] = mapped_column(String(1024))
    process_command_line: Mapped[str | None] = mapped_column(Text)
    process_entity_id: Mapped[str | None] = mapped_column(String(128))
    parent_executable: Mapped[str | None] = mapped_column(String(1024))
    parent_command_line: Mapped[str | None] = mapped_column(Text)
    entities: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    observables: Mapped[list[Any]] = mapped_column(JSONType, default=list, nullable=False)


alert_search.attach(AlertModel.__table__)  # type: ignore[arg-type]


class IOCModel(_Mutable, Base):
    __tablename__ = "iocs"
    __table_args__ = (
        UniqueConstraint("type", "value", name="uq_iocs_type_value"),
        Index("ix_iocs_value", "value"),  # correlation looks indicators up by value alone
    )

    type: Mapped[str] = mapped_column(String(32), nullable=False)
    value: Mapped[str] = mapped_column(String(2048), nullable=False)
    source: Mapped[str] = mapped_column(String(64), default="manual", nullable=False)
    confidence: Mapped[float] = mapped_column(Float, default=0.5, nullable=False)
    status: Mapped[str] = mapped_column(String(32), default="active", nullable=False)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    tlp: Mapped[str] = mapped_column(String(16), default="amber", nullable=False)
    sightings: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    origin_site: Mapped[str | None] = mapped_column(String(128))
    # Set when threat intel supplied the row (issue 17): the feed's name and when the indicator lapses.
    feed: Mapped[str | None] = mapped_column(String(64), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertIOCModel(Base):
    __tablename__ = "alert_iocs"
    __table_args__ = (Index("ix_alert_iocs_ioc_id", "ioc_id"),)  # the alerts of an indicator

    alert_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    ioc_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("iocs.id", ondelete="CASCADE"), primary_key=True
    )


class AuditLogModel(_Keyed, Base):
    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("ix_audit_logs_timestamp", "timestamp"),
        Index("ix_audit_logs_resource", "resource_type", "resource_id"),
    )

    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    actor_type: Mapped[str] = mapped_column(String(16), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    resource_type: Mapped[str | None] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    ip: Mapped[str | None] = mapped_column(String(64))
    mode: Mapped[str | None] = mapped_column(String(16))


class SystemSettingModel(Base):
    __tablename__ = "system_settings"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


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
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
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
        Index("ix_siem_logs_search", text(SIEM_SEARCH_VECTOR), postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
        *(
            # ``host:web*`` → ``lower(host) LIKE 'web%'``: PostgreSQL serves it from a pattern index
            Index(f"ix_siem_logs_{name}_prefix", text(f"lower({name}) text_pattern_ops")).ddl_if(
                dialect="postgresql"
            )
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


class DetectionRuleModel(_Mutable, Base):
    __tablename__ = "detection_rules"

    rule_uid: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), default="rule", nullable=False)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    level: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str | None] = mapped_column(String(32))
    logsource_product: Mapped[str | None] = mapped_column(String(64))
    logsource_category: Mapped[str | None] = mapped_column(String(64))
    logsource_service: Mapped[str | None] = mapped_column(String(64))
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    yaml: Mapped[str] = mapped_column(Text, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    origin: Mapped[str] = mapped_column(String(16), default="custom", nullable=False)
    supported: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    unsupported_reason: Mapped[str | None] = mapped_column(Text)
    hit_count: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    last_hit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(64))
    pack: Mapped[str | None] = mapped_column(String(64), index=True)  # rule_packs.name (origin "pack")


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


class PlaybookModel(_Mutable, Base):
    """A validated SOAR playbook (spec §15.1); ``definition`` is the normalised JSON form."""

    __tablename__ = "playbooks"

    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    severity_filter: Mapped[str] = mapped_column(String(32), default="medium", nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    mitre_techniques: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    source_yaml: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(64))


class PlaybookExecutionModel(_Mutable, Base):
    """One run of a playbook, persisted after every step (spec §15.3)."""

    __tablename__ = "playbook_executions"
    __table_args__ = (Index("ix_playbook_executions_status_created", "status", "created_at"),)

    playbook_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("playbooks.id", ondelete="SET NULL")
    )
    playbook_name: Mapped[str] = mapped_column(String(128), nullable=False)
    playbook_version: Mapped[int] = mapped_column(Integer, nullable=False)
    alert_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("alerts.id", ondelete="SET NULL"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="SET NULL"))
    trigger: Mapped[str] = mapped_column(String(32), default="manual", nullable=False)
    triggered_by: Mapped[str | None] = mapped_column(String(128))
    preview: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    status: Mapped[str] = mapped_column(String(32), default="pending", nullable=False)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HumanApprovalModel(_Mutable, Base):
    """A human decision gate (spec §15.4): pending → approved / rejected / expired."""

    __tablename__ = "human_approvals"
    __table_args__ = (Index("ix_human_approvals_status_created", "status", "created_at"),)

    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="SET NULL"))
    execution_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("playbook_executions.id", ondelete="CASCADE")
    )
    step_name: Mapped[str | None] = mapped_column(String(128))
    investigation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action_type: Mapped[str] = mapped_column(String(64), nullable=False)
    action_params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    target: Mapped[str | None] = mapped_column(String(512))
    justification: Mapped[str | None] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    requested_by: Mapped[str] = mapped_column(String(128), nullable=False)
    risk_level: Mapped[str] = mapped_column(String(32), default="low", nullable=False)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    status: Mapped[str] = mapped_column(String(32), default="pending", nullable=False)
    ttl_seconds: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_comment: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class ConnectorActionModel(_Keyed, Base):
    """Every connector call, simulated or real (spec §15.6): the record of what was (or would be) done."""

    __tablename__ = "connector_actions"
    __table_args__ = (Index("ix_connector_actions_execution", "execution_id"),)

    connector: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target: Mapped[str | None] = mapped_column(String(512))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    simulated: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    result: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    execution_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    approval_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor: Mapped[str | None] = mapped_column(String(128))


class ReportModel(_Keyed, Base):
    """A generated case report (spec §19): immutable, so no ``updated_at``; regenerating adds a row."""

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_case_created", "case_id", "created_at"),)

    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
    )
    report_type: Mapped[str] = mapped_column(String(32), nullable=False)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    content_md: Mapped[str] = mapped_column(Text, nullable=False)
    content_html: Mapped[str] = mapped_column(Text, nullable=False)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    generated_by: Mapped[str] = mapped_column(String(128), nullable=False)
    narrative_source: Mapped[str] = mapped_column(String(16), default="template", nullable=False)


class AutomationRuleModel(_Mutable, Base):
    """Conditions over new alerts and what to do when they hold (spec §15.5)."""

    __tablename__ = "automation_rules"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    priority: Mapped[int] = mapped_column(Integer, default=100, nullable=False)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    action_params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    playbook_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("playbooks.id", ondelete="SET NULL")
    )
    cooldown_seconds: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fire_count: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(64))


# Agent-layer tables live in their own module; importing them here registers them on Base.metadata.
from aurorasoc.agents.models import InvestigationEventModel as InvestigationEventModel  # noqa: E402
from aurorasoc.agents.models import InvestigationModel as InvestigationModel  # noqa: E402
from aurorasoc.agents.models import VectorEmbeddingModel as VectorEmbeddingModel  # noqa: E402
from aurorasoc.cases.models_files import CaseEvidenceModel as CaseEvidenceModel  # noqa: E402
from aurorasoc.cps.models import AccessBadgeModel as AccessBadgeModel  # noqa: E402
from aurorasoc.cps.models import AttestationNonceModel as AttestationNonceModel  # noqa: E402
from aurorasoc.cps.models import AttestationRecordModel as AttestationRecordModel  # noqa: E402
from aurorasoc.cps.models import CPSConduitModel as CPSConduitModel  # noqa: E402
from aurorasoc.cps.models import CPSDeviceModel as CPSDeviceModel  # noqa: E402
from aurorasoc.cps.models import CPSTelemetryModel as CPSTelemetryModel  # noqa: E402
from aurorasoc.cps.models import CPSZoneModel as CPSZoneModel  # noqa: E402
from aurorasoc.cps.models import FirmwareBundleModel as FirmwareBundleModel  # noqa: E402
from aurorasoc.cps.models import FirmwareRolloutModel as FirmwareRolloutModel  # noqa: E402
from aurorasoc.detection.models import RuleExceptionModel as RuleExceptionModel  # noqa: E402
from aurorasoc.detection.models import RuleHitDayModel as RuleHitDayModel  # noqa: E402
from aurorasoc.detection.models import RulePackModel as RulePackModel  # noqa: E402
from aurorasoc.intel.models import AllowListEntryModel as AllowListEntryModel  # noqa: E402
from aurorasoc.intel.models import ObservableModel as ObservableModel  # noqa: E402
from aurorasoc.intel.models_feeds import IntelFeedModel as IntelFeedModel  # noqa: E402
from aurorasoc.network.models import NetworkAttackModel as NetworkAttackModel  # noqa: E402
from aurorasoc.network.models import SiteLinkModel as SiteLinkModel  # noqa: E402
from aurorasoc.network.models import SiteModel as SiteModel  # noqa: E402
