"""Case reports (spec §19): snapshot a case, render Markdown + HTML from Jinja2 templates, store immutably.

Decisions: no LLM narrative exists yet, so every report says ``narrative_source="template"`` and its
summary text is derived from the snapshot by the templates. The snapshot is stored with the report
so a report keeps telling what was known when it was generated, however the case changes later;
PDF is rendered from the stored Markdown at download time (:mod:`aurorasoc.reports.pdf`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal, get_args

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.cases.evidence import case_evidence
from aurorasoc.cases.models import CaseModel
from aurorasoc.cases.service import CaseService
from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import NotFound
from aurorasoc.core.types import utcnow
from aurorasoc.intel import attack
from aurorasoc.intel.extraction import classify_ioc
from aurorasoc.intel.models import AlertIOCModel, IOCModel
from aurorasoc.reports.models import ReportModel
from aurorasoc.soar.models import ConnectorActionModel, HumanApprovalModel, PlaybookExecutionModel

ReportType = Literal["technical", "executive", "compliance"]
REPORT_TYPES: tuple[str, ...] = get_args(ReportType)
SNAPSHOT_VERSION = 1
DEFAULT_RECOMMENDATIONS = (
    "Block the listed indicators at the perimeter and on endpoints.",
    "Review the affected assets for persistence and credential exposure.",
    "Tune the detections that fired so the next occurrence is caught earlier.",
)
BUSINESS_RISK = {
    "critical": "severe: needs immediate executive attention",
    "high": "significant: prioritise remediation",
    "medium": "moderate: handle in the normal response cycle",
    "low": "limited",
    "info": "informational only",
}
_CASE_FIELDS = (
    "title", "description", "severity", "status", "source", "assigned_to", "created_by",
    "confidence", "cps_involved", "resolution_notes",
)  # fmt: skip


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _case_fields(case: CaseModel) -> dict[str, Any]:
    fields = {name: getattr(case, name) for name in _CASE_FIELDS}
    times = {"created_at": case.created_at, "updated_at": case.updated_at, "closed_at": case.closed_at}
    return {"id": str(case.id), **fields, **{k: _iso(v) for k, v in times.items()}}


def _techniques(ids: list[str]) -> list[dict[str, Any]]:
    """Names and tactics from the bundled ATT&CK index; unknown ids keep the id alone."""
    rows = []
    for tid in dict.fromkeys(ids):
        found = attack.lookup(tid)
        name = found.name if found else None
        rows.append({"id": tid, "name": name, "tactics": attack.tactics_for(tid)})
    return rows


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


async def _actions(session: AsyncSession, case_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    """Approvals, playbook executions and the connector calls made under them."""
    approvals = (
        await session.scalars(
            select(HumanApprovalModel)
            .where(HumanApprovalModel.case_id == case_id)
            .order_by(HumanApprovalModel.created_at)
        )
    ).all()
    executions = (
        await session.scalars(
            select(PlaybookExecutionModel)
            .where(PlaybookExecutionModel.case_id == case_id, PlaybookExecutionModel.preview.is_(False))
            .order_by(PlaybookExecutionModel.created_at)
        )
    ).all()
    linked = [ConnectorActionModel.execution_id.in_([e.id for e in executions])]
    linked.append(ConnectorActionModel.approval_id.in_([a.id for a in approvals]))
    calls = (
        await session.scalars(select(ConnectorActionModel).where(or_(*linked)).order_by("created_at"))
    ).all()
    return {
        "approvals": [
            {"action_type": a.action_type, "target": a.target, "status": a.status,
             "requested_by": a.requested_by, "requested_at": _iso(a.created_at),
             "decided_by": a.decided_by, "decided_at": _iso(a.decided_at),
             "comment": a.decision_comment, "risk_level": a.risk_level}
            for a in approvals
        ],
        "executions": [
            {"playbook": e.playbook_name, "version": e.playbook_version, "status": e.status,
             "triggered_by": e.triggered_by, "started_at": _iso(e.started_at),
             "finished_at": _iso(e.finished_at)}
            for e in executions
        ],
        "connector_actions": [
            {"connector": c.connector, "action": c.action, "target": c.target, "status": c.status,
             "simulated": c.simulated, "actor": c.actor, "at": _iso(c.created_at)}
            for c in calls
        ],
    }  # fmt: skip


async def _evidence(session: AsyncSession, case: CaseModel) -> dict[str, Any]:
    """Event-time span, tactic chain, entities and the generated summary (spec §27.4)."""
    found = await case_evidence(session, case.id)
    return {
        "summary": found["summary"],
        "event_time_start": _iso(found["event_time_start"]),
        "event_time_end": _iso(found["event_time_end"]),
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
    return {
        "version": SNAPSHOT_VERSION,
        "case": _case_fields(case),
        "timeline": [
            {"timestamp": _iso(e.timestamp), "actor": e.actor, "action": e.action, "details": e.details}
            for e in timeline
        ],
        "alerts": [
            {
                "id": str(a.id),
                "title": a.title,
                "severity": a.severity,
                "status": a.status,
                "source": a.source,
                "created_at": _iso(a.created_at),
                "first_seen_at": _iso(a.first_seen_at),
                "last_seen_at": _iso(a.last_seen_at),
                "host": a.host,
                "user_name": a.user_name,
            }
            for a in alerts
        ],
        "evidence": await _evidence(session, case),
        "iocs": await _iocs(session, case, [a.id for a in alerts]),
        "techniques": _techniques(technique_ids),
        "assets": _assets(asset_values),
        **await _actions(session, case.id),
        "recommendations": [str(r) for r in case.recommendations or []] or list(DEFAULT_RECOMMENDATIONS),
    }


@cache
def _environment() -> Environment:
    """``*.html.j2`` autoescape everything; ``*.md.j2`` escape through the ``md`` filters instead."""
    env = Environment(
        loader=PackageLoader("aurorasoc", "data/report_templates"),
        autoescape=select_autoescape(["html.j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_text
    env.filters["md_code"] = md_code
    return env


def md_text(value: object) -> str:
    """Plain text safe inside Markdown (and its tables): markup characters are backslash-escaped."""
    text = " ".join(str("" if value is None else value).split())
    return "".join(f"\\{ch}" if ch in "\\`*_[]<>|#!~&" else ch for ch in text) or "—"


def md_code(value: object) -> str:
    """An inline code span that holds ``value`` verbatim (IOCs), also inside a table cell."""
    text = str(value).replace("|", "\\|")
    fence = "`" * (1 + max((len(run) for run in re.findall("`+", text)), default=0))
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


@dataclass(frozen=True)
class Rendered:
    markdown: str
    html: str


def render(snapshot: dict[str, Any], report_type: str, meta: dict[str, Any]) -> Rendered:
    """Both stored formats of one report from its snapshot and its document-control metadata."""
    risk = BUSINESS_RISK.get(snapshot["case"]["severity"], "not assessed")
    context = {"s": snapshot, "meta": meta, "business_risk": risk}
    markdown = _environment().get_template(f"{report_type}.md.j2").render(context)
    html = _environment().get_template(f"{report_type}.html.j2").render(context)
    return Rendered(markdown=markdown, html=html)


class ReportService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def draft(self, case_id: uuid.UUID, report_type: ReportType, actor: str) -> ReportModel:
        """A rendered, unsaved report (what ``?preview=true`` returns)."""
        case = await CaseService(self.session).get(case_id)
        snapshot = await build_snapshot(self.session, case)
        report_id, now = uuid.uuid4(), utcnow()
        title = f"{report_type.capitalize()} report: {case.title}"[:500]
        meta = {
            "report_id": str(report_id), "report_type": report_type, "title": title,
            "generated_at": now.isoformat(), "generated_by": actor, "narrative_source": "template",
        }  # fmt: skip
        rendered = render(snapshot, report_type, meta)
        return ReportModel(
            id=report_id,
            created_at=now,
            case_id=case.id,
            report_type=report_type,
            title=title,
            content_md=rendered.markdown,
            content_html=rendered.html,
            snapshot={**snapshot, "meta": meta},
            generated_by=actor,
            narrative_source="template",
        )

    async def generate(self, case_id: uuid.UUID, report_type: ReportType, actor: str) -> ReportModel:
        """Snapshot, render and store a new immutable report (regenerating adds another row)."""
        report = await self.draft(case_id, report_type, actor)
        self.session.add(report)
        await self.session.flush()
        return report

    async def create_report(
        self, case_id: uuid.UUID, report_type: ReportType, *, actor: Actor, preview: bool = False
    ) -> ReportModel:
        """A new report audited (``report.generate``) and committed; ``preview`` renders the same
        draft and stores nothing."""
        if preview:
            return await self.draft(case_id, report_type, actor.username)
        report = await self.generate(case_id, report_type, actor.username)
        details = {"case_id": str(report.case_id), "report_type": report.report_type}
        await actor.audit(self.session, "report.generate", ("report", str(report.id)), details)
        await self.session.commit()
        return report

    async def get(self, report_id: uuid.UUID) -> ReportModel:
        found = await self.session.get(ReportModel, report_id)
        if found is None:
            raise NotFound(f"report {report_id} does not exist", report_id=str(report_id))
        return found

    async def list(
        self, *, case_id: uuid.UUID | None, report_type: str | None, skip: int, limit: int
    ) -> tuple[list[ReportModel], int]:
        clauses = []
        if case_id is not None:
            clauses.append(ReportModel.case_id == case_id)
        if report_type is not None:
            clauses.append(ReportModel.report_type == report_type)
        total = await self.session.scalar(select(func.count()).select_from(ReportModel).where(*clauses))
        stmt = (
            select(ReportModel)
            .where(*clauses)
            .order_by(ReportModel.created_at.desc(), ReportModel.id)
            .offset(skip)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all()), int(total or 0)


async def case_reports(session: AsyncSession, case_id: uuid.UUID) -> list[dict[str, Any]]:
    """The case page's list of its reports, newest first, without their content."""
    stmt = (
        select(ReportModel.id, ReportModel.report_type, ReportModel.title, ReportModel.generated_by,
               ReportModel.narrative_source, ReportModel.created_at)
        .where(ReportModel.case_id == case_id)
        .order_by(ReportModel.created_at.desc())
    )  # fmt: skip
    return [
        {**row._asdict(), "id": str(row.id), "created_at": _iso(row.created_at)}
        for row in await session.execute(stmt)
    ]
