"""Evidence (spec §27): alert and case evidence, observables' prevalence, promotion, allow-list.

Promotion and allow-list entries change what counts as an indicator, so they need ``iocs:write`` and
are audited; reading evidence needs the read permission of the alert, case or IOC store.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import Depends, Query, Request, status
from pydantic import BaseModel, Field

from aurorasoc.cases.evidence import alert_evidence, case_evidence
from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.web.deps import DbSession, client_ip, require_database, require_mutations
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.intel.observables import ObservableService
from aurorasoc.intel.schemas import AllowOut, IOCOut

router = IndexedRouter(tags=["evidence"], dependencies=[Depends(require_database)])


class PromoteBody(BaseModel):
    value: str = Field(min_length=1, max_length=2048)
    description: str | None = Field(None, max_length=2000)


class AllowBody(BaseModel):
    kind: Literal["value", "process_path", "host"]
    value: str = Field(min_length=1, max_length=2048)
    host_scope: str = Field("", max_length=255, description="Only on this host; empty = everywhere")
    reason: str | None = Field(None, max_length=2000)


@router.get(
    "/alerts/{alert_id}/evidence",
    summary="Events, process tree, entities. Permission: alerts:read + siem:read",
)
async def get_alert_evidence(
    alert_id: uuid.UUID,
    session: DbSession,
    _: Principal = Depends(require_permission("alerts:read", "siem:read")),
) -> dict[str, Any]:
    return await alert_evidence(session, alert_id)


@router.get(
    "/cases/{case_id}/evidence-summary",
    summary="Entities, span, tactic chain, summary. Permission: cases:read",
)
async def get_case_evidence(
    case_id: uuid.UUID,
    session: DbSession,
    _: Principal = Depends(require_permission("cases:read")),
) -> dict[str, Any]:
    return await case_evidence(session, case_id)


@router.get(
    "/observables", summary="Observables with prevalence, most widespread first. Permission: iocs:read"
)
async def list_observables(
    session: DbSession,
    value: str | None = Query(None, max_length=2048, description="Only this value"),
    limit: int = Query(50, ge=1, le=500),
    _: Principal = Depends(require_permission("iocs:read")),
) -> list[dict[str, Any]]:
    return await ObservableService(session).prevalence(value=value, limit=limit)


@router.post(
    "/observables/promote",
    response_model=IOCOut,
    status_code=status.HTTP_201_CREATED,
    summary="Make an observable an indicator. Permission: iocs:write",
    dependencies=[Depends(require_mutations)],
)
async def promote(
    body: PromoteBody,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("iocs:write")),
) -> IOCOut:
    actor = Actor.of(principal, client_ip(request))
    ioc = await ObservableService(session).make_indicator(
        body.value, description=body.description, actor=actor
    )
    return IOCOut.of(ioc)


@router.get("/observables/allowlist", response_model=list[AllowOut], summary="Permission: iocs:read")
async def list_allowlist(
    session: DbSession, _: Principal = Depends(require_permission("iocs:read"))
) -> list[AllowOut]:
    return [AllowOut.model_validate(e) for e in await ObservableService(session).list_allowlist()]


@router.post(
    "/observables/allowlist",
    response_model=AllowOut,
    status_code=status.HTTP_201_CREATED,
    summary="Never treat a value / executable path / host as an indicator. Permission: iocs:write",
    dependencies=[Depends(require_mutations)],
)
async def add_allow(
    body: AllowBody,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("iocs:write")),
) -> AllowOut:
    entry = await ObservableService(session).add_allow(
        body.kind, body.value, host_scope=body.host_scope, reason=body.reason,
        actor=Actor.of(principal, client_ip(request)),
    )  # fmt: skip
    return AllowOut.model_validate(entry)
