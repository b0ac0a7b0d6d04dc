"""Evidence tools (spec §27, issue #19): read the events behind an alert on *their* time.

Every tool is anchored on an event time (the alert's own events by default) and entities
(host, user, process), never on "now", so imported evidence is as reachable as live telemetry.
Every event in a result carries ``event_ref`` (its stored id) so conclusions can cite it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from aurorasoc.agents.tools import event_queries as q
from aurorasoc.agents.tools.base import AuroraTool, ToolContext, ToolFailure, ToolResult
from aurorasoc.agents.tools.entities import common_reason, event_view, process_of, search_token
from aurorasoc.agents.tools.process_tree import build_tree
from aurorasoc.agents.tools.views import technique_view
from aurorasoc.alerts.models import AlertModel
from aurorasoc.core.errors import NotFound

MAX_WINDOW_MINUTES = 7 * 24 * 60
MAX_HOST_ALERTS = 50  # other alerts on the host a result lists (earliest first); counted up to 200


async def anchor_events(ctx: ToolContext, alert_id: uuid.UUID) -> tuple[AlertModel, list[q.Event]]:
    """The alert and the stored events it was raised on (``metadata.log_ids``)."""
    alert = await ctx.session.get(AlertModel, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} does not exist")
    ids = [str(i) for i in (alert.metadata_ or {}).get("log_ids", [])][:50]
    return alert, await q.events_by_ids(ctx.session, ids)


def _span(around: datetime, minutes: int) -> tuple[datetime, datetime]:
    delta = timedelta(minutes=minutes)
    return around - delta, around + delta


class AlertEventsInput(BaseModel):
    alert_id: uuid.UUID = Field(..., description="The alert whose own events to read")
    window_minutes: int = Field(10, ge=0, le=MAX_WINDOW_MINUTES, description="± minutes around them")
    limit: int = Field(40, ge=1, le=200)


class AlertEvents(AuroraTool):
    """The events an alert was raised on (host, user, process, parent, command line, integrity)
    and the other events on the same host within ± window_minutes of them, in event-time order."""

    name = "alert_events"
    domain = "siem"
    Input = AlertEventsInput
    permission = "siem:read"

    async def execute(self, ctx: ToolContext, args: AlertEventsInput) -> ToolResult:
        alert, anchors = await anchor_events(ctx, args.alert_id)
        if not anchors:
            return {"status": "ok", "alert_id": str(alert.id), "anchors": [], "around": []}
        first, last = anchors[0].time, anchors[-1].time
        around: list[q.Event] = []
        if host := anchors[0].host:
            start, end = (
                first - timedelta(minutes=args.window_minutes),
                last + timedelta(minutes=args.window_minutes),
            )
            anchor_ids = {e.id for e in anchors}
            around = [
                e
                for e in await q.host_events(ctx.session, host, start, end, limit=args.limit + len(anchors))
                if e.id not in anchor_ids
            ][: args.limit]
        return {
            "status": "ok",
            "alert_id": str(alert.id),
            "first_event_at": first.isoformat(),
            "last_event_at": last.isoformat(),
            "anchors": [event_view(e) for e in anchors],
            "around": [event_view(e) for e in around],
        }


class HostAlertsInput(BaseModel):
    alert_id: uuid.UUID = Field(..., description="The alert whose host to look at")
    window_minutes: int = Field(60, ge=1, le=MAX_WINDOW_MINUTES, description="± minutes of event time")


class HostAlerts(AuroraTool):
    """Other alerts on the same host (for an alert with no host, such as a web attack: from the same
    source address) whose own events lie within ± window_minutes of this alert's
    events (event time, not when they were stored): title, techniques, tactics, event refs; the
    earliest ``MAX_HOST_ALERTS`` are listed and ``total`` counts them all (up to 200)."""

    name = "host_alerts"
    domain = "siem"
    Input = HostAlertsInput
    permission = "alerts:read"

    async def execute(self, ctx: ToolContext, args: HostAlertsInput) -> ToolResult:
        alert, anchors = await anchor_events(ctx, args.alert_id)
        host = anchors[0].host if anchors else None
        address = None if host else alert.src_ip
        if not anchors or not (host or address):
            return {"status": "ok", "alert_id": str(alert.id), "alerts": []}
        start = anchors[0].time - timedelta(minutes=args.window_minutes)
        end = anchors[-1].time + timedelta(minutes=args.window_minutes)
        in_window = await q.alerts_near(ctx.session, start, end, host=host, address=address)
        near = [a for a in in_window if a.id != alert.id]
        others = near[:MAX_HOST_ALERTS]
        ids = {a.id: [str(i) for i in (a.metadata_ or {}).get("log_ids", [])][:5] for a in others}
        stored = {e.id: e for e in await q.events_by_ids(ctx.session, [i for v in ids.values() for i in v])}
        found: list[dict[str, Any]] = []
        for other in others:
            events = [stored[i] for i in ids[other.id] if i in stored and start <= stored[i].time <= end]
            found.append(
                {
                    "id": str(other.id),
                    "title": other.title,
                    "severity": other.severity,
                    "mitre_techniques": list(other.mitre_techniques or []),
                    "tactics": sorted({t for tid in other.mitre_techniques or [] for t in tactics_of(tid)}),
                    "first_event_at": other.first_seen_at.isoformat(),
                    "event_refs": [e.id for e in sorted(events, key=lambda e: e.time)],
                }
            )
        where = f"on {host}" if host else f"from {address}"
        return {
            "status": "ok", "alert_id": str(alert.id), "host": host, "source_address": address,
            "where": where, "total": len(near), "alerts": found,
        }  # fmt: skip


def tactics_of(technique_id: str) -> list[str]:
    view = technique_view(technique_id)
    return list(view["tactics"]) if view else []


class TimelineInput(BaseModel):
    around: datetime = Field(..., description="Event time to centre on (ISO 8601)")
    window_minutes: int = Field(30, ge=0, le=MAX_WINDOW_MINUTES)
    limit: int = Field(50, ge=1, le=200)


class HostTimelineInput(TimelineInput):
    host: str = Field(..., min_length=1, max_length=255)


class HostTimeline(AuroraTool):
    """Everything stored for one host within ± window_minutes of an event time, oldest first."""

    name = "host_timeline"
    domain = "siem"
    Input = HostTimelineInput
    permission = "siem:read"

    async def execute(self, ctx: ToolContext, args: HostTimelineInput) -> ToolResult:
        start, end = _span(args.around, args.window_minutes)
        found = await q.host_events(ctx.session, args.host, start, end, limit=args.limit)
        return {"status": "ok", "host": args.host, "events": [event_view(e) for e in found]}


class UserTimelineInput(TimelineInput):
    user: str = Field(..., min_length=1, max_length=255, description="name or DOMAIN\\name")


class UserTimeline(AuroraTool):
    """Everything one user did (or was the target of) within ± window_minutes, on every host."""

    name = "user_timeline"
    domain = "ueba"
    Input = UserTimelineInput
    permission = "siem:read"

    async def execute(self, ctx: ToolContext, args: UserTimelineInput) -> ToolResult:
        start, end = _span(args.around, args.window_minutes)
        found = await q.user_events(ctx.session, args.user, start, end, limit=args.limit)
        hosts = sorted({e.host for e in found if e.host})
        return {"status": "ok", "user": args.user, "hosts": hosts, "events": [event_view(e) for e in found]}


class LogonSessions(AuroraTool):
    """A user's logons, logoffs and explicit-credential uses (4624/4625/4634/4647/4648/4672)
    within ± window_minutes: logon type, source address, logon id, on every host."""

    name = "logon_sessions"
    domain = "ueba"
    Input = UserTimelineInput
    permission = "siem:read"

    async def execute(self, ctx: ToolContext, args: UserTimelineInput) -> ToolResult:
        start, end = _span(args.around, args.window_minutes)
        found = await q.user_events(
            ctx.session, args.user, start, end, limit=args.limit, event_ids=q.LOGON_IDS
        )
        sessions = [
            {
                "event_ref": e.id,
                "time": e.time.isoformat(),
                "event_id": e.event_id,
                "host": e.host,
                "logon_type": e.get("LogonType"),
                "source_ip": e.get("IpAddress"),
                "workstation": e.get("WorkstationName"),
                "logon_id": e.get("TargetLogonId", "SubjectLogonId"),
            }
            for e in found
        ]
        return {"status": "ok", "user": args.user, "sessions": sessions}


class ProcessTreeInput(BaseModel):
    host: str = Field(..., min_length=1, max_length=255)
    around: datetime = Field(..., description="Event time of the process (ISO 8601)")
    process_guid: str | None = Field(None, max_length=64, description="Sysmon ProcessGuid")
    pid: str | None = Field(None, max_length=32, description="Process id (4688 NewProcessId)")
    window_minutes: int = Field(24 * 60, ge=1, le=MAX_WINDOW_MINUTES)


class ProcessTree(AuroraTool):
    """The process chain of one process (ancestors up to the root seen, then its children) from
    Sysmon EID 1 (ProcessGuid/ParentProcessGuid) and Security 4688 (NewProcessId/ProcessId), with
    command lines, users and integrity levels."""

    name = "process_tree"
    domain = "edr"
    Input = ProcessTreeInput
    permission = "siem:read"

    async def execute(self, ctx: ToolContext, args: ProcessTreeInput) -> ToolResult:
        if not args.process_guid and not args.pid:
            raise ToolFailure("invalid_input", "give process_guid or pid")
        start, end = _span(args.around, args.window_minutes)
        created = await q.host_events(
            ctx.session, args.host, start, end, limit=q.SCAN_LIMIT, event_ids=q.PROCESS_CREATION_IDS
        )
        tree = build_tree(created, args.process_guid, args.pid, args.around)
        return {"status": "ok", "host": args.host, **tree}


class ValueInput(BaseModel):
    value: str = Field(..., min_length=3, max_length=1000, description="Indicator, path or command line")
    exclude_host: str | None = Field(None, max_length=255, description="Leave this host out")


class WhereElse(AuroraTool):
    """Other hosts and users where the same indicator appears (first/last seen, counts). A common
    observable (OS binary, private address, seen on many hosts) is reported as such, not pivoted on."""

    name = "where_else"
    domain = "siem"
    Input = ValueInput
    permission = "siem:read"

    async def execute(self, ctx: ToolContext, args: ValueInput) -> ToolResult:
        seen = await _containing(ctx, args.value)
        reason = common_reason(args.value, seen, await q.known_host_count(ctx.session))
        out = _spread(args.value, seen)
        if reason:
            return {"status": "ok", **out, "common": True, "common_reason": reason, "elsewhere": []}
        skip = (args.exclude_host or "").lower()
        elsewhere = [
            {"host": e.host, "user": e.user, "event_ref": e.id, "time": e.time.isoformat()}
            for e in seen
            if (e.host or "").lower() != skip
        ][:20]
        return {"status": "ok", **out, "common": False, "elsewhere": elsewhere}


class Prevalence(AuroraTool):
    """First seen, last seen, host and user counts of an executable path or command line, and
    whether it is common (spec §27.3)."""

    name = "prevalence"
    domain = "edr"
    Input = ValueInput
    permission = "siem:read"

    async def execute(self, ctx: ToolContext, args: ValueInput) -> ToolResult:
        seen = await _containing(ctx, args.value)
        runs = [e for e in seen if _runs(e, args.value)]
        reason = common_reason(args.value, runs, await q.known_host_count(ctx.session))
        return {"status": "ok", **_spread(args.value, runs), "common": bool(reason), "common_reason": reason}


async def _containing(ctx: ToolContext, value: str) -> list[q.Event]:
    needle = value.lower()
    found = await q.events_mentioning(ctx.session, search_token(value))
    return [
        e
        for e in found
        if needle in " ".join(str(v) for v in e.fields.values()).lower() or needle in e.message.lower()
    ]


def _runs(e: q.Event, value: str) -> bool:
    proc = process_of(e) or {}
    needle = value.lower()
    return needle in (str(proc.get("image", "")).lower(), str(proc.get("command_line", "")).lower())


def _spread(value: str, seen: list[q.Event]) -> dict[str, object]:
    return {
        "value": value,
        "events": len(seen),
        "hosts": sorted({e.host for e in seen if e.host}),
        "users": sorted({e.user for e in seen if e.user}),
        "first_seen": seen[0].time.isoformat() if seen else None,
        "last_seen": seen[-1].time.isoformat() if seen else None,
        "first_event_ref": seen[0].id if seen else None,
    }
