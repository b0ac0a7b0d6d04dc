"""Device health and risk (spec §18), recomputed by the scheduler's metrics loop.

Health comes from ``last_seen_at``: ``online`` under ``AURORA_DEVICE_STALE_MINUTES``, ``stale``
under ``AURORA_DEVICE_OFFLINE_MINUTES``, else ``offline``. The last computed value is stored, so
entering ``stale`` (medium) or ``offline`` (critical, for the CPS agent) alerts exactly once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.core.config import get_settings
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import AlertStatus, AttestationStatus, DeviceHealth, Severity
from aurorasoc.cps.models import CPSDeviceModel
from aurorasoc.cps.outbox import CPS_SOURCE, CPSOutbox

ANOMALY_WINDOW = timedelta(hours=24)
_TRANSITION_SEVERITY = {DeviceHealth.STALE: Severity.MEDIUM, DeviceHealth.OFFLINE: Severity.CRITICAL}


def health_of(last_seen_at: datetime | None, now: datetime) -> DeviceHealth:
    cps = get_settings().cps
    if last_seen_at is None:
        return DeviceHealth.OFFLINE
    age = now - last_seen_at
    if age < timedelta(minutes=cps.device_stale_minutes):
        return DeviceHealth.ONLINE
    if age < timedelta(minutes=cps.device_offline_minutes):
        return DeviceHealth.STALE
    return DeviceHealth.OFFLINE


def risk_of(device: CPSDeviceModel, open_alerts: int, now: datetime) -> float:
    """Drift 30 + attestation failed/unknown 30 (pending 10) + anomaly (24 h) 20 + 10/open alert (max 20)."""
    meta = device.metadata_ or {}
    score = 30 if meta.get("firmware_drift") else 0
    status = device.attestation_status
    if status in (AttestationStatus.FAILED.value, AttestationStatus.UNKNOWN.value):
        score += 30
    elif status == AttestationStatus.PENDING.value:
        score += 10
    anomaly = meta.get("last_anomaly_at")
    if anomaly and now - datetime.fromisoformat(str(anomaly)) < ANOMALY_WINDOW:
        score += 20
    return float(min(100, score + min(20, 10 * open_alerts)))


async def _open_cps_alerts(session: AsyncSession) -> dict[str, int]:
    closed = (AlertStatus.RESOLVED.value, AlertStatus.FALSE_POSITIVE.value)
    stmt = select(AlertModel.affected_assets).where(
        AlertModel.source == CPS_SOURCE, AlertModel.status.not_in(closed)
    )
    counts: dict[str, int] = {}
    for assets in (await session.scalars(stmt)).all():
        for asset in assets or []:
            if asset.startswith("device:"):
                counts[asset[7:]] = counts.get(asset[7:], 0) + 1
    return counts


async def refresh_device_health(session: AsyncSession, now: datetime | None = None) -> CPSOutbox:
    """Recompute health and risk of every device; alert on transitions into stale/offline.

    Flushes only: the caller commits and then ``await outbox.publish()``.
    """
    now = now or utcnow()
    outbox = CPSOutbox()
    open_alerts = await _open_cps_alerts(session)
    for device in (await session.scalars(select(CPSDeviceModel))).all():
        health = health_of(device.last_seen_at, now)
        if device.health != health.value:
            await _transition(session, device, health, outbox)
        device.risk_score = risk_of(device, open_alerts.get(device.device_id, 0), now)
    await session.flush()
    return outbox


async def _transition(
    session: AsyncSession, device: CPSDeviceModel, health: DeviceHealth, outbox: CPSOutbox
) -> None:
    previous, device.health = device.health, health.value
    outbox.event("status", device.device_id, health=health.value, previous=previous)
    severity = _TRANSITION_SEVERITY.get(health)
    if severity is None or (previous is None and device.last_seen_at is None):
        return  # recovered, or a device registered but never heard from
    seen = device.last_seen_at.isoformat() if device.last_seen_at else "never"
    await outbox.alert(
        session,
        title=f"CPS device {health.value}: {device.device_id}",
        severity=severity,
        device_id=device.device_id,
        description=f"No heartbeat from {device.device_id} since {seen}",
        metadata={"health": health.value, "previous_health": previous, "last_seen_at": seen},
    )
