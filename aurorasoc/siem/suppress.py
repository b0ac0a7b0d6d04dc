""" "Suppress similar" (issue #16 scope 2): a rule exception built from an alert and its stored event.

It reads the alert and the SIEM event, so it lives here rather than in ``detection`` (which sits
below both); the exception itself is created by ``RuleExceptionService`` in one unit of work.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import InvalidInput, NotFound
from aurorasoc.detection.exceptions import RuleExceptionService, plain_value
from aurorasoc.detection.models import DetectionRuleModel, RuleExceptionModel
from aurorasoc.detection.sigma.rules import compile_yaml
from aurorasoc.siem.models import SiemLogModel


def event_conditions(rule_fields: Iterable[str], event: Mapping[str, Any]) -> dict[str, Any]:
    """The event's scalar values in the fields the rule reads, matched case-insensitively."""
    by_lower = {key.lower(): key for key in event}
    return {
        name: event[by_lower[name.lower()]]
        for name in sorted(rule_fields)
        if name.lower() in by_lower and plain_value(event[by_lower[name.lower()]])
    }


async def exception_from_alert(
    session: AsyncSession,
    alert_id: uuid.UUID,
    *,
    reason: str,
    expires_at: datetime | None = None,
    actor: Actor,
) -> RuleExceptionModel:
    """An exception for the alert's rule, its event's values in the fields the rule reads, its host."""
    alert = await session.get(AlertModel, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} does not exist")
    rule_uid = (alert.metadata_ or {}).get("rule_uid")
    log_ids = (alert.metadata_ or {}).get("log_ids") or []
    if not rule_uid or not log_ids:
        raise InvalidInput("only alerts raised by a Sigma rule on a stored event can be suppressed")
    rule = await session.scalar(select(DetectionRuleModel).where(DetectionRuleModel.rule_uid == rule_uid))
    log = await session.get(SiemLogModel, uuid.UUID(str(log_ids[0])))
    if rule is None or log is None:
        raise InvalidInput("the alert's rule or event is no longer stored")
    compiled = next((r for r in compile_yaml(rule.yaml, "tuning") if r.id == rule_uid), None)
    if compiled is None or compiled.correlation is not None:
        raise InvalidInput("correlation alerts cannot be suppressed by event values")
    return await RuleExceptionService(session).create(
        rule_uid=rule_uid,
        conditions=event_conditions(compiled.fields, log.fields),
        reason=reason,
        host=log.host,
        expires_at=expires_at,
        source_alert_id=str(alert_id),
        actor=actor,
    )
