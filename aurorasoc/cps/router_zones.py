"""CPS zones, conduits (with isolation) and the badge allow-list (spec §10, §18).

Conduit isolation is a high-impact action (§15.4): the service files an ``isolate_conduit`` approval
(real mode only, 409 otherwise) and the approved action calls the ``firewall`` connector and marks
the conduit ``isolated``.
"""

from __future__ import annotations

import uuid

from fastapi import Depends, Request, status

from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.schemas import Page
from aurorasoc.core.web.deps import DbSession, Paging, client_ip, require_mutations
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.cps.models import AccessBadgeModel, CPSConduitModel, CPSZoneModel
from aurorasoc.cps.schemas import (
    BadgeCreate,
    BadgeOut,
    BadgePatch,
    ConduitCreate,
    ConduitOut,
    IsolateRequest,
    ZoneCreate,
    ZoneOut,
)
from aurorasoc.cps.zones import ZoneService
from aurorasoc.soar.schemas import ApprovalOut

router = IndexedRouter(prefix="/cps", tags=["cps"])
Writer = Depends(require_permission("cps:write"))
Reader = Depends(require_permission("cps:read"))
MUTATES = [Depends(require_mutations)]


@router.get("/zones", response_model=Page[ZoneOut], summary="List zones. Permission: cps:read")
async def list_zones(session: DbSession, paging: Paging, _: Principal = Reader) -> Page[ZoneOut]:
    rows, total = await ZoneService(session).page(CPSZoneModel, skip=paging.skip, limit=paging.limit)
    return Page(
        items=[ZoneOut.model_validate(r) for r in rows], total=total, skip=paging.skip, limit=paging.limit
    )


@router.post(
    "/zones", response_model=ZoneOut, status_code=status.HTTP_201_CREATED,
    summary="Create a zone (SL0-SL4, fail mode). Permission: cps:write", dependencies=MUTATES,
)  # fmt: skip
async def create_zone(body: ZoneCreate, session: DbSession, _: Principal = Writer) -> ZoneOut:
    zone = await ZoneService(session).create_zone(body.model_dump())
    return ZoneOut.model_validate(zone)


@router.get("/conduits", response_model=Page[ConduitOut], summary="List conduits. Permission: cps:read")
async def list_conduits(session: DbSession, paging: Paging, _: Principal = Reader) -> Page[ConduitOut]:
    rows, total = await ZoneService(session).page(CPSConduitModel, skip=paging.skip, limit=paging.limit)
    items = [ConduitOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, skip=paging.skip, limit=paging.limit)


@router.post(
    "/conduits", response_model=ConduitOut, status_code=status.HTTP_201_CREATED,
    summary="Create a conduit between two zones. Permission: cps:write", dependencies=MUTATES,
)  # fmt: skip
async def create_conduit(body: ConduitCreate, session: DbSession, _: Principal = Writer) -> ConduitOut:
    conduit = await ZoneService(session).create_conduit(body.model_dump())
    return ConduitOut.model_validate(conduit)


@router.post(
    "/conduits/{conduit_id}/isolate", response_model=ApprovalOut, status_code=status.HTTP_202_ACCEPTED,
    summary="Request conduit isolation: runs once approved (real mode only). Permission: cps:write",
    dependencies=MUTATES,
)  # fmt: skip
async def isolate_conduit(
    conduit_id: uuid.UUID,
    request: Request,
    session: DbSession,
    body: IsolateRequest | None = None,
    principal: Principal = Writer,
) -> ApprovalOut:
    reason = body.reason if body else None
    actor = Actor.of(principal, client_ip(request))
    approval = await ZoneService(session).request_isolation(conduit_id, reason, actor=actor)
    return ApprovalOut.model_validate(approval)


@router.get("/badges", response_model=Page[BadgeOut], summary="List access badges. Permission: cps:read")
async def list_badges(session: DbSession, paging: Paging, _: Principal = Reader) -> Page[BadgeOut]:
    rows, total = await ZoneService(session).page(AccessBadgeModel, skip=paging.skip, limit=paging.limit)
    return Page(
        items=[BadgeOut.model_validate(r) for r in rows], total=total, skip=paging.skip, limit=paging.limit
    )


@router.post(
    "/badges", response_model=BadgeOut, status_code=status.HTTP_201_CREATED,
    summary="Add a badge to the allow-list. Permission: cps:write", dependencies=MUTATES,
)  # fmt: skip
async def create_badge(body: BadgeCreate, session: DbSession, _: Principal = Writer) -> BadgeOut:
    badge = await ZoneService(session).create_badge(body.model_dump())
    return BadgeOut.model_validate(badge)


@router.patch(
    "/badges/{badge_id}",
    response_model=BadgeOut,
    summary="Edit a badge. Permission: cps:write",
    dependencies=MUTATES,
)
async def patch_badge(badge_id: str, body: BadgePatch, session: DbSession, _: Principal = Writer) -> BadgeOut:
    badge = await ZoneService(session).update_badge(badge_id, body.model_dump(exclude_unset=True))
    return BadgeOut.model_validate(badge)
