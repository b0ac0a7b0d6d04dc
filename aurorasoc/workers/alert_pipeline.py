"""The ``alert-pipeline`` consumer of ``aurora:alerts`` (spec §12, §14.1 step 4).

For every ``created`` event it runs case correlation (§14.2) in its own session and commits,
then announces the alerts it linked as ``updated``; then the automation rules (§15.5) see the
alert; an alert whose source asked for an agent (``metadata.dispatch_agent``, e.g. CPS) queues
that agent's task. Network-attack correlation (§13.8) runs right after case correlation;
last, a local alert at or above the federation floor is shared with the other sites (§20). In
``dummy`` mode messages are discarded (pipeline writes are blocked). A failure raises, so the bus
retries and dead-letters.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select

from aurorasoc.agents.tasks import requested_agent_task
from aurorasoc.alerts.events import ALERTS_STREAM, alert_event_payload
from aurorasoc.alerts.models import AlertModel
from aurorasoc.cases.correlation import CaseCorrelator, CorrelationResult
from aurorasoc.core import runtime
from aurorasoc.core.bus.base import AGENT_TASKS_STREAM, BusMessage, EventBus
from aurorasoc.core.db import get_session_factory
from aurorasoc.network.attacks import NetworkAttackCorrelator
from aurorasoc.network.federation import forward_alert
from aurorasoc.soar.automation import evaluate_automation_rules

log = logging.getLogger(__name__)
PIPELINE_GROUP = "alert-pipeline"


def register_alert_pipeline(bus: EventBus) -> None:
    """Appended to ``app.state.consumers``: one shared work group for all API replicas."""

    async def _handle(message: BusMessage) -> None:
        await handle_alert_event(message, bus)

    bus.subscribe(ALERTS_STREAM, PIPELINE_GROUP, _handle)


async def handle_alert_event(message: BusMessage, bus: EventBus) -> CorrelationResult | None:
    """Correlate a newly created alert and run automation rules on it.

    Returns the correlation result; None when the message is not for the pipeline or the alert
    was already in a case.
    """
    if message.data.get("event") != "created" or not runtime.write_allowed("pipeline"):
        return None
    try:
        alert_id = uuid.UUID(str(message.data.get("id")))
    except ValueError:
        log.warning("alert event without a valid id", extra={"message_id": message.id})
        return None
    async with get_session_factory()() as session:
        alert = await session.get(AlertModel, alert_id)
        if alert is None:
            return None
        result, linked = None, []
        if alert.case_id is None:
            result = await CaseCorrelator(session).correlate(alert)
            if result.linked_alert_ids:
                stmt = select(AlertModel).where(AlertModel.id.in_(result.linked_alert_ids))
                linked = [alert_event_payload(a, "updated") for a in (await session.scalars(stmt)).all()]
        await NetworkAttackCorrelator(session).correlate(alert)
        await evaluate_automation_rules(session, alert)
        await session.commit()
        task = requested_agent_task(alert)
        forward_alert(alert)
    for payload in linked:
        await bus.publish(ALERTS_STREAM, payload)
    if task is not None:
        await bus.publish(AGENT_TASKS_STREAM, task)
    return result
