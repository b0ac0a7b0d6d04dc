"""Bodies and responses of the /detections routes (spec §10, §13.3)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_YAML_CHARS = 1024 * 1024
MAX_TEST_EVENTS = 1000
RuleKind = Literal["rule", "correlation"]
_YAML = Field(min_length=1, max_length=MAX_YAML_CHARS, description="Sigma YAML (one or more documents)")


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    rule_uid: str = Field(description="The Sigma rule id")
    kind: RuleKind
    title: str
    level: str | None
    status: str | None
    logsource_product: str | None
    logsource_category: str | None
    logsource_service: str | None
    tags: list[str]
    enabled: bool
    origin: Literal["bundled", "custom", "pack"]
    pack: str | None = Field(None, description="The rule pack it belongs to (origin pack)")
    supported: bool
    unsupported_reason: str | None
    hit_count: int
    last_hit_at: datetime | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime

    def audit_snapshot(self) -> dict[str, Any]:
        return self.model_dump(mode="json", include={"rule_uid", "title", "enabled", "origin", "supported"})


class RuleDetail(RuleOut):
    yaml: str


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    yaml: str = _YAML
    enabled: bool = True


class RulesCreated(BaseModel):
    """A YAML may hold several documents (e.g. a rule and its correlation): one row each."""

    items: list[RuleDetail]


class RulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    yaml: str | None = Field(None, min_length=1, max_length=MAX_YAML_CHARS)

    @model_validator(mode="after")
    def _something(self) -> RulePatch:
        if self.enabled is None and self.yaml is None:
            raise ValueError("send 'enabled' and/or 'yaml'")
        return self


class RuleTest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    yaml: str = _YAML
    events: list[dict[str, Any]] = Field([], max_length=MAX_TEST_EVENTS, description="JSON log objects")
    log_ids: list[uuid.UUID] = Field([], max_length=MAX_TEST_EVENTS, description="Stored siem_logs ids")

    @model_validator(mode="after")
    def _some_events(self) -> RuleTest:
        if not self.events and not self.log_ids:
            raise ValueError("send 'events' and/or 'log_ids'")
        return self


class TestedRule(BaseModel):
    id: str
    title: str
    supported: bool
    reason: str | None = None


class RuleMatch(BaseModel):
    rule_id: str
    title: str
    matched_fields: dict[str, Any]


class EventResult(BaseModel):
    index: int
    log_id: str | None = None
    matches: list[RuleMatch]


class RuleTestResult(BaseModel):
    rules: list[TestedRule]
    events: int
    matched: int = Field(description="Events at least one rule matched")
    results: list[EventResult]
