"""Case reports (spec §19): snapshot a case (``cases.snapshot``), render Markdown + HTML, store immutably.

Decisions: no LLM narrative exists yet, so every report says ``narrative_source="template"`` and its
summary text is derived from the snapshot by the templates. The snapshot is stored with the report
so a report keeps telling what was known when it was generated, however the case changes later;
PDF is rendered from the stored Markdown at download time (:mod:`aurorasoc.reports.pdf`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, get_args

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.cases.service import CaseService
from aurorasoc.cases.snapshot import build_snapshot, iso
from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import NotFound
from aurorasoc.core.types import utcnow
from aurorasoc.reports.models import ReportModel

ReportType = Literal["technical", "executive", "compliance"]
REPORT_TYPES: tuple[str, ...] = get_args(ReportType)
BUSINESS_RISK = {
    "critical": "severe: needs immediate executive attention",
    "high": "significant: prioritise remediation",
    "medium": "moderate: handle in the normal response cycle",
    "low": "limited",
    "info": "informational only",
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
        {**row._asdict(), "id": str(row.id), "created_at": iso(row.created_at)}
        for row in await session.execute(stmt)
    ]
