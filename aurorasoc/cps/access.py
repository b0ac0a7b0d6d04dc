"""Physical access decisions for badge events (spec §18).

Allowed when the badge is enabled, unexpired, lists the device's zone and the device is trusted.
Every decision is stored in ``siem_logs`` (product ``aurora_access``, ``event_id`` granted/denied,
``host`` = device, ``user_name`` = badge) so it is searchable like any log; 3 denials on one
device within 5 minutes raise a medium alert. Whether an ``unlock`` is sent is the caller's
business (only in ``real`` mode).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.siem_partitions import ensure_day_partitions
from aurorasoc.core.vocabulary import Severity
from aurorasoc.cps.models import AccessBadgeModel, CPSDeviceModel
from aurorasoc.cps.outbox import CPSOutbox
from aurorasoc.siem.models import SiemLogModel

PRODUCT = "aurora_access"
DENIAL_ALERT_COUNT = 3
DENIAL_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    reason: str


def decide(badge: AccessBadgeModel | None, device: CPSDeviceModel | None, now: datetime) -> AccessDecision:
    if badge is None:
        return AccessDecision(False, "unknown badge")
    if not badge.enabled:
        return AccessDecision(False, "badge disabled")
    if badge.valid_until is not None and badge.valid_until <= now:
        return AccessDecision(False, "badge expired")
    if device is None or not device.zone_id or device.zone_id not in (badge.zone_ids or []):
        return AccessDecision(False, "zone not allowed for this badge")
    if not device.trusted:
        return AccessDecision(False, "device not trusted")
    return AccessDecision(True, "allowed")


async def badge_event(
    session: AsyncSession,
    device: CPSDeviceModel | None,
    device_id: str,
    badge_id: str,
    now: datetime,
    outbox: CPSOutbox,
) -> AccessDecision:
    stmt = select(AccessBadgeModel).where(AccessBadgeModel.badge_id == badge_id)
    badge = (await session.scalars(stmt)).one_or_none()
    decision = decide(badge, device, now)
    verdict = "granted" if decision.allowed else "denied"
    await ensure_day_partitions(session, [now])  # today's rows in DEFAULT would keep today's partition away
    session.add(
        SiemLogModel(
            timestamp=now, source="cps", format="json", product=PRODUCT, category="access", event_id=verdict,
            host=device_id, user_name=badge_id,
            severity="info" if decision.allowed else "medium",
            message=f"badge {badge_id} {verdict} at {device_id}: {decision.reason}",
            fields={"badge_id": badge_id, "device_id": device_id,
                    "zone_id": device.zone_id if device else None,
                    "allowed": decision.allowed, "reason": decision.reason},
        )
    )  # fmt: skip
    outbox.event("access", device_id, badge_id=badge_id, allowed=decision.allowed, reason=decision.reason)
    if not decision.allowed:
        await _alert_on_denials(session, device_id, device.zone_id if device else None, now, outbox)
    return decision


async def _alert_on_denials(
    session: AsyncSession, device_id: str, zone_id: str | None, now: datetime, outbox: CPSOutbox
) -> None:
    """One open alert per zone (issue 20): a fleet of denying doors is one alert listing them."""
    model = SiemLogModel
    stmt = select(func.count()).where(
        model.product == PRODUCT, model.event_id == "denied", model.host == device_id,
        model.timestamp >= now - DENIAL_WINDOW,
    )  # fmt: skip
    if int(await session.scalar(stmt) or 0) >= DENIAL_ALERT_COUNT:  # autoflush counts this one too
        await outbox.zone_alert(
            session,
            rule="Repeated badge denials",
            zone_id=zone_id,
            device_id=device_id,
            severity=Severity.MEDIUM,
            description=f"{DENIAL_ALERT_COUNT}+ denied badge events within 5 minutes per device",
        )
