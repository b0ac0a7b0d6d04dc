"""Scheduled runs of saved hunts (spec §13.6, §21 ``_scheduled_hunt_loop``).

A hunt with ``schedule_minutes`` is due when it never ran or its last run is that old. Hits raise
one alert per hunt (``alert_on_hits``; repeats deduplicate into it) and can queue a
``threat_hunter`` task on ``aurora:agent:tasks`` (``dispatch_agent``) for the agent fleet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.events import publish_alert_event
from aurorasoc.alerts.models import AlertModel
from aurorasoc.alerts.service import AlertService
from aurorasoc.core.bus.base import AGENT_TASKS_STREAM, EventBus
from aurorasoc.core.vocabulary import AlertCreate, Severity
from aurorasoc.siem.hunts import HuntRun, HuntService
from aurorasoc.siem.models import SiemHuntModel

SAMPLE_HITS = 20


@dataclass
class HuntOutcome:
    hunt_id: str
    hits: int
    alert: tuple[AlertModel, bool] | None = None
    task: dict[str, Any] | None = None


def is_due(hunt: SiemHuntModel, now: datetime) -> bool:
    if not hunt.schedule_minutes:
        return False
    return hunt.last_run_at is None or hunt.last_run_at + timedelta(minutes=hunt.schedule_minutes) <= now


def hunt_alert(run: HuntRun) -> AlertCreate:
    hunt, rows = run.hunt, run.result.rows
    hosts = sorted({r.host for r in rows if r.host})
    return AlertCreate(
        title=f"Hunt matched: {hunt.name}"[:500],
        severity=Severity.MEDIUM,
        source="hunt",
        description=f"Saved hunt '{hunt.name}' (query: {hunt.query}) matched {run.hit_count} events.",
        affected_assets=[f"host:{h}" for h in hosts[:20]],
        metadata={"hunt_id": str(hunt.id), "hit_count": run.hit_count, "log_ids": [str(r.id) for r in rows]},
    )


def hunt_task(run: HuntRun) -> dict[str, Any]:
    hunt = run.hunt
    return {
        "agent": "threat_hunter",
        "priority": 5,
        "prompt": f"Investigate {run.hit_count} events matched by saved hunt '{hunt.name}': {hunt.query}",
        "hunt_id": str(hunt.id),
        "requested_by": f"hunt:{hunt.created_by}",
    }


async def run_due_hunts(session: AsyncSession, now: datetime) -> list[HuntOutcome]:
    """Run every due hunt; the caller commits, then calls ``publish_outcomes``."""
    hunts = (
        await session.scalars(select(SiemHuntModel).where(SiemHuntModel.schedule_minutes.is_not(None)))
    ).all()
    outcomes = []
    for hunt in (h for h in hunts if is_due(h, now)):
        run = await HuntService(session).run(hunt, limit=SAMPLE_HITS)
        outcome = HuntOutcome(str(hunt.id), run.hit_count)
        if run.hit_count and hunt.alert_on_hits:
            outcome.alert = await AlertService(session).create(hunt_alert(run))
        if run.hit_count and hunt.dispatch_agent:
            outcome.task = hunt_task(run)
        outcomes.append(outcome)
    return outcomes


async def publish_outcomes(outcomes: list[HuntOutcome], bus: EventBus) -> None:
    for outcome in outcomes:
        if outcome.alert is not None:
            alert, created = outcome.alert
            await publish_alert_event(alert, "created" if created else "deduplicated")
        if outcome.task is not None:
            await bus.publish(AGENT_TASKS_STREAM, outcome.task)
