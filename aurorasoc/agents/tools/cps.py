"""``cps`` domain: read-only device state from the CPS registry (health, attestation, risk)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from aurorasoc.agents.tools.base import AuroraTool, ToolContext, ToolResult
from aurorasoc.cps.models import CPSDeviceModel
from aurorasoc.cps.service import CPSService, DeviceFilters


def device_view(device: CPSDeviceModel) -> dict[str, Any]:
    return {
        "device_id": device.device_id,
        "name": device.name,
        "device_type": device.device_type,
        "zone_id": device.zone_id,
        "health": device.health,
        "attestation_status": device.attestation_status,
        "trusted": device.trusted,
        "risk_score": device.risk_score,
        "firmware_version": device.firmware_version,
        "last_seen_at": device.last_seen_at.isoformat() if device.last_seen_at else None,
    }


class ListDevicesInput(BaseModel):
    q: str | None = Field(None, max_length=200, description="Text in the device id or name")
    health: str | None = Field(None, max_length=16, description="healthy, degraded, critical, offline")
    limit: int = Field(20, ge=1, le=100)


class ListDevices(AuroraTool):
    """CPS/IoT devices with health, attestation status, trust and risk score."""

    name = "list_devices"
    domain = "cps"
    Input = ListDevicesInput
    permission = "cps:read"

    async def execute(self, ctx: ToolContext, args: ListDevicesInput) -> ToolResult:
        rows, total = await CPSService(ctx.session).list(
            DeviceFilters(health=args.health, q=args.q), skip=0, limit=args.limit
        )
        return {"status": "ok", "total": total, "devices": [device_view(d) for d in rows]}


class DeviceInput(BaseModel):
    device_id: str = Field(..., min_length=1, max_length=64)


class DeviceStatus(AuroraTool):
    """One CPS device's current state: health, attestation, trust, risk."""

    name = "device_status"
    domain = "cps"
    Input = DeviceInput
    permission = "cps:read"

    async def execute(self, ctx: ToolContext, args: DeviceInput) -> ToolResult:
        return {"status": "ok", "device": device_view(await CPSService(ctx.session).get(args.device_id))}
