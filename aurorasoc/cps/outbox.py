"""What a CPS change announces once it is committed: ``aurora:cps:events`` messages and alerts.

CPS services flush; the caller commits and then calls :meth:`CPSOutbox.publish`, so neither the
``/ws/cps`` feed nor the alert pipeline ever sees uncommitted rows. Every CPS alert goes through
:class:`AlertService` (dedup, IOC indexing) and is announced on ``aurora:alerts`` like any other,
so the alert pipeline files it into a case.

Telemetry readings and status heartbeats reach the live feed at most ``LIVE_EVENTS_PER_SECOND`` a
second per process; the rest of a batch's are announced as one ``summary`` event (how many of each
kind, from how many devices). Every message is stored either way: the feed only tells the
dashboard to refresh (at most every 3 s), and an XADD per reading of a 10,000-device fleet cost
the MQTT consumer more CPU than storing the readings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.events import publish_alert_event
from aurorasoc.alerts.models import AlertModel
from aurorasoc.alerts.service import AlertService
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.vocabulary import AlertCreate, AssetType, Severity

CPS_EVENTS_STREAM = "aurora:cps:events"
CPS_SOURCE = "cps"
CPS_AGENT = "cps_security"
LIVE_EVENTS_PER_SECOND = 200.0


class _LiveBudget:
    """A token bucket: the fleet events this process may still announce one by one."""

    def __init__(self, rate: float) -> None:
        self.rate, self.tokens, self.at = rate, rate, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


_live = _LiveBudget(LIVE_EVENTS_PER_SECOND)


@dataclass
class CPSOutbox:
    events: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[tuple[AlertModel, bool]] = field(default_factory=list)
    summarised: dict[str, int] = field(default_factory=dict)  # event kind → not announced alone
    summarised_devices: set[str] = field(default_factory=set)

    def event(self, event: str, device_id: str, **data: Any) -> None:
        """Queue a ``/ws/cps`` message (``{"event", "device_id", …, "timestamp"}``)."""
        stamp = datetime.now(UTC).isoformat()
        self.events.append({"event": event, "device_id": device_id, **data, "timestamp": stamp})

    def live(self, event: str, device_id: str, **data: Any) -> None:
        """A fleet event (a reading, a heartbeat) while the live budget lasts, else counted into
        the batch's ``summary``."""
        if _live.take():
            self.event(event, device_id, **data)
        else:
            self.summarised[event] = self.summarised.get(event, 0) + 1
            self.summarised_devices.add(device_id)

    def _summary(self) -> None:
        if self.summarised:
            self.events.append({"event": "summary", "device_id": None, "counts": dict(self.summarised),
                                "devices": len(self.summarised_devices),
                                "timestamp": datetime.now(UTC).isoformat()})  # fmt: skip
            self.summarised.clear()
            self.summarised_devices.clear()

    async def alert(
        self,
        session: AsyncSession,
        *,
        title: str,
        severity: Severity,
        device_id: str,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> AlertModel:
        """Create (or dedup into) a CPS alert on ``device:<id>``; high/critical ask for the CPS agent."""
        meta = dict(metadata or {})
        if severity in (Severity.HIGH, Severity.CRITICAL):
            meta.setdefault("dispatch_agent", CPS_AGENT)
        body = AlertCreate(
            title=title,
            severity=severity,
            source=CPS_SOURCE,
            description=description,
            asset_type=AssetType.IOT_SENSOR,
            affected_assets=[f"device:{device_id}"],
            metadata=meta,
        )
        alert, created = await AlertService(session).create(body)
        self.alerts.append((alert, created))
        return alert

    async def zone_alert(
        self,
        session: AsyncSession,
        *,
        rule: str,
        zone_id: str | None,
        device_id: str,
        severity: Severity,
        description: str,
    ) -> AlertModel:
        """One open alert per rule and zone (``<rule>: zone <z>``); every further device is added to
        its ``metadata.devices`` and affected assets instead of raising an alert of its own."""
        zone = zone_id or "unzoned"
        metadata = {"grouped_by": "zone", "zone_id": zone_id, "devices": [device_id]}
        alert = await self.alert(
            session, title=f"{rule}: zone {zone}", severity=severity, device_id=device_id,
            description=description, metadata=metadata,
        )  # fmt: skip
        devices = list((alert.metadata_ or {}).get("devices", []))
        if device_id not in devices:
            alert.metadata_ = {**(alert.metadata_ or {}), "devices": [*devices, device_id]}
            alert.affected_assets = list(dict.fromkeys([*alert.affected_assets, f"device:{device_id}"]))
            await session.flush()
        return alert

    async def publish(self) -> None:
        """Events go out in one pipelined round trip where the bus can (a telemetry batch is
        hundreds of them: one XADD each would cost the MQTT writer ~1.5 ms of CPU per reading)."""
        self._summary()
        bus = get_bus()
        many = getattr(bus, "publish_many", None)
        if many is not None and self.events:
            await many(CPS_EVENTS_STREAM, self.events)
        else:
            for payload in self.events:
                await bus.publish(CPS_EVENTS_STREAM, payload)
        for alert, created in self.alerts:
            await publish_alert_event(alert, "created" if created else "deduplicated")
        self.events.clear()
        self.alerts.clear()
