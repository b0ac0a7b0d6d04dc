"""Firmware registry and rollout transport models (spec §10, §18)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RolloutStatus = Literal["draft", "running", "paused", "completed", "rolled_back"]
RolloutAction = Literal["start", "advance", "pause", "rollback"]


class BundleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    version: str
    target_device_type: str
    sha256: str
    signature_hex: str | None = None
    signature_valid: bool
    size: int
    uploaded_by: str | None = None
    created_at: datetime


class RolloutCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bundle_id: uuid.UUID
    target_devices: list[str] | None = Field(
        None, max_length=10_000, description="Device ids; default = every device of the bundle's type"
    )


class PauseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("paused by operator", min_length=1, max_length=500)


class RolloutOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    bundle_id: uuid.UUID
    bundle_version: str | None = None
    target_device_type: str | None = None
    target_devices: list[str]
    updated_devices: list[str] = Field(default_factory=list, description="Devices the current stage reached")
    stage: int
    status: RolloutStatus
    stage_started_at: datetime | None = None
    pause_reason: str | None = None
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime
    allowed_actions: list[RolloutAction] = Field(default_factory=list)
    delivery_simulated: bool = Field(True, description="The firmware connector is the simulated one")
