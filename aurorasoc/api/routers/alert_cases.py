"""Alert → case actions: promote an alert to a new case, link it to an existing one (spec §10)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response, status

from aurorasoc.api.deps import DbSession, OperatorOrPreview, client_ip
from aurorasoc.api.schemas.cases import CaseLinkBody, CaseLinkOut, CaseOut, PromoteBody
from aurorasoc.api.schemas.common import Preview
from aurorasoc.core.audit import AuditService
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.services.alert_events import publish_alert_event
from aurorasoc.services.alerts import AlertService
from aurorasoc.services.cases import CaseService

router = APIRouter(prefix="/alerts", tags=["alerts"])
_BOTH = require_permission("alerts:write", "cases:write")


@router.post(
    "/{alert_id}/promote",
    response_model=CaseOut | Preview,
    status_code=status.HTTP_201_CREATED,
    summary="Promote an alert to a new case; ?preview=true. Permission: alerts:write, cases:write",
)
async def promote_alert(
    alert_id: uuid.UUID,
    body: PromoteBody,
    write: OperatorOrPreview,
    request: Request,
    response: Response,
    session: DbSession,
    principal: Principal = Depends(_BOTH),
) -> CaseOut | Preview:
    alert = await AlertService(session).get(alert_id)
    CaseService.check_promotable(alert)
    if write.preview:
        response.status_code = status.HTTP_200_OK
        effect = {
            "create_case": {"title": body.title or alert.title, "status": "in_progress"},
            "alert_status": "escalated",
        }
        return Preview(mode=write.mode, effects=[effect])
    case = await CaseService(session).promote_alert(
        alert, principal.username, title=body.title, severity=body.severity, assigned_to=body.assigned_to
    )
    details = {"case_id": str(case.id)}
    await AuditService(session).record(
        principal.username,
        principal.actor_type,
        "alert.promote",
        "alert",
        str(alert.id),
        details,
        ip=client_ip(request),
    )
    await session.commit()
    await publish_alert_event(alert, "updated")
    return CaseOut.model_validate(case)


@router.post(
    "/{alert_id}/case-link",
    response_model=CaseLinkOut | Preview,
    summary="Link an alert to an existing case; ?preview=true. Permission: alerts:write, cases:write",
)
async def link_alert(
    alert_id: uuid.UUID,
    body: CaseLinkBody,
    write: OperatorOrPreview,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(_BOTH),
) -> CaseLinkOut | Preview:
    alert = await AlertService(session).get(alert_id)
    service = CaseService(session)
    case = await service.get(body.case_id)
    service.check_linkable(case)
    if write.preview:
        return Preview(
            mode=write.mode, effects=[{"link": {"alert_id": str(alert.id), "case_id": str(case.id)}}]
        )
    previous = alert.case_id
    await service.link_alert(case, alert, principal.username)
    details = {"case_id": str(case.id), "previous_case_id": str(previous) if previous else None}
    await AuditService(session).record(
        principal.username,
        principal.actor_type,
        "alert.link",
        "alert",
        str(alert.id),
        details,
        ip=client_ip(request),
    )
    await session.commit()
    await publish_alert_event(alert, "updated")
    return CaseLinkOut(alert_id=alert.id, case_id=case.id)
