"""Automation rules (spec §15.5): conditions over a new alert and what to do when they all hold.

Rules run in ascending ``priority`` (1 first), each at most once per ``cooldown_seconds``; a
firing updates ``last_fired_at``/``fire_count``. Actions: ``run_playbook`` (only an enabled
playbook whose ``severity_filter`` the alert meets; in ``dry_run`` a preview execution is
recorded instead), ``create_case`` (unless the alert already has one), ``set_status``, and
``dispatch_agent`` (a task on ``aurora:agent:tasks`` for the agent fleet). In ``dummy`` mode
nothing is evaluated. The alert pipeline calls :func:`evaluate_automation_rules` per batch of new alerts.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.cases.service import CaseService
from aurorasoc.core import runtime
from aurorasoc.core.bus.base import AGENT_TASKS_STREAM
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import AlertStatus, IOCType, RuntimeMode, Severity
from aurorasoc.intel.models import AlertIOCModel, IOCModel
from aurorasoc.soar.context import alert_view
from aurorasoc.soar.executions import ExecutionService
from aurorasoc.soar.models import AutomationRuleModel, PlaybookModel
from aurorasoc.soar.templating import render

log = logging.getLogger(__name__)
RuleAction = Literal["run_playbook", "dispatch_agent", "create_case", "set_status"]


class RuleConditions(BaseModel):
    """All given conditions must hold; an empty set matches every alert."""

    model_config = ConfigDict(extra="forbid")

    severity_in: list[Severity] | None = None
    min_severity: Severity | None = None
    source_in: list[str] | None = None
    mitre_any: list[str] | None = None
    title_contains: str | None = Field(None, min_length=1)
    ioc_type_any: list[IOCType] | None = None
    min_occurrences: int | None = Field(None, ge=1)

    def matches(self, alert: AlertModel, ioc_types: set[str]) -> bool:
        severity = Severity(alert.severity)
        checks = (
            self.severity_in is None or severity in self.severity_in,
            self.min_severity is None or severity.rank >= self.min_severity.rank,
            self.source_in is None or alert.source in self.source_in,
            self.mitre_any is None or bool(set(self.mitre_any) & set(alert.mitre_techniques or [])),
            self.title_contains is None or self.title_contains.lower() in alert.title.lower(),
            self.ioc_type_any is None or bool({t.value for t in self.ioc_type_any} & ioc_types),
            self.min_occurrences is None or alert.occurrence_count >= self.min_occurrences,
        )
        return all(checks)


class RuleDefinition(BaseModel):
    """The writable fields of a rule, with the parameters each action needs."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    enabled: bool = True
    priority: int = Field(100, ge=1, le=10_000)
    conditions: RuleConditions = Field(default_factory=RuleConditions)
    action: RuleAction
    action_params: dict[str, Any] = Field(default_factory=dict)
    playbook_id: uuid.UUID | None = None
    cooldown_seconds: int = Field(0, ge=0, le=7 * 86_400)

    @model_validator(mode="after")
    def _action_needs(self) -> RuleDefinition:
        params = self.action_params
        if self.action == "run_playbook" and self.playbook_id is None:
            raise ValueError("run_playbook needs playbook_id")
        if self.action == "dispatch_agent" and not (params.get("agent") and params.get("prompt_template")):
            raise ValueError("dispatch_agent needs action_params.agent and action_params.prompt_template")
        if self.action == "set_status" and params.get("status") not in {s.value for s in AlertStatus}:
            raise ValueError(
                f"set_status needs action_params.status, one of {[s.value for s in AlertStatus]}"
            )
        return self


@dataclass(frozen=True)
class Firing:
    rule_id: uuid.UUID
    rule_name: str
    action: str
    outcome: dict[str, Any]


async def evaluate_automation_rules(session: AsyncSession, *alerts: AlertModel) -> list[Firing]:
    """Fire every matching rule for each of ``alerts``, in order (flushes; the caller commits).

    The rules are read once, and the alerts' indicator types only when there is a rule.
    """
    if runtime.current_mode() is RuntimeMode.DUMMY or not alerts:
        return []
    stmt = select(AutomationRuleModel).where(AutomationRuleModel.enabled.is_(True))
    rules = (
        await session.scalars(stmt.order_by(AutomationRuleModel.priority, AutomationRuleModel.created_at))
    ).all()
    if not rules:
        return []
    ioc_types = await _ioc_types(session, [alert.id for alert in alerts])
    firings = []
    for alert in alerts:
        firings += await _fire(session, rules, alert, ioc_types.get(alert.id, set()))
    await session.flush()
    return firings


