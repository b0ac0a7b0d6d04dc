"""``siem`` domain: alerts, stored events, correlation and ATT&CK mapping (read-only)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select

from aurorasoc.agents.tools.base import AuroraTool, ToolContext, ToolResult
from aurorasoc.agents.tools.past_cases import keys_of, similar_closed_cases
from aurorasoc.agents.tools.views import alert_view, log_view, technique_view
from aurorasoc.alerts.filters import AlertFilters
from aurorasoc.alerts.models import AlertModel
from aurorasoc.alerts.service import AlertService
from aurorasoc.cases.related import related_alerts
from aurorasoc.core.errors import NotFound
from aurorasoc.siem.search import LogFilters, SiemSearchService

SEARCH_SCAN = 200  # alerts read per search before the indicator and technique checks


class SearchAlertsInput(BaseModel):
    alert_id: uuid.UUID | None = Field(None, description="Fetch exactly this alert")
    text: str | None = Field(None, max_length=200, description="Words in the title or description")
    ioc: str | None = Field(None, max_length=512, description="Alerts carrying this indicator")
    technique: str | None = Field(None, max_length=16, description="ATT&CK technique id, e.g. T1110")
    limit: int = Field(10, ge=1, le=50)


class SearchAlerts(AuroraTool):
    """Search alerts by id, text, indicator or ATT&CK technique; latest event time first.

    Text and indicator go through the alert queue's full-text search; the exact indicator and the
    technique are then checked on the ``SEARCH_SCAN`` best matches."""

    name = "search_alerts"
    domain = "siem"
    Input = SearchAlertsInput
    permission = "alerts:read"

    async def execute(self, ctx: ToolContext, args: SearchAlertsInput) -> ToolResult:
        if args.alert_id:
            alert = await ctx.session.get(AlertModel, args.alert_id)
            if alert is None:
                raise NotFound(f"alert {args.alert_id} does not exist")
            return {"status": "ok", "alerts": [alert_view(alert)], "total": 1}
        words = " ".join(w for w in (args.text, args.ioc) if w)[:200]
        listing = None
        if words:  # the queue's own search: full-text indexes, latest event time first
            listing = await AlertService(ctx.session).list(AlertFilters(q=words), limit=SEARCH_SCAN)
            found = listing.items
        else:
            newest = select(AlertModel).order_by(AlertModel.last_seen_at.desc()).limit(SEARCH_SCAN)
            found = list((await ctx.session.scalars(newest)).all())
        rows = [a for a in found if _matches(a, args.ioc, args.technique)]
        # The listing's total when nothing was filtered after it; otherwise exact among those read.
        total = listing.total if listing and not (args.ioc or args.technique) else len(rows)
        return {"status": "ok", "alerts": [alert_view(a) for a in rows[: args.limit]], "total": total}


def _matches(alert: AlertModel, ioc: str | None, technique: str | None) -> bool:
    if ioc and ioc.lower() not in {v.lower() for v in alert.iocs or []}:
        return False
    return not technique or any(t.upper().startswith(technique.upper()) for t in alert.mitre_techniques or [])


class SearchLogsInput(BaseModel):
    q: str = Field(
        ..., min_length=1, max_length=500, description="SIEM query language, e.g. a word or field:value"
    )
    range: str | None = Field(
        None,
        pattern="^(15m|1h|4h|24h|7d|all)$",
        description="How far back from now; 'all' (the default) for all time",
    )
    start: datetime | None = Field(None, description="Absolute range start on event time (ISO 8601)")
    end: datetime | None = Field(None, description="Absolute range end on event time (ISO 8601)")
    around: datetime | None = Field(None, description="Centre of a ± window_minutes range (event time)")
    window_minutes: int = Field(30, ge=1, le=7 * 24 * 60)
    host: str | None = Field(None, max_length=255)
    limit: int = Field(10, ge=1, le=50)

    @model_validator(mode="after")
    def _one_range(self) -> SearchLogsInput:
        given = [self.range not in (None, "all"), bool(self.start or self.end), self.around is not None]
        if sum(given) > 1:
            raise ValueError("give one of range, start/end or around")
        return self

    def bounds(self) -> tuple[str | None, datetime | None, datetime | None]:
        if self.around is not None:
            delta = timedelta(minutes=self.window_minutes)
            return None, self.around - delta, self.around + delta
        return (None if self.range == "all" else self.range), self.start, self.end


class SearchLogs(AuroraTool):
    """Search stored SIEM events (newest first) with the query language, on event time: all time
    by default, back from now (range), an absolute start/end, or ± window_minutes around a time."""

    name = "search_logs"
    domain = "siem"
    Input = SearchLogsInput
    permission = "siem:read"

    async def execute(self, ctx: ToolContext, args: SearchLogsInput) -> ToolResult:
        rng, since, until = args.bounds()
        filters = LogFilters(
            q=args.q, range=rng, since=since, until=until, hosts=(args.host,) if args.host else ()
        )
        found = await SiemSearchService(ctx.session).search(filters, limit=args.limit)
        return {
            "status": "ok",
            "total": found.total,
            "truncated": found.truncated,
            "total_is_estimate": found.truncated or found.estimated,
            "events": [{**log_view(r), "event_ref": str(r.id)} for r in found.rows],
        }


class CorrelateInput(BaseModel):
    alert_id: uuid.UUID = Field(..., description="The alert to correlate")
    limit: int = Field(10, ge=1, le=50)


class CorrelateEvents(AuroraTool):
    """Alerts sharing a host, user or indicator with this one within the correlation window of
    event time (open or closed), each with what it shares; and similar closed cases."""

    name = "correlate_events"
    domain = "siem"
    Input = CorrelateInput
    permission = "alerts:read"

    async def execute(self, ctx: ToolContext, args: CorrelateInput) -> ToolResult:
        alert = await ctx.session.get(AlertModel, args.alert_id)
        if alert is None:
            raise NotFound(f"alert {args.alert_id} does not exist")
        related = await related_alerts(ctx.session, alert, args.limit)
        keys = keys_of(alert.iocs, alert.mitre_techniques, alert.affected_assets)
        return {
            "status": "ok",
            "related_alerts": [
                {**alert_view(r.alert), "shared": [reason.value for reason in r.reasons]} for r in related
            ],
            "similar_cases": await similar_closed_cases(ctx.session, keys, args.limit, alert.title),
        }


class TechniqueInput(BaseModel):
    technique_id: str = Field(..., pattern=r"^[Tt]\d{4}(\.\d{3})?$", description="e.g. T1059.001")


class MitreMap(AuroraTool):
    """Look up an ATT&CK technique in the local index: name, tactics and reference URL."""

    name = "mitre_map"
    domain = "siem"
    Input = TechniqueInput
    permission = "alerts:read"

    async def execute(self, ctx: ToolContext, args: TechniqueInput) -> ToolResult:
        found = technique_view(args.technique_id)
        if found is None:
            raise NotFound(f"technique {args.technique_id} is not in the ATT&CK index")
        return {"status": "ok", "technique": found}
