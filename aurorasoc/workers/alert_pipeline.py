"""The ``alert-pipeline`` consumer of ``aurora:alerts`` (spec §12, §14.1 step 4).

It reads the stream in batches (up to ``PIPELINE_BATCH`` entries) and handles the ``created``
events of one batch in one session and one transaction: case correlation (§14.2) of all of them
in one pass, so an alert sees the cases the alerts before it joined; network-attack correlation
(§13.8) of each; the automation rules (§15.5) over all of them. On SQLite it holds the writer
queue (``serialized_writes``) for the batch, so API writes wait their turn instead of meeting
SQLite's lock. After the commit it announces the
alerts it linked as ``updated``, queues the agent task an alert's source asked for
(``metadata.dispatch_agent``, e.g. CPS) and shares a local alert at or above the federation floor
with the other sites (§20). In ``dummy`` mode messages are discarded (pipeline writes are
blocked). A failure raises: the bus then delivers the batch's entries one by one, with retries
and dead-lettering, so one bad entry never holds back the others.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from aurorasoc.agents.tasks import requested_agent_task
from aurorasoc.alerts.events import ALERTS_STREAM, alert_event_payload
from aurorasoc.alerts.models import AlertModel
from aurorasoc.cases.correlation import CaseCorrelator, CorrelationResult
from aurorasoc.core import runtime
from aurorasoc.core.bus.base import AGENT_TASKS_STREAM, BusMessage, EventBus
from aurorasoc.core.db import get_session_factory, serialized_writes
from aurorasoc.network.attacks import NetworkAttackCorrelator
from aurorasoc.network.federation import forward_alert
from aurorasoc.soar.automation import evaluate_automation_rules

log = logging.getLogger(__name__)
PIPELINE_GROUP = "alert-pipeline"
PIPELINE_BATCH = 100  # stream entries read, and alerts correlated, per transaction
# In a burst a batch waits this long to fill: a transaction's statements cost the same for one
# alert as for fifty (10k alerts correlated one per batch took 5x the CPU of batches of 100).
PIPELINE_LINGER_SECONDS = 0.05
BUSY_RETRIES = 20
BUSY_PAUSE_SECONDS = 0.05


def register_alert_pipeline(bus: EventBus) -> None:
    """Appended to ``app.state.consumers``: one shared work group for all API replicas."""

    async def _handle(messages: list[BusMessage]) -> None:
        await handle_alert_events(messages, bus)

    bus.subscribe_batch(
        ALERTS_STREAM, PIPELINE_GROUP, _handle, batch_size=PIPELINE_BATCH, linger=PIPELINE_LINGER_SECONDS
    )


def created_alert_ids(messages: Sequence[BusMessage]) -> list[uuid.UUID]:
    """The alerts the ``created`` events of ``messages`` name, in order, each once."""
    ids: dict[uuid.UUID, None] = {}
    for message in messages:
        if message.data.get("event") != "created":
            continue
        try:
            ids[uuid.UUID(str(message.data.get("id")))] = None
        except ValueError:
            log.warning("alert event without a valid id", extra={"message_id": message.id})
    return list(ids)


async def handle_alert_events(messages: Sequence[BusMessage], bus: EventBus) -> list[CorrelationResult]:
    """Correlate the newly created alerts of ``messages`` and run automation rules on them.

    Returns one correlation result per alert that was in no case yet, in stream order. An alert
    whose row another transaction held (``busy``: an ingest folding a repeat into it) is
    correlated again once that has committed, a few times at most.
    """
    wanted = created_alert_ids(messages) if runtime.write_allowed("pipeline") else []
    if not wanted:
        return []
    results, linked, tasks = await _handle(wanted, first=True)
    for attempt in range(BUSY_RETRIES):
        busy = [alert_id for alert_id, result in results.items() if result.skipped == "busy"]
        if not busy:
            break
        await asyncio.sleep(BUSY_PAUSE_SECONDS * (attempt + 1))
        retried, more, _ = await _handle(busy, first=False)
        results.update(retried)
        linked += more
    else:
        log.warning("alerts left uncorrelated: their rows stayed locked", extra={"count": len(busy)})
    if linked:
        await bus.publish_many(ALERTS_STREAM, linked)
    if tasks:
        await bus.publish_many(AGENT_TASKS_STREAM, tasks)
    return list(results.values())


async def _handle(
    wanted: list[uuid.UUID], *, first: bool
) -> tuple[dict[uuid.UUID, CorrelationResult], list[dict[str, Any]], list[dict[str, Any]]]:
    """One transaction: correlation of ``wanted`` and, the ``first`` time, the other steps.

    Returns the results by alert, the ``updated`` events of the alerts linked, the agent tasks.
    """
    async with get_session_factory()() as session, serialized_writes(session):
        rows = await session.scalars(select(AlertModel).where(AlertModel.id.in_(wanted)))
        by_id = {alert.id: alert for alert in rows.all()}
        alerts = [by_id[i] for i in wanted if i in by_id]
        todo = [a for a in alerts if a.case_id is None]
        outcomes = await CaseCorrelator(session).correlate_many(todo)
        results = dict(zip([a.id for a in todo], outcomes, strict=True))
        if first:
            await NetworkAttackCorrelator(session).correlate_many(alerts)
            await evaluate_automation_rules(session, *alerts)
        linked_ids = dict.fromkeys(i for result in results.values() for i in result.linked_alert_ids)
        # The batch's alerts and the peers it pulled into cases are in the session already: a
        # read for them was one statement in twelve of a batch of one.
        found = [alert for i in linked_ids if (alert := await session.get(AlertModel, i)) is not None]
        linked = [alert_event_payload(alert, "updated") for alert in found]
        await session.commit()
    tasks = [task for task in map(requested_agent_task, alerts) if task is not None] if first else []
    for alert in alerts if first else []:
        forward_alert(alert)
    return results, linked, tasks
