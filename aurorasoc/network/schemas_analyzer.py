"""Shapes of ``POST /network-analyzer/analyze`` (spec §10): request, KPIs, evidence, the run."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aurorasoc.agents.schemas import InvestigationOut
from aurorasoc.intel.schemas import IOCOut
from aurorasoc.network.analyzer import DEFAULT_RANGE, AnalyzerRange
from aurorasoc.siem.query import MAX_QUERY_LENGTH
from aurorasoc.siem.schemas import SiemLogOut


class AnalyzerContext(BaseModel):
    """Where the analysis comes from: an imported attack and/or a short analyst note."""

    model_config = ConfigDict(extra="forbid")

    attack_id: uuid.UUID | None = Field(
        None, description="Network attack; its src/dst become the query when none is given"
    )
    note: str | None = Field(None, max_length=2000, description="Analyst context passed to the agent")


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field("", max_length=MAX_QUERY_LENGTH, description="SIEM query language (§13.6)")
    time_range: AnalyzerRange = DEFAULT_RANGE
    context: AnalyzerContext | None = None


class AnalyzerKpis(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    flows: int = Field(description="Matching events")
    critical: int
    high: int
    iocs: int = Field(description="Distinct matched src/dst IPs that are in the IOC store")


class AnalyzeResponse(BaseModel):
    """The KPIs and evidence, plus the investigation (``null`` for a preview, which stores nothing)."""

    query: str
    time_range: AnalyzerRange
    kpis: AnalyzerKpis
    events: list[SiemLogOut] = Field(description="Newest matching events")
    iocs: list[IOCOut] = Field(description="Known IOCs among the matched endpoints")
    prompt: str
    alert_id: uuid.UUID | None = None
    attack_id: uuid.UUID | None = None
    investigation: InvestigationOut | None = None
    preview: bool = False
    mode: str
    effects: list[dict[str, Any]] = []
