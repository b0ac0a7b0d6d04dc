"""Shapes of the /network/attacks, /sites and /system/topology routes (spec §10, §13.8, §20)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aurorasoc.agents.schemas import InvestigationOut
from aurorasoc.alerts.schemas import AlertOut, TechniqueRef
from aurorasoc.core.schemas import DataSource
from aurorasoc.core.vocabulary import Severity


class NetworkAttackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    category: str
    severity: Severity
    confidence: float
    src_ip: str | None = None
    dst_ip: str | None = None
    telemetry_families: list[str] = []
    alert_ids: list[str] = []
    mitre_techniques: list[str] = []
    status: Literal["triage", "case", "dismissed"]
    case_id: uuid.UUID | None = None
    first_seen: datetime
    last_seen: datetime
    created_at: datetime
    updated_at: datetime | None = None


class NetworkAttackDetail(NetworkAttackOut):
    """The attack with its evidence: alerts, techniques (with tactics), findings, dispatches."""

    alerts: list[AlertOut] = []
    techniques: list[TechniqueRef] = []
    findings: list[str] = []
    investigations: list[InvestigationOut] = []


class AttackDispatchRequest(BaseModel):
    prompt: str | None = Field(None, max_length=4000, description="Extra instructions for network_security")
    priority: int = Field(5, ge=1, le=10)


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    site_id: str
    name: str
    tier: str
    is_local: bool
    agent_count: int
    last_heartbeat_at: datetime | None = None
    status: str


class SiteLinkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    link_id: str
    site_a: str
    site_b: str
    status: Literal["healthy", "degraded", "down"]
    latency_ms: float | None = None
    last_seen_at: datetime | None = None


class SitesOut(BaseModel):
    items: list[SiteOut]
    total: int
    federation_enabled: bool
    local_site_id: str
    data_source: DataSource = "database"


class TopologyOut(BaseModel):
    sites: list[SiteOut]
    links: list[SiteLinkOut]
    federation_enabled: bool
    local_site_id: str
    data_source: DataSource = "database"
