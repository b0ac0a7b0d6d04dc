"""Routes under /reports: generate (operator write, "pv"), list, read, download (spec §10, §19).

Reports are immutable: there is no update or delete route; generating again adds a new report.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.schemas import Page
from aurorasoc.core.web.deps import (
    DataSourceDep,
    DbSession,
    OperatorOrPreview,
    Paging,
    client_ip,
    require_database,
)
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import stamp_source
from aurorasoc.reports.pdf import render_pdf
from aurorasoc.reports.schemas import ReportDetail, ReportGenerate, ReportOut, ReportPreview
from aurorasoc.reports.service import ReportService, ReportType

router = IndexedRouter(prefix="/reports", tags=["reports"])

ReadReports = require_permission("reports:read")
# Declared before OperatorOrPreview in the signature, so a missing permission wins over the mode.
Generator = Annotated[Principal, Depends(require_permission("reports:generate"))]
ReportId = Annotated[uuid.UUID, Path(description="Report id")]
Format = Literal["md", "html", "pdf"]
MEDIA_TYPES: dict[str, str] = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


def download_name(title: str, report_id: uuid.UUID, fmt: str) -> str:
    """ASCII-only, header-safe file name: ``<slug>-<id8>.<ext>``."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()[:60] or "report"
    return f"{slug}-{str(report_id)[:8]}.{fmt}"


@router.post(
    "/generate",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportDetail | ReportPreview,
    summary="Generate an immutable case report; ?preview=true renders without storing. "
    "Permission: reports:generate",
)
async def generate_report(
    body: ReportGenerate,
    request: Request,
    response: Response,
    session: DbSession,
    principal: Generator,
    write: OperatorOrPreview,
) -> ReportDetail | ReportPreview:
    """Unknown case → 404; ``report_type`` outside technical/executive/compliance → 422."""
    report = await ReportService(session).create_report(
        body.case_id, body.report_type, actor=Actor.of(principal, client_ip(request)), preview=write.preview
    )
    if write.preview:
        response.status_code = status.HTTP_200_OK
        effect = {"action": "store_report", "case_id": str(body.case_id), "report_type": body.report_type}
        return ReportPreview(mode=write.mode, effects=[effect], report=ReportDetail.model_validate(report))
    return ReportDetail.model_validate(report)


@router.get(
    "",
    response_model=Page[ReportOut],
    summary="List reports, newest first. Permission: reports:read",
    dependencies=[Depends(ReadReports)],
)
async def list_reports(
    session: DbSession,
    paging: Paging,
    source: DataSourceDep,
    response: Response,
    case_id: uuid.UUID | None = Query(None),
    report_type: ReportType | None = Query(None),
) -> Page[ReportOut]:
    """No showcase reports exist, so dummy mode without a database lists none."""
    stamp_source(response, source)
    if source == "showcase":
        return Page[ReportOut](items=[], total=0, skip=paging.skip, limit=paging.limit, data_source=source)
    rows, total = await ReportService(session).list(
        case_id=case_id, report_type=report_type, skip=paging.skip, limit=paging.limit
    )
    items = [ReportOut.model_validate(r) for r in rows]
    return Page[ReportOut](items=items, total=total, skip=paging.skip, limit=paging.limit, data_source=source)


@router.get(
    "/{report_id}",
    response_model=ReportDetail,
    summary="A report with its Markdown, HTML and snapshot. Permission: reports:read",
    dependencies=[Depends(ReadReports), Depends(require_database)],
)
async def get_report(report_id: ReportId, session: DbSession) -> ReportDetail:
    return ReportDetail.model_validate(await ReportService(session).get(report_id))


@router.get(
    "/{report_id}/download",
    response_class=Response,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}},
    summary="Download a report as Markdown, HTML or PDF (rendered now). Permission: reports:read",
    dependencies=[Depends(ReadReports), Depends(require_database)],
)
async def download_report(
    report_id: ReportId, session: DbSession, fmt: Format = Query("pdf", alias="format")
) -> Response:
    report = await ReportService(session).get(report_id)
    if fmt == "pdf":
        # CPU-bound (~0.1 s): off the event loop.
        content: bytes | str = await run_in_threadpool(render_pdf, report.content_md, title=report.title)
    else:
        content = report.content_md if fmt == "md" else report.content_html
    filename = download_name(report.title, report.id, fmt)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(content=content, media_type=MEDIA_TYPES[fmt], headers=headers)
