"""Investigation and agent-fleet shapes (spec §10, §16.5, §16.6)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from aurorasoc.core.vocabulary import AgentType


class InvestigationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    task_id: str
    agent: str
    prompt: str
    priority: int
    requested_by: str
    alert_id: uuid.UUID | None
    case_id: uuid.UUID | None
    status: str
    result: dict[str, Any] | None
    confidence: float | None
    error: str | None
    backend: str | None = None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None

    @model_validator(mode="after")
    def _backend(self) -> InvestigationOut:
        if self.backend is None and self.result:
            self.backend = self.result.get("backend")
        return self


class InvestigationEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    event_type: str
    payload: dict[str, Any]
    created_at: datetime


class InvestigateRequest(BaseModel):
    prompt: str | None = Field(None, max_length=4000, description="Extra instructions for the orchestrator")
    priority: int = Field(5, ge=1, le=10)


class DispatchRequest(BaseModel):
    agent: AgentType = AgentType.ORCHESTRATOR
    prompt: str = Field(..., min_length=1, max_length=8000)
    priority: int = Field(5, ge=1, le=10)
    alert_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None


class OverrideRequest(BaseModel):
    status: Literal["completed", "failed"]
    note: str = Field(..., min_length=1, max_length=4000)


class ProposalRequest(BaseModel):
    """One of the investigation's ``proposed_actions``, to file as a human approval."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["isolate_endpoint", "disable_user", "block_ip"]
    target: str = Field(..., min_length=1, max_length=255)


class AgentStatusOut(BaseModel):
    name: str
    display_name: str
    port: int
    enabled: bool
    status: Literal["online", "degraded", "offline", "disabled", "unconfigured"]
    circuit_state: str
    model: str
    role: str
    tool_domains: list[str]
    tools: list[str]
    missing_tools: list[str]
    queue_depth: int
    last_activity_at: datetime | None
    investigations_24h: int


class AgentList(BaseModel):
    items: list[AgentStatusOut]
    total: int
    llm_configured: bool


class MeshNode(BaseModel):
    name: str
    url: str
    mode: str
    reachable: bool


class MeshOut(BaseModel):
    mode: str
    nodes: list[MeshNode]
