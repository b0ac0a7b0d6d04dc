"""A case opened from a selection of alerts (``POST /alerts/bulk`` with ``create_case``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.commands import Actor
from aurorasoc.alerts.events import publish_alert_event
from aurorasoc.alerts.models import AlertModel
from aurorasoc.alerts.service import AlertService
from aurorasoc.cases.models import CaseModel
from aurorasoc.cases.service import CaseService
from aurorasoc.core.db import serialized_writes
from aurorasoc.core.vocabulary import Severity
from aurorasoc.core.web.audit_trail import audit_change


async def open_case_for_alerts(
    session: AsyncSession,
    alert_ids: Sequence[uuid.UUID],
    title: str | None,
    severity: Severity | None,
    actor: Actor,
) -> tuple[CaseModel, list[AlertModel]]:
    """A case holding these alerts (its severity rises to theirs as they are linked): audited as
    ``case.create``, committed, then each alert's ``updated`` event is published."""
    async with serialized_writes(session):
        alerts = [await AlertService(session).get(i) for i in dict.fromkeys(alert_ids)]
        case = await CaseService(session).create(
            title=title or f"Case from {len(alerts)} alerts: {alerts[0].title}"[:500],
            severity=severity or Severity.INFO,
            actor=actor.principal.username,
            alert_ids=[a.id for a in alerts],
        )
        details = {"alert_ids": [str(a.id) for a in alerts], "source": "bulk"}
        resource = ("case", str(case.id))
        await audit_change(session, actor.request, actor.principal, "case.create", resource, details)
        await session.commit()
    for alert in alerts:
        await publish_alert_event(alert, "updated")
    return case, alerts
