"""Alert change notifications on ``aurora:alerts`` (feeds WebSockets and the alert pipeline)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from aurorasoc.alerts.models import AlertModel
from aurorasoc.core.bus.current import get_bus

ALERTS_STREAM = "aurora:alerts"
AlertEvent = Literal["created", "updated", "deduplicated"]


def alert_event_payload(alert: AlertModel, event: AlertEvent) -> dict[str, Any]:
    """The message shape of spec §11 (``/ws/alerts``)."""
    return {
        "event": event,
        "id": str(alert.id),
        "title": alert.title,
        "severity": alert.severity,
        "status": alert.status,
        "source": alert.source,
        "iocs": list(alert.iocs or []),
        "mitre_techniques": list(alert.mitre_techniques or []),
        "case_id": str(alert.case_id) if alert.case_id else None,
        "occurrence_count": alert.occurrence_count,
        "timestamp": datetime.now(UTC).isoformat(),
    }


async def publish_alert_events(events: Sequence[tuple[AlertModel, AlertEvent]]) -> None:
    """Publish several changes (committed) in one round trip where the bus can."""
    if events:
        await get_bus().publish_many(ALERTS_STREAM, [alert_event_payload(a, e) for a, e in events])


async def publish_alert_event(alert: AlertModel, event: AlertEvent) -> str:
    """Publish after the change is committed, so consumers never see uncommitted state.

    Sharing new alerts with other sites (``AURORA.alerts``) is the alert pipeline's federation
    step (spec §14.1 step 4, §20), not done here.
    """
    return await get_bus().publish(ALERTS_STREAM, alert_event_payload(alert, event))
