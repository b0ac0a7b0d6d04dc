"""``POST /siem/logs/{log_id}/promote``: open a case from a SIEM event.

It lives in ``cases`` (above ``siem``): it creates a case; the SIEM router keeps the searches.
"""

from __future__ import annotations

from fastapi import Depends, Request, status

from aurorasoc.cases.schemas import CaseOut
from aurorasoc.cases.siem_promotion import promote_log
from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.web.deps import DbSession, client_ip, require_mutations
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.siem.router import LogId
from aurorasoc.siem.schemas import LogPromoteBody
from aurorasoc.siem.search import SiemSearchService

router = IndexedRouter(prefix="/siem", tags=["siem"])


@router.post(
    "/logs/{log_id}/promote",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseOut,
    summary="Open a siem_promotion case with this event as evidence. Permission: siem:read + cases:write",
    dependencies=[Depends(require_mutations)],
)
async def promote(
    log_id: LogId,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("siem:read", "cases:write")),
    body: LogPromoteBody | None = None,
) -> CaseOut:
    body = body or LogPromoteBody()
    log = await SiemSearchService(session).get(log_id)
    severity = body.severity.value if body.severity else None
    created = await promote_log(
        session,
        log,
        Actor.of(principal, client_ip(request)),
        rule_id=body.rule_id,
        title=body.title,
        severity=severity,
    )
    out = CaseOut.model_validate(created)
    return out