async def _ioc_types(session: AsyncSession, alert_ids: list[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    stmt = (
        select(AlertIOCModel.alert_id, IOCModel.type)
        .join(IOCModel, AlertIOCModel.ioc_id == IOCModel.id)
        .where(AlertIOCModel.alert_id.in_(alert_ids))
    )
    found: dict[uuid.UUID, set[str]] = {}
    for alert_id, ioc_type in (await session.execute(stmt)).tuples():
        found.setdefault(alert_id, set()).add(ioc_type)
    return found


async def _fire(
    session: AsyncSession, rules: Sequence[AutomationRuleModel], alert: AlertModel, ioc_types: set[str]
) -> list[Firing]:
    firings = []
    now = utcnow()
    for rule in rules:
        if rule.last_fired_at and now < rule.last_fired_at + timedelta(seconds=rule.cooldown_seconds):
            continue
        if not RuleConditions.model_validate(rule.conditions).matches(alert, ioc_types):
            continue
        outcome = await _ACTIONS[rule.action](session, rule, alert)
        rule.last_fired_at, rule.fire_count = now, rule.fire_count + 1
        firings.append(Firing(rule.id, rule.name, rule.action, outcome))
        log.info("automation_rule_fired", extra={"rule": rule.name, "alert_id": str(alert.id), **outcome})
    return firings


async def _run_playbook(
    session: AsyncSession, rule: AutomationRuleModel, alert: AlertModel
) -> dict[str, Any]:
    playbook = await session.get(PlaybookModel, rule.playbook_id) if rule.playbook_id else None
    if playbook is None or not playbook.enabled:
        return {"skipped": "playbook missing or disabled"}
    if Severity(alert.severity).rank < Severity(playbook.severity_filter).rank:
        return {"skipped": f"alert below the playbook's severity filter ({playbook.severity_filter})"}
    service = ExecutionService(session)
    actor = f"rule:{rule.name}"
    if runtime.current_mode() is not RuntimeMode.REAL:
        effects = await service.preview(
            playbook, actor=actor, alert_id=alert.id, parameters=rule.action_params
        )
        return {"preview": True, "steps": len(effects)}
    execution = await service.execute(
        playbook, actor=actor, alert_id=alert.id, parameters=rule.action_params, trigger="automation_rule"
    )
    await service.publish()
    return {"execution_id": str(execution.id), "status": execution.status}


async def _create_case(session: AsyncSession, rule: AutomationRuleModel, alert: AlertModel) -> dict[str, Any]:
    if alert.case_id is not None:
        return {"skipped": "alert already in a case", "case_id": str(alert.case_id)}
    title = str(rule.action_params.get("title") or f"{alert.title} (rule {rule.name})")[:500]
    case = await CaseService(session).create(
        title=title, severity=alert.severity, actor=f"rule:{rule.name}", alert_ids=[alert.id]
    )
    return {"case_id": str(case.id)}


async def _set_status(session: AsyncSession, rule: AutomationRuleModel, alert: AlertModel) -> dict[str, Any]:
    before, alert.status = alert.status, AlertStatus(rule.action_params["status"]).value
    return {"status": alert.status, "previous": before}


async def _dispatch_agent(
    session: AsyncSession, rule: AutomationRuleModel, alert: AlertModel
) -> dict[str, Any]:
    prompt = render(str(rule.action_params["prompt_template"]), {"alert": alert_view(alert)})
    task = {
        "agent": rule.action_params["agent"],
        "prompt": prompt,
        "priority": int(rule.action_params.get("priority", 5)),
        "alert_id": str(alert.id),
        "requested_by": f"rule:{rule.name}",
    }
    message_id = await get_bus().publish(AGENT_TASKS_STREAM, task)
    return {"task_message_id": message_id, "agent": task["agent"]}


_ACTIONS = {
    "run_playbook": _run_playbook,
    "create_case": _create_case,
    "set_status": _set_status,
    "dispatch_agent": _dispatch_agent,
}
