"""Alert → case routes under /alerts: promote an alert to a case, link it to one (spec §10).

Both are operator writes marked "pv": ``?preview=true`` validates the same way (404/409) and
describes the effects without persisting anything.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Request, Response, status

from aurorasoc.cases.schemas import CaseLinkBody, CaseLinkOut, CaseOut, PromoteBody
from aurorasoc.cases.workflow import CaseWorkflow
from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.schemas import Preview
from aurorasoc.core.web.deps import DbSession, OperatorOrPreview, client_ip
from aurorasoc.core.web.routing import IndexedRouter

router = IndexedRouter(prefix="/alerts", tags=["alerts", "cases"])

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
    moved = await CaseWorkflow(session).promote_alert(
        alert_id, title=body.title, severity=body.severity, assigned_to=body.assigned_to,
        actor=Actor.of(principal, client_ip(request)), preview=write.preview,
    )  # fmt: skip
    if moved.case is None:
        response.status_code = status.HTTP_200_OK
        return Preview(mode=write.mode, effects=moved.effects)
    return CaseOut.model_validate(moved.case)


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
    moved = await CaseWorkflow(session).link_alert(
        alert_id, body.case_id, actor=Actor.of(principal, client_ip(request)), preview=write.preview
    )
    if moved.case is None:
        return Preview(mode=write.mode, effects=moved.effects)
    return CaseLinkOut(alert_id=alert_id, case_id=moved.case.id)
