"""Observables and the analyst allow-list (spec §27.3).

An *observable* is any value extracted from an event (an IP, a domain, the SHA-256 of a process image),
stored once per (type, value, host) so prevalence is a count of hosts. It is not an indicator: indicators
live in ``iocs`` and are created only by threat intel, an analyst (promotion) or a playbook.
``core.models`` re-exports these models so ``Base.metadata`` holds the tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aurorasoc.core.models_base import Base, _Keyed, _Mutable
from aurorasoc.core.types import UTCDateTime, utcnow


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
