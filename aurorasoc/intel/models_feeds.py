"""Threat-intel feed subscriptions (issue 17): where the indicators of the ``iocs`` store come from.

An indicator imported from a feed is an ``iocs`` row whose ``feed`` names the subscription; it matches
events while it is ``active`` and its ``expires_at`` has not passed (spec §27.3).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aurorasoc.core.models_base import Base, _Mutable
from aurorasoc.core.types import UTCDateTime


class IntelFeedModel(_Mutable, Base):
    """A STIX 2.1 bundle, MISP feed or CSV/text list, fetched from ``url`` every ``refresh_minutes``."""

    __tablename__ = "intel_feeds"

    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    tlp: Mapped[str] = mapped_column(String(16), default="amber", nullable=False)
    confidence: Mapped[float] = mapped_column(Float, default=0.5, nullable=False)
    expiry_days: Mapped[int] = mapped_column(Integer, default=30, nullable=False)
    refresh_minutes: Mapped[int] = mapped_column(Integer, default=60, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    csv_column: Mapped[str | None] = mapped_column(String(128))
    last_refresh_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str] = mapped_column(String(16), default="never", nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    indicator_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
