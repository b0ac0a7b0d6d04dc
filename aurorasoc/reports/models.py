"""Generated case reports (spec §19); ``core.models`` re-exports the model."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from aurorasoc.core.models_base import Base, _Keyed
from aurorasoc.core.types import JSONType


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
