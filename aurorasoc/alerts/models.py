"""The alerts table (spec §4, §27.2, §28) and its search DDL; ``core.models`` re-exports it.

``case_id`` names ``cases.id`` by table name only: ``cases`` sits above ``alerts`` in the layer order.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Computed,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from aurorasoc.core import alert_search
from aurorasoc.core.models_base import Base, _Mutable
from aurorasoc.core.types import JSONType, PostgresOnly, UTCDateTime, utcnow

OPEN_ALERT_PREDICATE = "status NOT IN ('resolved', 'false_positive')"


class AlertModel(_Mutable, Base):
    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_severity_status_created", "severity", "status", "created_at"),
        # The queue's default order is event time (spec §27.1): the severity/status filter reads its
        # rows in that order from here instead of sorting every match.
        Index("ix_alerts_severity_status_last_seen", "severity", "status", "last_seen_at"),
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
        Index("ix_alerts_src_ip_last_seen", "src_ip", "last_seen_at"),  # also correlation by source
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
    # Spec §28: the alert's words, computed by PostgreSQL on every write and stored (0024), so a
    # text search checks its candidates against stored words instead of re-tokenising each one's
    # document. Never loaded, never written; a virtual NULL column on SQLite (FTS5 does this there).
    search_vector: Mapped[str | None] = mapped_column(
        TSVECTOR().with_variant(Text(), "sqlite"),
        Computed(PostgresOnly(alert_search.PG_TSVECTOR)),
        deferred=True,
    )


alert_search.attach(AlertModel.__table__)  # type: ignore[arg-type]
# The columns a writer sends (and reads back): all but the generated one.
_TABLE: Table = AlertModel.__table__  # type: ignore[assignment]
WRITTEN_COLUMNS: tuple[Column[Any], ...] = tuple(c for c in _TABLE.columns if c.computed is None)
