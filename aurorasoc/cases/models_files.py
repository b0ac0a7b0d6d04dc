"""Case evidence files (spec §4 ``case_evidence``, §10): metadata here, bytes under the data dir.

Kept apart from ``core.models`` like the CPS and network tables; ``core.models`` re-exports it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from aurorasoc.core.models_base import Base, _Mutable


class CaseEvidenceModel(_Mutable, Base):
    __tablename__ = "case_evidence"
    __table_args__ = (Index("ix_case_evidence_case_id", "case_id"),)

    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
    )
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(128), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_path: Mapped[str] = mapped_column(String(255), nullable=False)  # relative to the data dir
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="attachment")
    added_by: Mapped[str] = mapped_column(String(128), nullable=False)
