"""Case → alert routes under /cases: take an alert back out of a case (spec §10, issue 4)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Request

from aurorasoc.cases.router import CaseId, WriteCases
from aurorasoc.cases.schemas import CaseOut
from aurorasoc.cases.workflow import CaseWorkflow
from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal
from aurorasoc.core.web.deps import DbSession, client_ip, require_mutations
from aurorasoc.core.web.routing import IndexedRouter

router = IndexedRouter(prefix="/cases", tags=["cases"])

AlertId = Annotated[uuid.UUID, Path(description="Alert id")]


@router.post(
    "/{case_id}/alerts/{alert_id}/detach",
    response_model=CaseOut,
    summary="Detach an alert from a case (the alert keeps its status). Permission: cases:write",
    dependencies=[Depends(WriteCases), Depends(require_mutations)],
)
async def detach_alert(
    case_id: CaseId,
    alert_id: AlertId,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(WriteCases),
) -> CaseOut:
    """404 for an unknown case or alert; 409 ``alert_not_in_case`` / ``case_closed``."""
    actor = Actor.of(principal, client_ip(request))
    return CaseOut.model_validate(await CaseWorkflow(session).detach_alert(case_id, alert_id, actor=actor))
