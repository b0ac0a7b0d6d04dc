"""Alert changes made through the API: validate, write, audit, commit, then publish (spec §10, §22).

``AlertService`` flushes and leaves the commit to its caller, since pipelines batch its writes
into their own transactions. An API request is its own unit of work, so ``AlertCommands`` owns
the whole of it: it takes SQLite's writer (``serialized_writes``: concurrent requests queue
instead of failing), writes the change and its audit rows, commits, and only then publishes the
alert events, so consumers never observe uncommitted rows. Ingest also keeps PostgreSQL's planner
statistics current (``alerts.statistics``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.events import AlertEvent, publish_alert_events
from aurorasoc.alerts.models import AlertModel
from aurorasoc.alerts.service import AlertService
from aurorasoc.alerts.statistics import note_alerts_created
from aurorasoc.core.auth import Principal
from aurorasoc.core.db import serialized_writes
from aurorasoc.core.vocabulary import AlertCreate, AlertStatus
from aurorasoc.core.web.audit_trail import audit_change


@dataclass(frozen=True)
class Actor:
    """Who makes a change, and from where: what its audit rows record."""

    request: Request
    principal: Principal


class AlertCommands:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.alerts = AlertService(session)

    async def submit(self, items: Sequence[AlertCreate]) -> list[tuple[AlertModel, bool]]:
        """Ingest (one row per new alert, repeats folded); True where a submission created one."""
        async with serialized_writes(self.session):
            results = await self.alerts.create_many(items)
            await self.session.commit()
        note_alerts_created(self.session.bind, sum(1 for _, created in results if created))
        await self._publish([(a, "created" if created else "deduplicated") for a, created in results])
        return results

    async def triage(self, alert_id: uuid.UUID, changes: dict[str, Any], actor: Actor) -> AlertModel:
        async with serialized_writes(self.session):
            alert = await self.alerts.get(alert_id)
            change = await self.alerts.update(alert, changes)
            await self._audit(actor, "alert.update", alert, change)
            await self.session.commit()
        await self._publish([(alert, "updated")])
        return alert

    async def acknowledge(self, alert: AlertModel, actor: Actor) -> AlertModel:
        async with serialized_writes(self.session):
            change = await self.alerts.acknowledge(alert, actor.principal.username)
            await self._audit(actor, "alert.acknowledge", alert, change)
            await self.session.commit()
        await self._publish([(alert, "updated")])
        return alert

    async def set_status(
        self, alert_ids: Sequence[uuid.UUID], status: AlertStatus, actor: Actor
    ) -> tuple[list[AlertModel], list[uuid.UUID]]:
        """Bulk resolve/escalate: (updated alerts, ids that do not exist)."""
        async with serialized_writes(self.session):
            alerts, missing = await self.alerts.bulk_set_status(alert_ids, status)
            for alert in alerts:
                await self._audit(actor, "alert.update", alert, {"after": {"status": status.value}})
            await self.session.commit()
        await self._publish([(alert, "updated") for alert in alerts])
        return alerts, missing

    async def _audit(self, actor: Actor, action: str, alert: AlertModel, change: dict[str, Any]) -> None:
        resource = ("alert", str(alert.id))
        await audit_change(self.session, actor.request, actor.principal, action, resource, change)

    @staticmethod
    async def _publish(events: Sequence[tuple[AlertModel, AlertEvent]]) -> None:
        await publish_alert_events(events)
