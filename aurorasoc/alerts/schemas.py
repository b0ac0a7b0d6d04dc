"""Bodies and responses of the /alerts routes (spec §10, §14.1)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, computed_field, field_validator

from aurorasoc.core.schemas import Page
from aurorasoc.core.vocabulary import (
    AgentType,
    AlertCreate,
    AlertResolution,
    AlertStatus,
    AssetType,
    Severity,
)
from aurorasoc.intel import attack
from aurorasoc.intel.schemas_feeds import IntelMatch


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    description: str | None = None
    severity: Severity
    status: AlertStatus
    source: str
    asset_type: AssetType | None = None
    affected_assets: list[str] = []
    iocs: list[str] = []
    mitre_techniques: list[str] = []
    raw_log: str | None = None
    assigned_agent: AgentType | None = None
    case_id: uuid.UUID | None = None
    occurrence_count: int = 1
    first_seen_at: datetime
    last_seen_at: datetime
    resolution: AlertResolution | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    origin_site: str | None = None
    # ORM attribute ``metadata_`` (``metadata`` is SQLAlchemy's); showcase rows say ``metadata``.
    metadata: dict[str, Any] = Field(
        default_factory=dict, validation_alias=AliasChoices("metadata_", "metadata")
    )
    created_at: datetime
    updated_at: datetime | None = None
    # Evidence (spec §27): first/last_seen_at above are event times; these are the alert's entities.
    host: str | None = None
    user_name: str | None = None
    src_ip: str | None = None
    dst_ip: str | None = None
    process_executable: str | None = None
    process_command_line: str | None = None
    process_entity_id: str | None = None
    parent_executable: str | None = None
    parent_command_line: str | None = None
    entities: dict[str, Any] = {}
    observables: list[dict[str, str]] = []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def intel_matches(self) -> list[IntelMatch]:
        """Feed indicators the alert's event carried (source, TLP, confidence), from ``metadata``."""
        return [IntelMatch.model_validate(m) for m in self.metadata.get("intel_matches", [])]


class AlertPage(Page[AlertOut]):
    """A queue page; ``next_cursor`` fetches the next one (keyset), ``skip`` still works."""

    next_cursor: str | None = None
    total_is_estimate: bool = False


class TypedIOC(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    type: str
    value: str
    confidence: float
    status: str


class TechniqueRef(BaseModel):
    """An alert's technique, named from the bundled ATT&CK index (name None when unknown)."""

    id: str
    name: str | None = None
    tactics: list[str] = []
    url: str | None = None

    @classmethod
    def of(cls, tid: str) -> TechniqueRef:
        found = attack.lookup(tid)
        return cls(
            id=tid,
            name=found.name if found else None,
            tactics=attack.tactics_for(tid),
            url=found.url if found else None,
        )


class CaseRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    status: str
    severity: str


class AlertDetail(AlertOut):
    typed_iocs: list[TypedIOC] = []
    techniques: list[TechniqueRef] = []
    case: CaseRef | None = None
    investigations: list[dict[str, Any]] = []
    data_source: Literal["database", "showcase"] = "database"


class AlertBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alerts: list[AlertCreate] = Field(min_length=1, max_length=500)


class BatchItem(BaseModel):
    id: uuid.UUID
    created: bool


class BatchResult(BaseModel):
    created: int
    deduplicated: int
    items: list[BatchItem]


class AlertPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AlertStatus | None = None
    severity: Severity | None = None
    assigned_agent: AgentType | None = None
    resolution: AlertResolution | None = None

    @field_validator("status", "severity")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        """``null`` unassigns an agent or clears a resolution; an alert always has these two."""
        if value is None:
            raise ValueError("must not be null")
        return value


class BulkAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    action: Literal["resolve", "escalate", "create_case"]
    title: str | None = Field(None, min_length=1, max_length=500, description="create_case: the case title")
    severity: Severity | None = Field(None, description="create_case: at least this severity")


class BulkResult(BaseModel):
    action: Literal["resolve", "escalate", "create_case"]
    updated: int = 0
    missing: list[uuid.UUID] = []
    case_id: uuid.UUID | None = None
    linked: int = 0
