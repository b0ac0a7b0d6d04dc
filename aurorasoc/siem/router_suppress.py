"""Suppress similar: a rule exception from an alert (#16 scope 2), beside ``detection.router_exceptions``.

Same prefix and schemas; here because it reads alerts and SIEM events, which sit above detection.
"""

from __future__ import annotations

import uuid

from fastapi import Depends, Request, status

from aurorasoc.core.auth import Principal
from aurorasoc.core.web.deps import DbSession, require_mutations
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.detection.router_exceptions import ExceptionOut, SuppressSimilar, WriteTuning, actor_of
from aurorasoc.siem.suppress import exception_from_alert

router = IndexedRouter(prefix="/detections/exceptions", tags=["detections"])


@router.post(
    "/from-alert/{alert_id}",
    status_code=status.HTTP_201_CREATED,
    response_model=ExceptionOut,
    summary="Suppress similar: an exception from an alert's rule, event values and host. "
    "Permission: detections:write",
    dependencies=[Depends(require_mutations)],
)
async def suppress_similar(
    alert_id: uuid.UUID,
    body: SuppressSimilar,
    request: Request,
    session: DbSession,
    principal: Principal = WriteTuning,
) -> ExceptionOut:
    row = await exception_from_alert(
        session, alert_id, reason=body.reason, expires_at=body.expires_at, actor=actor_of(principal, request)
    )
    return ExceptionOut.model_validate(row)
