"""Bodies of the /cases routes and the alert promote / case-link routes (spec §10, §14.3)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from aurorasoc.core.schemas import DataSource
from aurorasoc.core.vocabulary import AlertStatus, CaseSource, CaseStatus, Severity

_TITLE = Field(min_length=1, max_length=500)
_DESCRIPTION = Field(None, max_length=20_000)
_ASSIGNEE = Field(None, min_length=1, max_length=64)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimelineEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    action: str
    actor: str
    details: str | None = None
    data: dict[str, Any] = {}
    timestamp: datetime


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    description: str | None = None
    severity: Severity
    status: CaseStatus
    assigned_to: str | None = None
    assigned_agent: str | None = None
    source: CaseSource
    cps_involved: bool = False
    confidence: float | None = None
    mitre_techniques: list[str] = []
    iocs: list[str] = []
    affected_assets: list[str] = []
    recommendations: list[Any] = []
    resolution_notes: str | None = None
    created_by: str | None = None
    closed_at: datetime | None = None
    # ORM attribute ``metadata_`` (``metadata`` is SQLAlchemy's); showcase rows say ``metadata``.
    metadata: dict[str, Any] = Field(
        default_factory=dict, validation_alias=AliasChoices("metadata_", "metadata")
    )
    created_at: datetime
    updated_at: datetime | None = None

    def audit_snapshot(self) -> dict[str, Any]:
        return self.model_dump(mode="json", include={"title", "severity", "status", "assigned_to", "source"})


class CaseListItem(CaseOut):
    """A case in the list, with what its alerts say (``cases.activity``)."""

    alert_count: int = Field(0, description="Alerts linked to the case")
    first_seen_at: datetime | None = Field(None, description="Event time of its alerts' earliest event")
    last_seen_at: datetime | None = Field(None, description="Event time of its alerts' latest event")


class CaseAlertRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    severity: Severity
    status: AlertStatus
    first_seen_at: datetime | None = Field(None, description="Event time of the alert's first event")


class CaseDetail(CaseOut):
    """Everything the case page shows. Sections owned by later features stay empty lists."""

    timeline: list[TimelineEntryOut] = []
    alerts: list[CaseAlertRef] = []
    approvals: list[dict[str, Any]] = []
    executions: list[dict[str, Any]] = []
    investigations: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    similar_cases: list[dict[str, Any]] = []
    data_source: DataSource = "database"


class CaseCreateBody(_Body):
    title: str = _TITLE
    severity: Severity = Severity.MEDIUM
    description: str | None = _DESCRIPTION
    alert_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)
    assigned_to: str | None = _ASSIGNEE


class CaseUpdate(_Body):
    """At least one field. ``assigned_to: null`` unassigns; title/severity/status cannot be null."""

    title: str | None = Field(None, min_length=1, max_length=500)
    description: str | None = _DESCRIPTION
    severity: Severity | None = None
    status: CaseStatus | None = None
    assigned_to: str | None = _ASSIGNEE
    resolution_notes: str | None = _DESCRIPTION

    @model_validator(mode="after")
    def _meaningful(self) -> CaseUpdate:
        if not self.model_fields_set:
            raise ValueError("at least one field must be given")
        nulls = [
            f
            for f in ("title", "severity", "status")
            if f in self.model_fields_set and getattr(self, f) is None
        ]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class CommentCreate(_Body):
    text: str = Field(min_length=1, max_length=10_000)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class AssignBody(_Body):
    assigned_to: str | None = Field(min_length=1, max_length=64, description="null unassigns")


class CloseBody(_Body):
    resolution_notes: str | None = _DESCRIPTION


class PromoteBody(_Body):
    title: str | None = Field(None, min_length=1, max_length=500)
    severity: Severity | None = None
    assigned_to: str | None = _ASSIGNEE


class CaseLinkBody(_Body):
    case_id: uuid.UUID


class CaseLinkOut(BaseModel):
    alert_id: uuid.UUID
    case_id: uuid.UUID


class SummaryTechnique(BaseModel):
    id: str
    name: str | None = None
    tactics: list[str] = []


class SummaryProcess(BaseModel):
    executable: str
    command_line: str | None = None
    parent: str | None = None


class CaseSummaryOut(BaseModel):
    """The case summary as stored with the signature of the alerts it describes."""

    text: str
    backend: str = Field(description="offline (template from the facts) or model")
    alert_count: int
    event_time_start: datetime | None = None
    event_time_end: datetime | None = None
    hosts: list[str] = []
    users: list[str] = []
    source_addresses: list[str] = Field([], description="Clients of the alerts that name no host (web logs)")
    techniques: list[SummaryTechnique] = []
    tactic_chain: list[str] = []
    processes: list[SummaryProcess] = []
    indicators: list[str] = []
    observables: list[str] = Field(
        [], description="Notable observables of the alerts that are not indicators"
    )
    computed_at: datetime
    model_error: str | None = None
