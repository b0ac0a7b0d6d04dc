"""Observables and the analyst allow-list (spec §27.3).

An *observable* is any value extracted from an event (an IP, a domain, the SHA-256 of a process image),
stored once per (type, value, host) so prevalence is a count of hosts. It is not an indicator: indicators
live in ``iocs`` and are created only by threat intel, an analyst (promotion) or a playbook.
Indicators (``iocs``) and their links to alerts (``alert_iocs``, written by ``intel.service``) live here too;
``alert_iocs.alert_id`` names ``alerts.id`` by table name only. ``core.models`` re-exports these models so
``Base.metadata`` holds the tables.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from aurorasoc.core.models_base import Base, _Keyed, _Mutable
from aurorasoc.core.types import JSONType, UTCDateTime, utcnow


class ObservableModel(_Mutable, Base):
    """One observable value as seen on one host (``host`` is ``""`` when the event named none)."""

    __tablename__ = "observables"
    __table_args__ = (
        UniqueConstraint("type", "value", "host", name="uq_observables_type_value_host"),
        Index("ix_observables_value", "value"),
    )

    type: Mapped[str] = mapped_column(String(32), nullable=False)
    value: Mapped[str] = mapped_column(String(2048), nullable=False)
    host: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    role: Mapped[str | None] = mapped_column(String(64))
    # The executable a hash belongs to, when the role is a process image hash.
    context_path: Mapped[str | None] = mapped_column(String(1024))
    # Why it can never be an indicator by default (os_binary, private_ip, own_host), or None.
    benign_reason: Mapped[str | None] = mapped_column(String(32))
    sightings: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class AllowListEntryModel(_Keyed, Base):
    """An analyst's "this is not an indicator": one value, one ``process.executable`` path, or one host.

    ``host_scope`` limits a value/path entry to one host; empty means everywhere.
    """

    __tablename__ = "observable_allowlist"
    __table_args__ = (
        UniqueConstraint("kind", "value", "host_scope", name="uq_observable_allowlist_kind_value_scope"),
    )

    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    value: Mapped[str] = mapped_column(String(2048), nullable=False)
    host_scope: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))


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
    # The alerts of an indicator, newest event first: case correlation reads only those within its
    # window, so its look-up does not grow with how often the indicator was ever seen (0023).
    __table_args__ = (Index("ix_alert_iocs_ioc_last_seen", "ioc_id", "last_seen_at"),)

    alert_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    ioc_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("iocs.id", ondelete="CASCADE"), primary_key=True
    )
    # The alert's ``last_seen_at`` (event time), kept current when a repeat extends the alert.
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
