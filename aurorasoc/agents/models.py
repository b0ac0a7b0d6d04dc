"""Tables of the agent layer (spec §4): investigations and their event log.

Kept apart from ``core.models`` to keep that module readable; ``core.models`` re-exports them so
``Base.metadata`` (Alembic, ``create_all``) always holds every table.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from aurorasoc.core.models_base import Base, _Keyed, _Mutable
from aurorasoc.core.types import JSONType, UTCDateTime


class InvestigationModel(_Mutable, Base):
    """One agent run (spec §16.5): who asked, about what, and the verdict it reached."""

    __tablename__ = "investigations"
    __table_args__ = (Index("ix_investigations_status_created", "status", "created_at"),)

    task_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    agent: Mapped[str] = mapped_column(String(64), nullable=False)
    prompt: Mapped[str] = mapped_column(Text, nullable=False)
    priority: Mapped[int] = mapped_column(Integer, default=5, nullable=False)
    requested_by: Mapped[str] = mapped_column(String(128), nullable=False)
    alert_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("alerts.id", ondelete="SET NULL"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="SET NULL"))
    network_attack_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(32), default="pending", nullable=False)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    confidence: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InvestigationEventModel(_Keyed, Base):
    """One step of an investigation, in order: delegation, tool call, model message, verdict."""

    __tablename__ = "investigation_events"
    __table_args__ = (UniqueConstraint("investigation_id", "seq", name="uq_investigation_events_seq"),)

    investigation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("investigations.id", ondelete="CASCADE"), nullable=False
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
