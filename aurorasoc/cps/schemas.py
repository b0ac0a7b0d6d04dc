"""Bodies and responses of the /cps routes (spec §10, §18)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, computed_field, model_validator

from aurorasoc.core.vocabulary import AttestationStatus, DeviceFamily, DeviceHealth, FirmwareStack

DEVICE_ID = r"^[A-Za-z0-9_-]{1,64}$"
Command = Literal["unlock", "lock", "lockdown", "lockdown_clear", "keepalive"]
SecurityLevel = Literal["SL0", "SL1", "SL2", "SL3", "SL4"]
FailMode = Literal["fail_secure", "fail_safe"]


FirmwareState = Literal["verified", "unknown", "mismatch", "failed"]
FIRMWARE_REASONS = {
    "None": None,
    "no_signed_bundle": "no signed firmware bundle is registered for this device type and version, "
    "so there is nothing to compare the reported hash against",
    "awaiting_approval": "the device was auto-registered and is quarantined until an operator approves it",
    "FIRMWARE_MISMATCH": "the reported hash differs from the registered signed bundle",
}


class DeviceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(pattern=DEVICE_ID)
    device_type: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    firmware_stack: FirmwareStack
    location: str | None = Field(None, max_length=200)
    zone_id: str | None = Field(None, max_length=64)
    board_family: DeviceFamily | None = None
    firmware_version: str | None = Field(None, max_length=64)
    public_key_pem: str | None = Field(None, max_length=4096)


def refuse_nulls(model: BaseModel, fields: tuple[str, ...]) -> None:
    """A PATCH may omit these fields but not null them: their columns are NOT NULL (422, not 500)."""
    nulls = [f for f in fields if f in model.model_fields_set and getattr(model, f) is None]
    if nulls:
        raise ValueError(f"{', '.join(nulls)} cannot be null; omit a field to leave it unchanged")


class DevicePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    location: str | None = Field(None, max_length=200)
    zone_id: str | None = Field(None, max_length=64)
    firmware_version: str | None = Field(None, max_length=64)
    public_key_pem: str | None = Field(None, max_length=4096)

    @model_validator(mode="after")
    def _no_null_name(self) -> DevicePatch:
        refuse_nulls(self, ("name",))
        return self


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    device_id: str
    name: str
    device_type: str
    firmware_stack: str | None = None
    board_family: str | None = None
    firmware_version: str | None = None
    location: str | None = None
    zone_id: str | None = None
    attestation_status: AttestationStatus
    trusted: bool
    health: DeviceHealth | None = None
    risk_score: float = 0.0
    boot_count: int | None = None
    last_seen_at: datetime | None = None
    last_attested_at: datetime | None = None
    has_public_key: bool = False
    metadata: dict[str, Any] = Field(
        default_factory=dict, validation_alias=AliasChoices("metadata_", "metadata")
    )
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def firmware_state(self) -> FirmwareState:
        """``verified`` only after a match with a registered signed bundle (issue 20)."""
        check = self.metadata.get("firmware_check") or {}
        state: FirmwareState = check.get("state", "unknown")
        return state

    @computed_field  # type: ignore[prop-decorator]
    @property
    def firmware_reason(self) -> str | None:
        """Why the state is not ``verified``, in words for the console."""
        check = self.metadata.get("firmware_check") or {}
        if not check:
            return "no firmware hash reported yet (the device has not answered an attestation challenge)"
        return FIRMWARE_REASONS.get(str(check.get("reason")), check.get("reason"))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def quarantined(self) -> bool:
        """Auto-registered from MQTT and not yet approved by an operator."""
        return bool(self.metadata.get("quarantined"))


class TelemetryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    metric: str
    value: float
    unit: str | None = None
    timestamp: datetime


class AttestationRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    nonce: str | None = None
    firmware_hash: str | None = None
    boot_count: int | None = None
    firmware_version: str | None = None
    result: str
    reason: str | None = None
    created_at: datetime


class DeviceDetail(DeviceOut):
    telemetry: list[TelemetryOut] = []
    attestations: list[AttestationRecordOut] = []


class TelemetrySeries(BaseModel):
    device_id: str
    items: list[TelemetryOut]
    total: int


class ChallengeOut(BaseModel):
    device_id: str
    nonce: str
    expires_at: datetime
    delivered: bool


class CommandBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: Command


class CommandOut(BaseModel):
    device_id: str
    command: Command
    delivered: bool
    topic: str


class EnrollmentTokenOut(BaseModel):
    device_id: str
    token: str
    expires_at: datetime


class EnrollBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(pattern=DEVICE_ID)
    token: str = Field(min_length=16, max_length=128)
    public_key_pem: str = Field(min_length=1, max_length=4096)


class FleetSummary(BaseModel):
    total: int
    trusted: int
    health: dict[str, int]
    attestation: dict[str, int]
    average_risk: float


class CorrelationOut(BaseModel):
    alert_id: uuid.UUID
    correlation_type: str
    severity: str
    title: str
    device_id: str | None = None
    evidence: dict[str, Any] = {}
    created_at: datetime


class ZoneCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    security_level: SecurityLevel = "SL1"
    fail_mode: FailMode = "fail_secure"
    site_id: str | None = Field(None, max_length=64)


class ZoneOut(ZoneCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: uuid.UUID
    created_at: datetime


class ConduitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    from_zone_id: str = Field(min_length=1, max_length=64)
    to_zone_id: str = Field(min_length=1, max_length=64)
    protocols: list[str] = Field(default_factory=list, max_length=50)


class ConduitOut(ConduitCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: uuid.UUID
    status: Literal["open", "isolated"]
    created_at: datetime


class IsolateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=500, description="Shown to the approver")


class BadgeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    badge_id: str = Field(min_length=1, max_length=64)
    holder: str = Field(min_length=1, max_length=200)
    zone_ids: list[str] = Field(default_factory=list, max_length=200)
    enabled: bool = True
    valid_until: datetime | None = None


class BadgePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    holder: str | None = Field(None, min_length=1, max_length=200)
    zone_ids: list[str] | None = Field(None, max_length=200)
    enabled: bool | None = None
    valid_until: datetime | None = None

    @model_validator(mode="after")
    def _no_null_for_required_fields(self) -> BadgePatch:
        """Omit a field to keep it; only ``valid_until`` may be null (no expiry)."""
        refuse_nulls(self, ("holder", "zone_ids", "enabled"))
        return self


class BadgeOut(BadgeCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: uuid.UUID
    created_at: datetime
