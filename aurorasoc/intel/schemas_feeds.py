"""Bodies and responses of the /intel routes: indicator feeds and ATT&CK coverage (issue 17)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FeedKind = Literal["stix", "misp", "csv", "text"]
TLPName = Literal["clear", "green", "amber", "red"]


class FeedCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: FeedKind
    url: str = Field(min_length=8, max_length=2048, description="http(s) URL; a MISP feed's base URL")
    tlp: TLPName = "amber"
    confidence: float = Field(0.5, ge=0.0, le=1.0, description="For indicators that carry none")
    expiry_days: int = Field(30, ge=1, le=3650, description="For indicators that carry no expiry")
    refresh_minutes: int = Field(60, ge=1, le=10080)
    csv_column: str | None = Field(None, max_length=128, description="CSV header of the indicator column")
    enabled: bool = True
    refresh_now: bool = Field(True, description="Import once on creation (a refused feed is still saved)")


class FeedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: FeedKind
    url: str
    tlp: TLPName
    confidence: float
    expiry_days: int
    refresh_minutes: int
    csv_column: str | None = None
    enabled: bool
    last_refresh_at: datetime | None = None
    last_status: Literal["never", "ok", "error"]
    last_error: str | None = None
    indicator_count: int
    created_at: datetime


class FeedRefreshResult(BaseModel):
    feed: FeedOut
    indicators: int


class IntelMatch(BaseModel):
    """An indicator an alert's event carried, as the feed described it at match time."""

    ioc_id: str | None = None
    type: str
    value: str
    feed: str | None = None
    source: str
    tlp: str
    confidence: float
    expires_at: datetime | None = None


class CoverageCell(BaseModel):
    id: str
    name: str | None = None
    rules: int = Field(description="Enabled rules tagged with the technique")
    alerts: int = Field(description="Alerts in scope showing the technique")
    rule_titles: list[str] = Field(default_factory=list, description="Up to five rule titles")


class CoverageColumn(BaseModel):
    tactic: str
    techniques: list[CoverageCell]


class CoverageMatrix(BaseModel):
    attack_version: str
    scope: str
    covered: int = Field(description="Techniques covered by at least one enabled rule")
    observed: int = Field(description="Techniques seen in alerts in scope")
    observed_uncovered: list[str] = Field(description="Seen in alerts, covered by no enabled rule")
    tactics: list[CoverageColumn]
