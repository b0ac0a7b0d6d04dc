"""Tables of the CPS / IoT domain (spec §4, §18): devices, zones, telemetry, attestation, badges.

Kept apart from ``core.models`` like the agent tables; ``core.models`` re-exports them so
``Base.metadata`` (Alembic, ``create_all``) holds every table. ``cps_devices.health`` is not in
the spec's column list: it keeps the last computed health so a transition is alerted once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
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
)
from sqlalchemy.orm import Mapped, mapped_column

from aurorasoc.core.models_base import Base, _Keyed, _Mutable
from aurorasoc.core.types import JSONType, UTCDateTime, utcnow


class CPSDeviceModel(_Mutable, Base):
    __tablename__ = "cps_devices"

    device_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    device_type: Mapped[str] = mapped_column(String(64), nullable=False)
    board_family: Mapped[str | None] = mapped_column(String(32))
    firmware_stack: Mapped[str | None] = mapped_column(String(32))
    firmware_version: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(String(200))
    zone_id: Mapped[str | None] = mapped_column(String(64))
    site_id: Mapped[str | None] = mapped_column(String(64))
    public_key_pem: Mapped[str | None] = mapped_column(Text)
    attestation_status: Mapped[str] = mapped_column(String(32), default="unknown", nullable=False)
    trusted: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    last_attested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    boot_count: Mapped[int | None] = mapped_column(BigInteger)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    health: Mapped[str | None] = mapped_column(String(16))
    risk_score: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict, nullable=False)


class CPSZoneModel(_Mutable, Base):
    __tablename__ = "cps_zones"

    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    security_level: Mapped[str] = mapped_column(String(8), default="SL1", nullable=False)
    fail_mode: Mapped[str] = mapped_column(String(16), default="fail_secure", nullable=False)
    site_id: Mapped[str | None] = mapped_column(String(64))


class CPSConduitModel(_Mutable, Base):
    __tablename__ = "cps_conduits"

    name: Mapped[str] = mapped_column(String(128), nullable=False)
    from_zone_id: Mapped[str] = mapped_column(String(64), nullable=False)
    to_zone_id: Mapped[str] = mapped_column(String(64), nullable=False)
    protocols: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="open", nullable=False)


class CPSTelemetryModel(_Keyed, Base):
    __tablename__ = "cps_telemetry"
    __table_args__ = (
        Index("ix_cps_telemetry_device_metric_ts", "device_id", "metric", "timestamp"),
        Index("ix_cps_telemetry_timestamp", "timestamp"),  # hourly retention deletes by age
    )

    device_id: Mapped[str] = mapped_column(String(64), nullable=False)
    metric: Mapped[str] = mapped_column(String(64), nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    unit: Mapped[str | None] = mapped_column(String(32))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class AttestationNonceModel(_Keyed, Base):
    __tablename__ = "attestation_nonces"

    device_id: Mapped[str] = mapped_column(String(64), nullable=False)
    nonce: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AttestationRecordModel(_Keyed, Base):
    __tablename__ = "attestation_records"
    __table_args__ = (Index("ix_attestation_records_device_created", "device_id", "created_at"),)

    device_id: Mapped[str] = mapped_column(String(64), nullable=False)
    nonce: Mapped[str | None] = mapped_column(String(64))
    firmware_hash: Mapped[str | None] = mapped_column(String(128))
    boot_count: Mapped[int | None] = mapped_column(BigInteger)
    firmware_version: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(255))


class FirmwareBundleModel(_Keyed, Base):
    """A signed firmware image; its SHA-256 is the expected attestation hash (spec §18)."""

    __tablename__ = "firmware_bundles"
    __table_args__ = (
        UniqueConstraint("target_device_type", "version", name="uq_firmware_bundles_type_version"),
    )

    version: Mapped[str] = mapped_column(String(64), nullable=False)
    target_device_type: Mapped[str] = mapped_column(String(64), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    signature_hex: Mapped[str | None] = mapped_column(Text)
    signature_valid: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    storage_path: Mapped[str | None] = mapped_column(String(1024))
    uploaded_by: Mapped[str | None] = mapped_column(String(128))


class FirmwareRolloutModel(_Mutable, Base):
    """A staged delivery of one bundle to a device set (spec §18: 0 → 5 → 25 → 50 → 100 %)."""

    __tablename__ = "firmware_rollouts"

    bundle_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("firmware_bundles.id"), nullable=False)
    target_devices: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    stage: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="draft", nullable=False)
    stage_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str | None] = mapped_column(String(128))


class AccessBadgeModel(_Mutable, Base):
    __tablename__ = "access_badges"

    badge_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    holder: Mapped[str] = mapped_column(String(200), nullable=False)
    zone_ids: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
