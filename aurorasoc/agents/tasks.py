"""The ``aurora:agent:tasks`` envelope (spec §16.5), kept free of the agent runtime's imports so
producers (alert pipeline, automation, hunts) stay cheap to import."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import AliasChoices, BaseModel, Field

from aurorasoc.agents.models import InvestigationModel
from aurorasoc.alerts.models import AlertModel
from aurorasoc.core.vocabulary import AgentType


class TaskEnvelope(BaseModel):
    """One message on ``aurora:agent:tasks``; ``agent`` is accepted for ``agent_type``."""

    task_id: str = Field(default_factory=lambda: uuid.uuid4().hex, min_length=1, max_length=64)
    agent_type: AgentType = Field(
        AgentType.ORCHESTRATOR, validation_alias=AliasChoices("agent_type", "agent")
    )
    priority: int = Field(5, ge=1, le=10)
    prompt: str = Field(..., min_length=1, max_length=8000)
    investigation_id: uuid.UUID | None = None
    requested_by: str = Field("system", max_length=128)
    alert_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    network_attack_id: uuid.UUID | None = None
    permissions: list[str] | None = Field(
        None, max_length=200, description="Narrows what the run may do (read-only analyses); never widens"
    )

    def message(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def requested_agent_task(alert: AlertModel) -> dict[str, Any] | None:
    """The task an alert's source asked for (``metadata.dispatch_agent``), keyed by alert and agent
    so a redelivered alert event queues the same task id."""
    agent = (alert.metadata_ or {}).get("dispatch_agent")
    if not agent or agent not in AgentType._value2member_map_:
        return None
    return TaskEnvelope(
        task_id=f"alert-{alert.id.hex}-{agent}",
        agent_type=AgentType(agent),
        priority=8 if alert.severity == "critical" else 6,
        prompt=f"Investigate the {alert.severity} {alert.source} alert '{alert.title}'.",
        requested_by=alert.source or "system",
        alert_id=alert.id,
        case_id=alert.case_id,
    ).message()


def envelope_for(investigation: InvestigationModel, permissions: frozenset[str]) -> TaskEnvelope:
    """The task that runs an investigation the dispatch route has already stored, carrying the
    caller's permissions so a queued run can do no more than an in-request one."""
    return TaskEnvelope(
        task_id=investigation.task_id,
        agent_type=AgentType(investigation.agent),
        priority=investigation.priority,
        prompt=investigation.prompt,
        investigation_id=investigation.id,
        requested_by=investigation.requested_by or "system",
        alert_id=investigation.alert_id,
        case_id=investigation.case_id,
        permissions=sorted(permissions),
    )
