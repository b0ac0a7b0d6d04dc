"""Bodies and responses of the /siem routes: logs, log sources, saved hunts, promotion (spec §10)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from aurorasoc.core.schemas import Page
from aurorasoc.core.vocabulary import Role, Severity
from aurorasoc.siem.search import TimeRange


def _listify(value: Any) -> Any:
    """Filters accept one value or a list of them."""
    return [value] if isinstance(value, str) else value


Short = Annotated[str, Field(min_length=1, max_length=255)]
Listed = BeforeValidator(_listify)
Query = Annotated[str, Field(max_length=2_000, description="SIEM query language (spec §13.6)")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- logs ---------------------------------------------------------------------------------


class SiemLogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    timestamp: datetime
    received_at: datetime
    log_source_id: uuid.UUID | None = None
    source: str
    format: str
    product: str | None = None
    category: str | None = None
    service: str | None = None
    event_id: str | None = None
    host: str | None = None
    user_name: str | None = None
    src_ip: str | None = None
    src_port: int | None = None
    dst_ip: str | None = None
    dst_port: int | None = None
    severity: str
    message: str | None = None
    fields: dict[str, Any] = {}
    raw: str | None = None
    # Evidence (spec §27): ``timestamp`` is the event time, also given as ``event_time``.
    event_time: datetime | None = None
    time_source: str = "record"
    fingerprint: str | None = None
    channel: str | None = None
    process_executable: str | None = None
    process_command_line: str | None = None
    process_entity_id: str | None = None
    parent_executable: str | None = None
    parent_entity_id: str | None = None
    entities: dict[str, Any] = {}


class LogPage(Page[SiemLogOut]):
    """``total`` is exact up to 100 000 matches; beyond, ``total_is_estimate`` (and ``truncated``) is set.
    On PostgreSQL a total too slow to count exactly (matches over many days) is scaled from the
    newest days' matches: ``total_is_estimate`` without ``truncated``.

    ``newest_at``: when the range holds no match, the event time of the newest match over all time.
    ``next_cursor``: pass it as ``cursor`` for the next page (absent on the last page).
    """

    truncated: bool = False
    total_is_estimate: bool = False
    newest_at: datetime | None = None
    next_cursor: str | None = None


class HistogramBucket(BaseModel):
    start: datetime
    count: int


class Histogram(BaseModel):
    bucket_seconds: int | None = None
    buckets: list[HistogramBucket] = []


class FacetValue(BaseModel):
    value: str
    count: int


class Facets(BaseModel):
    """Top values per entity column among the matches."""

    host: list[FacetValue] = []
    user_name: list[FacetValue] = []
    src_ip: list[FacetValue] = []  # web and network logs name a client, not a host or process
    event_id: list[FacetValue] = []
    process_executable: list[FacetValue] = []
    sampled: int | None = Field(
        None,
        description="More matched: counted over this many of the newest matches naming any of them",
    )


class LogPromoteBody(_Body):
    rule_id: str | None = Field(None, max_length=128, description="Detection rule that flagged the log")
    title: str | None = Field(None, min_length=1, max_length=500)
    severity: Severity | None = None


# --- log sources --------------------------------------------------------------------------


class LogSourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: str = Field(description="file (followed), http, or import (stored once by `aurorasoc ingest`)")
    format: str
    path: str | None = None
    enabled: bool
    passthrough_alerts: bool
    last_event_at: datetime | None = Field(None, description="The newest event's own time")
    last_received_at: datetime | None = Field(None, description="When events last arrived")
    events_total: int
    parse_errors: int
    status: Literal["healthy", "stale", "erroring"]
    eps: float = Field(0.0, description="Average events per second over the last minute")
    events_today: int = Field(0, description="Events received since 00:00 UTC")
    created_at: datetime
    updated_at: datetime


class LogSourceCreate(_Body):
    name: str = Field(min_length=1, max_length=128, pattern=r"^[\w.:@/-]+$")
    kind: Literal["file", "http"]
    format: str = Field("auto", max_length=16)
    path: str | None = Field(None, min_length=1, max_length=1024)
    enabled: bool = True
    passthrough_alerts: bool = False


class LogSourcePatch(_Body):
    enabled: bool | None = None
    passthrough_alerts: bool | None = None
    format: str | None = Field(None, max_length=16)


# --- hunts --------------------------------------------------------------------------------


class HuntFilters(_Body):
    """Structured filters stored with a hunt, ANDed with its query."""

    source: Annotated[list[Short], Listed] = []
    severity: Annotated[list[Severity], Listed] = []
    host: Annotated[list[Short], Listed] = []
    range: TimeRange | None = None


SharingMode = Literal["private", "team", "roles"]
Tags = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=20)]
Schedule = Annotated[int, Field(ge=5, le=10_080, description="Run every N minutes (5 min to 7 days)")]


class HuntCreate(_Body):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5_000)
    query: Query
    filters: HuntFilters = HuntFilters()
    tags: Tags = []
    sharing_mode: SharingMode = "private"
    shared_with_roles: list[Role] = []
    schedule_minutes: Schedule | None = None
    alert_on_hits: bool = False
    dispatch_agent: bool = Field(False, description="Queue a threat_hunter task when a scheduled run hits")


class HuntPatch(_Body):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5_000)
    query: Query | None = None
    filters: HuntFilters | None = None
    tags: Tags | None = None
    sharing_mode: SharingMode | None = None
    shared_with_roles: list[Role] | None = None
    schedule_minutes: Schedule | None = None
    alert_on_hits: bool | None = None
    dispatch_agent: bool | None = None


class HuntOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str | None = None
    query: str
    filters: dict[str, Any] = {}
    tags: list[str] = []
    sharing_mode: SharingMode
    shared_with_roles: list[str] = []
    created_by: str
    is_owner: bool = False
    schedule_minutes: int | None = None
    alert_on_hits: bool = False
    dispatch_agent: bool = False
    last_run_at: datetime | None = None
    last_hit_count: int = 0
    total_hits: int = 0
    created_at: datetime
    updated_at: datetime


class HuntRunOut(BaseModel):
    hunt: HuntOut
    hit_count: int = Field(description="Every match of the hunt now")
    hits: list[SiemLogOut] = Field(description="The newest matches, at most `limit`")
    truncated: bool = Field(description="More matches exist than were returned")
