"""Audit log entries as the API returns them (spec §22)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    timestamp: datetime
    actor: str
    actor_type: str
    action: str
    resource_type: str | None
    resource_id: str | None
    details: dict[str, Any]
    ip: str | None
    mode: str | None
