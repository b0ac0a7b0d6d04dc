"""Tables of correlated network attacks and the federation mesh (spec §4, §13.8, §20).

Kept apart from ``core.models`` like the agent and CPS tables; ``core.models`` re-exports them
so ``Base.metadata`` (Alembic, ``create_all``) holds every table.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from aurorasoc.core.models_base import Base, _Mutable
from aurorasoc.core.types import JSONType, UTCDateTime, utcnow


class NetworkAttackModel(_Mutable, Base):
    """Network alerts grouped by (src_ip, dst_ip, category) within the correlation window."""

    __tablename__ = "network_attacks"
    __table_args__ = (Index("ix_network_attacks_src_dst_category", "src_ip", "dst_ip", "category"),)

    title: Mapped[str] = mapped_column(String(500), nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    confidence: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    src_ip: Mapped[str | None] = mapped_column(String(64))
    dst_ip: Mapped[str | None] = mapped_column(String(64))
    telemetry_families: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    alert_ids: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    mitre_techniques: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="triage", nullable=False)
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class SiteModel(_Mutable, Base):
    """One AuroraSOC site: the local one plus every peer heard on the federation subject."""

    __tablename__ = "sites"

    site_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    tier: Mapped[str] = mapped_column(String(16), default="primary", nullable=False)
    is_local: Mapped[bool] = mapped_column(default=False, nullable=False)
    agent_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="healthy", nullable=False)


class SiteLinkModel(_Mutable, Base):
    """Link health between two sites; ``link_id`` is ``link-<a>-<b>`` with the ids sorted."""

    __tablename__ = "site_links"

    link_id: Mapped[str] = mapped_column(String(160), unique=True, nullable=False)
    site_a: Mapped[str] = mapped_column(String(64), nullable=False)
    site_b: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="healthy", nullable=False)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
