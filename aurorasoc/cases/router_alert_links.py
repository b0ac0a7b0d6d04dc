"""Alert → case routes under /alerts: promote an alert to a case, link it to one (spec §10).

Both are operator writes marked "pv": ``?preview=true`` validates the same way (404/409) and
describes the effects without persisting anything.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from aurorasoc.alerts.events import publish_alert_event
from aurorasoc.cases.schemas import CaseLinkBody, CaseLinkOut, CaseOut, PromoteBody
from aurorasoc.cases.service import CaseService
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.schemas import Preview
from aurorasoc.core.vocabulary import AlertStatus, CaseStatus
from aurorasoc.core.web.audit_trail import audit_change
from aurorasoc.core.web.deps import DbSession, OperatorOrPreview

router = APIRouter(prefix="/alerts", tags=["alerts", "cases"])

# Declared before OperatorOrPreview in each signature, so a missing permission wins over the mode.
AlertCaseWriter = Annotated[Principal, Depends(require_permission("alerts:write", "cases:write"))]
AlertId = Annotated[uuid.UUID, Path(description="Alert id")]


@router.post(
    "/{alert_id}/promote",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseOut | Preview,
    summary="Promote an alert to a new in-progress case. Permission: alerts:write + cases:write",
)
async def promote_alert(
    alert_id: AlertId,
    request: Request,
    response: Response,
    session: DbSession,
    principal: AlertCaseWriter,
    write: OperatorOrPreview,
    body: PromoteBody | None = None,
) -> CaseOut | Preview:
    """409 ``alert_in_case`` (with ``case_id``) when the alert already belongs to a case."""
    body = body or PromoteBody()
    service = CaseService(session)
    alert = await service.get_alert(alert_id)
    service.check_promotable(alert)
    if write.preview:
        response.status_code = status.HTTP_200_OK
        effects = [
            {
                "action": "create_case",
                "title": body.title or alert.title,
                "status": CaseStatus.IN_PROGRESS.value,
            },
            {"action": "link_alert", "alert_id": str(alert.id)},
            {"action": "update_alert", "alert_id": str(alert.id), "status": AlertStatus.ESCALATED.value},
        ]
        return Preview(mode=write.mode, effects=effects)
    before = {"status": alert.status, "case_id": None}
    promoted = await service.promote_alert(
        alert, principal.username, title=body.title, severity=body.severity, assigned_to=body.assigned_to
    )
    details = {"before": before, "after": {"status": alert.status, "case_id": str(promoted.id)}}
    await audit_change(session, request, principal, "alert.promote", ("alert", str(alert.id)), details)
    out = CaseOut.model_validate(promoted)
    await session.commit()
    await publish_alert_event(alert, "updated")
    return out


@router.post(
    "/{alert_id}/case-link",
    response_model=CaseLinkOut | Preview,
    summary="Link an alert to an existing (not closed) case. Permission: alerts:write + cases:write",
)
async def link_alert_to_case(
    alert_id: AlertId,
    body: CaseLinkBody,
    request: Request,
    session: DbSession,
    principal: AlertCaseWriter,
    write: OperatorOrPreview,
) -> CaseLinkOut | Preview:
    """409 ``case_closed`` for a closed case; linking to the alert's own case changes nothing."""
    service = CaseService(session)
    alert = await service.get_alert(alert_id)
    target = await service.get(body.case_id)
    service.check_linkable(target)
    if write.preview:
        effects = [{"action": "link_alert", "alert_id": str(alert.id), "case_id": str(target.id)}]
        return Preview(mode=write.mode, effects=effects)
    previous = str(alert.case_id) if alert.case_id else None
    if await service.link_alert(target, alert, principal.username):
        details = {"before": {"case_id": previous}, "after": {"case_id": str(target.id)}}
        await audit_change(session, request, principal, "alert.link", ("alert", str(alert.id)), details)
        await session.commit()
        await publish_alert_event(alert, "updated")
    return CaseLinkOut(alert_id=alert.id, case_id=target.id)
