"""A case as plain JSON (spec §19): what a report shows and what episodic memory stores.

Taking the snapshot reads the case, its alerts, timeline, IOCs, evidence and response actions,
so rendering a report or remembering a closed case never touches the database again.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.cases.evidence import case_evidence
from aurorasoc.cases.models import CaseModel
from aurorasoc.cases.service import CaseService
from aurorasoc.intel import attack
from aurorasoc.intel.extraction import classify_ioc
from aurorasoc.intel.models import AlertIOCModel, IOCModel

SNAPSHOT_VERSION = 1
SECTIONS_GROUP = "aurorasoc.case_snapshot"
SnapshotSection = Callable[[AsyncSession, uuid.UUID], Awaitable[dict[str, Any]]]
TUNE_DETECTIONS = "Tune the detections that fired so the next occurrence is caught earlier."
_CASE_FIELDS = (
    "title", "description", "severity", "status", "source", "assigned_to", "created_by",
    "confidence", "cps_involved", "resolution_notes",
)  # fmt: skip


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _case_fields(case: CaseModel) -> dict[str, Any]:
    fields = {name: getattr(case, name) for name in _CASE_FIELDS}
    times = {"created_at": case.created_at, "updated_at": case.updated_at, "closed_at": case.closed_at}
    return {"id": str(case.id), **fields, **{k: iso(v) for k, v in times.items()}}


def _techniques(ids: list[str]) -> list[dict[str, Any]]:
    """Names and tactics from the bundled ATT&CK index; unknown ids keep the id alone."""
    rows = []
    for tid in dict.fromkeys(ids):
        found = attack.lookup(tid)
        name = found.name if found else None
        rows.append({"id": tid, "name": name, "tactics": attack.tactics_for(tid)})
    return rows


def recommendations(
    iocs: list[dict[str, Any]], assets: list[dict[str, str]], alerts: list[dict[str, Any]]
) -> list[str]:
    """What a case without an analyst's recommendations is advised, from what it holds (pure).

    A fixed list told a web case with no indicator and no asset to "block the listed indicators"
    and "review the affected assets"."""
    out = []
    if iocs:
        out.append("Block the listed indicators at the perimeter and on endpoints.")
    hosts = sorted(
        {str(a["host"]) for a in alerts if a.get("host")} | {x["name"] for x in assets if x["kind"] == "host"}
    )
    if hosts:
        out.append(f"Review {', '.join(hosts[:5])} for persistence and credential exposure.")
    clients = sorted({str(a["src_ip"]) for a in alerts if not a.get("host") and a.get("src_ip")})
    if clients:
        out.append(
            f"Search what else {', '.join(clients[:5])} sent (SIEM: src_ip) and what the server answered; "
            "block the address if it is not a trusted scanner."
        )
    return [*out, TUNE_DETECTIONS]


def _assets(values: list[str]) -> list[dict[str, str]]:
    """``host:web-01`` → kind ``host``, name ``web-01``; de-duplicated case-insensitively."""
    seen: dict[str, dict[str, str]] = {}
    for raw in values:
        kind, sep, name = raw.strip().partition(":")
        entry = {"kind": kind, "name": name} if sep and name else {"kind": "asset", "name": raw.strip()}
        seen.setdefault(f"{entry['kind']}:{entry['name']}".casefold(), entry)
    return list(seen.values())


async def _iocs(session: AsyncSession, case: CaseModel, alert_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """Typed IOCs: the case's and its alerts' values, enriched from the ``iocs`` table when indexed."""
    stmt = select(IOCModel).join(AlertIOCModel, AlertIOCModel.ioc_id == IOCModel.id)
    known = {
        (row.type, row.value): row
        for row in (await session.scalars(stmt.where(AlertIOCModel.alert_id.in_(alert_ids)))).unique()
    }
    wanted: dict[tuple[str, str], None] = {key: None for key in known}
    for raw in case.iocs or []:
        typed = classify_ioc(raw)
        wanted.setdefault((typed[0].value, typed[1]) if typed else ("unknown", raw.strip()), None)
    rows = []
    for kind, value in sorted(wanted):
        row = known.get((kind, value))
        extra = {"confidence": row.confidence, "tlp": row.tlp, "status": row.status} if row else {}
        empty = {"confidence": None, "tlp": None, "status": None}
        rows.append({"type": kind, "value": value, **empty, **extra})
    return rows


@cache
def snapshot_sections() -> tuple[SnapshotSection, ...]:
    """Sections capabilities above cases add through ``aurorasoc.case_snapshot`` entry points (in
    name order): SOAR's approvals, playbook runs and connector calls (``soar.case_responses``)."""
    return tuple(ep.load() for ep in sorted(entry_points(group=SECTIONS_GROUP), key=lambda ep: ep.name))


async def _sections(session: AsyncSession, case_id: uuid.UUID) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for section in snapshot_sections():
        found |= await section(session, case_id)
    return found


async def _evidence(session: AsyncSession, case: CaseModel) -> dict[str, Any]:
    """Event-time span, tactic chain, entities and the generated summary (spec §27.4)."""
    found = await case_evidence(session, case.id)
    return {
        "summary": found["summary"],
        "event_time_start": iso(found["event_time_start"]),
        "event_time_end": iso(found["event_time_end"]),
        "tactic_chain": found["tactic_chain"],
        "entities": found["entities"],
    }


async def build_snapshot(session: AsyncSession, case: CaseModel) -> dict[str, Any]:
    """Everything a report shows, as plain JSON, so rendering never touches the database."""
    cases = CaseService(session)
    alerts = await cases.alerts(case.id)
    timeline = await cases.timeline(case.id)
    technique_ids = [*(case.mitre_techniques or []), *(t for a in alerts for t in a.mitre_techniques or [])]
    asset_values = [*(case.affected_assets or []), *(v for a in alerts for v in a.affected_assets or [])]
    alert_rows = [_alert_row(a) for a in alerts]
    iocs = await _iocs(session, case, [a.id for a in alerts])
    assets = _assets(asset_values)
    return {
        "version": SNAPSHOT_VERSION,
        "case": _case_fields(case),
        "timeline": [
            {
                "timestamp": iso(e.timestamp),
                "event_time": (e.data or {}).get("first_seen_at"),  # a linked alert's first event (§27.1)
                "actor": e.actor,
                "action": e.action,
                "details": e.details,
            }
            for e in timeline
        ],
        "alerts": alert_rows,
        "evidence": await _evidence(session, case),
        "iocs": iocs,
        "techniques": _techniques(technique_ids),
        "assets": assets,
        **await _sections(session, case.id),
        "recommendations": [str(r) for r in case.recommendations or []]
        or recommendations(iocs, assets, alert_rows),
    }


def _alert_row(a: AlertModel) -> dict[str, Any]:
    return {
        "id": str(a.id),
        "title": a.title,
        "severity": a.severity,
        "status": a.status,
        "source": a.source,
        "created_at": iso(a.created_at),
        "first_seen_at": iso(a.first_seen_at),
        "last_seen_at": iso(a.last_seen_at),
        "host": a.host,
        "user_name": a.user_name,
        "src_ip": a.src_ip,
    }
