"""Bodies and responses of the /iocs routes (spec §10, §14.4)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aurorasoc.core.schemas import DataSource
from aurorasoc.core.vocabulary import IOCStatus
from aurorasoc.intel.enrichment import IntelResult
from aurorasoc.intel.models import IOCModel
from aurorasoc.intel.service import effective_status

TLP = Literal["clear", "green", "amber", "red"]


def _clean_tags(tags: list[str] | None) -> list[str] | None:
    if tags is None:
        return None
    if any(len(t) > 64 for t in tags):
        raise ValueError("a tag holds at most 64 characters")
    return list(dict.fromkeys(t.strip() for t in tags if t.strip()))


class IOCOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    type: str
    value: str
    source: str
    confidence: float
    status: str = Field(
        description="active, expired (also when unseen for AURORA_IOC_EXPIRY_DAYS), false_positive"
    )
    tags: list[str] = []
    description: str | None = None
    tlp: str
    sightings: int
    first_seen: datetime
    last_seen: datetime
    origin_site: str | None = None
    created_at: datetime
    updated_at: datetime | None = None

    @classmethod
    def of(cls, ioc: IOCModel) -> IOCOut:
        return cls.model_validate(ioc).model_copy(update={"status": effective_status(ioc)})


class AlertRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    severity: str
    status: str
    created_at: datetime


class IOCDetail(IOCOut):
    linked_alerts: list[AlertRef] = Field(description="The newest 100 alerts carrying this IOC")
    linked_alert_count: int
    data_source: DataSource = "database"


class IOCCreate(BaseModel):
    """A sighting reported by an analyst or a tool; an existing (type, value) gains a sighting."""

    model_config = ConfigDict(extra="forbid")

    type: str | None = Field(
        None, max_length=32, description="IOC type; inferred from the value when omitted"
    )
    value: str = Field(min_length=1, max_length=2048)
    confidence: float = Field(0.5, ge=0, le=1, description="0 (guess) to 1 (certain); the max is kept")
    tags: list[str] = Field(default_factory=list, max_length=50, description="Merged into existing tags")
    tlp: TLP | None = Field(None, description="New IOCs default to amber; omitted keeps an existing IOC's")
    description: str | None = Field(None, max_length=4000)
    source: str = Field("manual", min_length=1, max_length=64)

    _tags = field_validator("tags")(_clean_tags)


class IOCPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: IOCStatus | None = None
    confidence: float | None = Field(None, ge=0, le=1)
    tags: list[str] | None = Field(None, max_length=50, description="Replaces the tag list")
    tlp: TLP | None = None
    description: str | None = Field(None, max_length=4000)

    _tags = field_validator("tags")(_clean_tags)

    @field_validator("status", "confidence", "tags", "tlp")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null")
        return value


class LookupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=2048)
    type: str | None = Field(None, max_length=32, description="Inferred from the value when omitted")


class LookupResult(BaseModel):
    type: str
    value: str = Field(description="Canonical form (§13.5)")
    ioc: IOCOut | None = Field(description="The local record; null when this SOC has never seen it")
    linked_alerts: list[AlertRef] = []
    linked_alert_count: int = 0
    enrichment: list[IntelResult] = Field(description="One result per threat-intel provider")
    cached: bool = Field(description="Enrichment served from the cache (AURORA_IOC_CACHE_TTL_SECONDS)")
    data_source: DataSource = "database"


class SimilarHit(BaseModel):
    ioc: IOCOut
    reason: str
    score: float


class SimilarResult(BaseModel):
    query: str
    method: Literal["lexical"] = "lexical"
    note: str = (
        "Lexical similarity: same /24 (IPv4) or /64 (IPv6), same host or registered domain "
        "(heuristic, not the Public Suffix List), or the value contains the query. Semantic search "
        "needs the memory module."
    )
    items: list[SimilarHit]
    data_source: DataSource = "database"


class ShareReceipt(BaseModel):
    subject: str
    delivery: Literal["queued"] = Field(
        "queued", description="Handed to the JetStream publisher; a NATS outage is logged and counted"
    )
    message: dict[str, Any]


class AllowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    value: str
    host_scope: str
    reason: str | None = None
    created_by: str | None = None
    created_at: datetime
