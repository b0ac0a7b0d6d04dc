"""The investigation workflow (spec §16.5): the orchestrator and, through handoffs, specialists.

For an alert the plan follows its entities and techniques (:func:`~aurorasoc.agents.questions.plan_for`):
``security_analyst`` (what happened), ``endpoint_security`` (process chain, when the alert names a
process), ``threat_hunter`` (where else, when it names a host, user or indicator), ``threat_intel``
(indicators), ``cps_security`` (only when CPS is involved) and ``incident_responder`` (proposals
only); an LLM orchestrator is offered every enabled specialist and decides itself. The merged
result always says which backend produced it and which specialists were skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.agents.factory import create_agent
from aurorasoc.agents.handoff import Delegator
from aurorasoc.agents.llm import Budget, ChatBackend, TokenUsage
from aurorasoc.agents.models import InvestigationModel
from aurorasoc.agents.questions import plan_for
from aurorasoc.agents.recorder import StepRecorder
from aurorasoc.agents.runtime import VERDICTS, AgentRuntime
from aurorasoc.agents.specs import SPECIALISTS
from aurorasoc.agents.tools.base import ToolContext
from aurorasoc.alerts.models import AlertModel
from aurorasoc.core.config import get_settings
from aurorasoc.core.vocabulary import AgentType

CPS_SOURCES = frozenset({"mqtt", "cps", "cps_sensor", "ot_monitor"})
ICS_TECHNIQUE = re.compile(r"^T08\d\d", re.IGNORECASE)
PROCESS_KEYS = ('"Image"', '"SourceImage"', '"NewProcessName"')
BackendFor = Callable[[AgentType], ChatBackend | None]


def enabled_agents() -> list[AgentType]:
    """Specialists in ``ENABLED_AGENTS`` (``all`` by default)."""
    raw = get_settings().agents.enabled_agents.strip()
    if raw in ("", "all"):
        return list(SPECIALISTS)
    wanted = {name.strip() for name in raw.split(",")}
    return [a for a in SPECIALISTS if a.value in wanted]


def cps_involved(alert: AlertModel) -> bool:
    assets = alert.affected_assets or []
    return (
        alert.source in CPS_SOURCES
        or any(str(a).startswith("device:") for a in assets)
        or any(ICS_TECHNIQUE.match(t) for t in alert.mitre_techniques or [])
    )


def alert_plan(alert: AlertModel | None) -> list[AgentType]:
    """Whom to ask, from the alert's entities and techniques (see :func:`plan_for`)."""
    assets = [str(a) for a in (alert.affected_assets or [])] if alert else []
    raw = (alert.raw_log or "") if alert else ""
    steps = plan_for(
        has_alert=alert is not None,
        has_process=any(k in raw for k in PROCESS_KEYS),
        has_entities=any(a.startswith(("host:", "user:")) for a in assets) or bool(alert and alert.src_ip),
        has_iocs=bool(alert and alert.iocs),
        cps=alert is not None and cps_involved(alert),
    )
    enabled = set(enabled_agents())
    return [a for a in steps if a in enabled]


def alert_context(alert: AlertModel) -> dict[str, Any]:
    return {
        "alert_id": str(alert.id),
        "title": alert.title,
        "severity": alert.severity,
        "source": alert.source,
        "description": alert.description or "",
        "iocs": list(alert.iocs or []),
        "mitre_techniques": list(alert.mitre_techniques or []),
        "case_id": str(alert.case_id) if alert.case_id else None,
    }


@dataclass
class InvestigationRun:
    result: dict[str, Any]
    repaired: bool
    usage: TokenUsage


async def run_investigation(
    session: AsyncSession,
    investigation: InvestigationModel,
    *,
    permissions: frozenset[str],
    backend_for: BackendFor = lambda _agent: None,
    commit_steps: bool = True,
) -> InvestigationRun:
    """Run the investigation's agent (the orchestrator delegates) and record every step."""
    recorder = StepRecorder(session, investigation.id, commit=commit_steps)
    agent_type = AgentType(investigation.agent)
    ctx = ToolContext(
        session,
        f"agent:{agent_type.value}",
        permissions,
        investigation.id,
        investigation.case_id,
        investigation.alert_id,
    )
    alert = await session.get(AlertModel, investigation.alert_id) if investigation.alert_id else None
    context: dict[str, Any] = alert_context(alert) if alert else {}
    if investigation.case_id:
        context["case_id"] = str(investigation.case_id)
    cfg = get_settings().agents
    max_steps = cfg.llm_max_steps
    ctx.extra["budget"] = Budget(cfg.investigation_token_budget, cfg.investigation_step_budget)
    agent = create_agent(agent_type, llm=backend_for(agent_type))
    delegator = None
    handoffs = {}
    if agent_type is AgentType.ORCHESTRATOR:
        context["plan"] = [a.value for a in alert_plan(alert)]
        delegator = Delegator(agent.name, recorder, ctx, max_steps, context, backend_for)
        handoffs = delegator.handoffs(enabled_agents())
    outcome = await AgentRuntime(agent, recorder, ctx, max_steps, handoffs).run(investigation.prompt, context)
    result = dict(outcome.result)
    if result.get("verdict") not in VERDICTS:
        result["verdict"] = "inconclusive"  # a missing or unknown verdict is never benign
    result["backend"] = agent.llm.name
    result["skipped_agents"] = list(delegator.skipped) if delegator else []
    usage = outcome.usage
    if delegator:
        usage.add(delegator.usage)
    result["tokens"] = usage.as_dict()
    repaired = outcome.repaired or bool(delegator and delegator.repaired)
    await recorder.record(
        agent.name,
        "verdict",
        {
            "verdict": result["verdict"],
            "confidence": result.get("confidence"),
            "backend": result["backend"],
            "skipped_agents": result["skipped_agents"],
        },
    )
    return InvestigationRun(result, repaired, usage)
