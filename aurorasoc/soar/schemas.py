"""Bodies and responses of the playbook, execution, connector and approval routes (spec §10, §15)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aurorasoc.core.vocabulary import ApprovalStatus, ExecutionStatus, Severity


class PlaybookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID | str
    name: str
    description: str
    severity_filter: str
    enabled: bool
    requires_approval: bool
    mitre_techniques: list[str] = []
    definition: dict[str, Any]
    source_yaml: str | None = None
    version: int = 1
    created_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ValidationProblem(BaseModel):
    field: str
    line: int | None = None
    message: str


class ValidationResult(BaseModel):
    valid: bool
    name: str | None = None
    steps: int = 0
    errors: list[ValidationProblem] = []


class ActionOut(BaseModel):
    name: str
    action_class: str
    reversible: bool
    rollback_action: str | None
    connector: str
    permission: str
    rollback_only: bool


class ExecuteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)


class ExecutionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    playbook_id: uuid.UUID | None
    playbook_name: str
    playbook_version: int
    alert_id: uuid.UUID | None
    case_id: uuid.UUID | None
    trigger: str
    triggered_by: str | None
    preview: bool
    status: ExecutionStatus
    parameters: dict[str, Any] = {}
    steps: list[dict[str, Any]]
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime


class ConnectorActionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    connector: str
    action: str
    target: str | None
    params: dict[str, Any]
    simulated: bool
    status: str
    result: dict[str, Any]
    execution_id: uuid.UUID | None
    approval_id: uuid.UUID | None
    actor: str | None
    created_at: datetime


class ApprovalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID | None
    execution_id: uuid.UUID | None
    step_name: str | None
    investigation_id: uuid.UUID | None
    action_type: str
    action_params: dict[str, Any]
    target: str | None
    justification: str | None
    context: dict[str, Any]
    requested_by: str
    risk_level: Severity
    escalated: bool
    status: ApprovalStatus
    ttl_seconds: int
    expires_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_comment: str | None
    result: dict[str, Any] | None
    created_at: datetime


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(None, max_length=4000)


class AutomationRuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str | None
    enabled: bool
    priority: int
    conditions: dict[str, Any]
    action: str
    action_params: dict[str, Any]
    playbook_id: uuid.UUID | None
    cooldown_seconds: int
    last_fired_at: datetime | None
    fire_count: int
    created_by: str | None
    created_at: datetime


class AutomationRulePatch(BaseModel):
    """Any subset of the rule's fields; the merged rule is validated as a whole."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    enabled: bool | None = None
    priority: int | None = None
    conditions: dict[str, Any] | None = None
    action: str | None = None
    action_params: dict[str, Any] | None = None
    playbook_id: uuid.UUID | None = None
    cooldown_seconds: int | None = None
