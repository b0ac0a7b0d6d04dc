"""Cases and their timelines (spec §4, §14.3); ``core.models`` re-exports them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aurorasoc.core.models_base import Base, _Keyed, _Mutable
from aurorasoc.core.types import JSONType, UTCDateTime, utcnow


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
