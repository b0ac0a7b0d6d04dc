"""GET /cases/{id}/summary: the case summary, recomputed when its alerts changed (issue #19 §7)."""

from __future__ import annotations

import uuid

from fastapi import Depends

from aurorasoc.cases.schemas import CaseSummaryOut
from aurorasoc.cases.summary import CaseSummaryService
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.web.deps import DbSession
from aurorasoc.core.web.routing import IndexedRouter

router = IndexedRouter(tags=["cases"])


@router.get(
    "/cases/{case_id}/summary",
    response_model=CaseSummaryOut,
    summary="The case summary (hosts, users, techniques, event-time span, processes, indicators), "
    "current with the case's alerts. Permission: cases:read",
)
async def get_case_summary(
    case_id: uuid.UUID,
    session: DbSession,
    _: Principal = Depends(require_permission("cases:read")),
) -> CaseSummaryOut:
    return CaseSummaryOut.model_validate(await CaseSummaryService(session).current(case_id))
