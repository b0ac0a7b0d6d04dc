"""``POST /alerts/bulk``: resolve, escalate or open one case for a selection of alerts.

It lives in ``cases`` (above ``alerts``) because one of its actions creates a case.
"""

from __future__ import annotations

from fastapi import Depends, Request

from aurorasoc.alerts.commands import Actor, AlertCommands
from aurorasoc.alerts.schemas import BulkAction, BulkResult
from aurorasoc.cases.from_alerts import open_case_for_alerts
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.errors import PermissionDenied
from aurorasoc.core.vocabulary import AlertStatus
from aurorasoc.core.web.deps import DbSession, require_mutations
from aurorasoc.core.web.routing import IndexedRouter

router = IndexedRouter(prefix="/alerts", tags=["alerts"])


@router.post(
    "/bulk",
    response_model=BulkResult,
    summary="Bulk resolve / escalate / create case. Permission: alerts:write (+cases:write for create_case)",
    dependencies=[Depends(require_mutations)],
)
async def bulk_action(
    body: BulkAction,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("alerts:write")),
) -> BulkResult:
    actor = Actor(request, principal)
    if body.action == "create_case":
        # The extra permission depends on the body's action, so it is checked here, not in the route.
        if not principal.can("cases:write"):
            raise PermissionDenied("Missing permission: cases:write")
        case, alerts = await open_case_for_alerts(session, body.alert_ids, body.title, body.severity, actor)
        return BulkResult(action="create_case", case_id=case.id, linked=len(alerts))
    target = AlertStatus.RESOLVED if body.action == "resolve" else AlertStatus.ESCALATED
    updated, missing = await AlertCommands(session).set_status(body.alert_ids, target, actor)
    return BulkResult(action=body.action, updated=len(updated), missing=missing)
