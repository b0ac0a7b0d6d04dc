"""Case → alert routes under /cases: take an alert back out of a case (spec §10, issue 4)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from aurorasoc.alerts.events import publish_alert_event
from aurorasoc.cases.router import CaseId, WriteCases
from aurorasoc.cases.schemas import CaseOut
from aurorasoc.cases.service import CaseService
from aurorasoc.core.auth import Principal
from aurorasoc.core.web.audit_trail import audit_change
from aurorasoc.core.web.deps import DbSession, require_mutations

router = APIRouter(prefix="/cases", tags=["cases"])

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
    service = CaseService(session)
    found = await service.get(case_id)
    alert = await service.get_alert(alert_id)
    await service.detach_alert(found, alert, principal.username)
    details = {
        "detached_from": str(found.id),
        "before": {"case_id": str(found.id)},
        "after": {"case_id": None},
    }
    await audit_change(session, request, principal, "alert.link", ("alert", str(alert.id)), details)
    out = CaseOut.model_validate(found)
    await session.commit()
    await publish_alert_event(alert, "updated")
    return out
