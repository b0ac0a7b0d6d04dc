"""Saved hunts: CRUD with sharing, run-now (spec §10, §13.6).

Everything needs ``siem:read``. Hunts the caller cannot see answer 404; edits and deletes of a
visible hunt owned by someone else answer 403 ``not_hunt_owner``. Scheduled execution,
``alert_on_hits`` and ``dispatch_agent`` are stored here and executed by the scheduler (§21).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Query, Request, Response, status

from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.schemas import Page
from aurorasoc.core.web.deps import (
    DataSourceDep,
    DbSession,
    Paging,
    client_ip,
    require_mutations,
    require_pipeline_writes,
)
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import stamp_source
from aurorasoc.siem.hunts import HuntService, Viewer
from aurorasoc.siem.models import SiemHuntModel
from aurorasoc.siem.schemas import HuntCreate, HuntOut, HuntPatch, HuntRunOut, SiemLogOut
from aurorasoc.siem.search import SEARCH_CAP

router = IndexedRouter(prefix="/siem/hunts", tags=["siem"])
HuntId = Annotated[uuid.UUID, Path(description="siem_hunts id")]
Reader = Annotated[Principal, Depends(require_permission("siem:read"))]


def _viewer(principal: Principal) -> Viewer:
    return Viewer(principal.username, principal.role.value)


def _out(hunt: SiemHuntModel, principal: Principal) -> HuntOut:
    return HuntOut.model_validate(hunt).model_copy(update={"is_owner": hunt.created_by == principal.username})


@router.get(
    "", response_model=Page[HuntOut], summary="Saved hunts visible to the caller. Permission: siem:read"
)
async def list_hunts(
    response: Response, session: DbSession, source: DataSourceDep, paging: Paging, principal: Reader
) -> Page[HuntOut]:
    stamp_source(response, source)
    if source == "showcase":
        return Page(items=[], total=0, skip=paging.skip, limit=paging.limit, data_source=source)
    rows, total = await HuntService(session).list(_viewer(principal), skip=paging.skip, limit=paging.limit)
    items = [_out(row, principal) for row in rows]
    return Page(items=items, total=total, skip=paging.skip, limit=paging.limit)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=HuntOut,
    summary="Save a hunt (query + filters, sharing, schedule). Permission: siem:read",
    dependencies=[Depends(require_mutations)],
)
async def create_hunt(body: HuntCreate, request: Request, session: DbSession, principal: Reader) -> HuntOut:
    actor = Actor.of(principal, client_ip(request))
    hunt = await HuntService(session).save(_viewer(principal), body.model_dump(mode="json"), actor=actor)
    return _out(hunt, principal)


@router.patch(
    "/{hunt_id}",
    response_model=HuntOut,
    summary="Edit a hunt (owner only). Permission: siem:read",
    dependencies=[Depends(require_mutations)],
)
async def patch_hunt(
    hunt_id: HuntId, body: HuntPatch, request: Request, session: DbSession, principal: Reader
) -> HuntOut:
    actor = Actor.of(principal, client_ip(request))
    changes = body.model_dump(mode="json", exclude_unset=True)
    hunt = await HuntService(session).edit(hunt_id, _viewer(principal), changes, actor=actor)
    return _out(hunt, principal)


@router.delete(
    "/{hunt_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a hunt (owner only). Permission: siem:read",
    dependencies=[Depends(require_mutations)],
)
async def delete_hunt(hunt_id: HuntId, request: Request, session: DbSession, principal: Reader) -> Response:
    actor = Actor.of(principal, client_ip(request))
    await HuntService(session).remove(hunt_id, _viewer(principal), actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{hunt_id}/run",
    response_model=HuntRunOut,
    summary="Run a visible hunt now; updates its hit counters. Permission: siem:read",
    dependencies=[Depends(require_pipeline_writes)],
)
async def run_hunt(
    hunt_id: HuntId,
    session: DbSession,
    principal: Reader,
    limit: int = Query(100, ge=1, le=SEARCH_CAP, description="Hits returned (newest first)"),
) -> HuntRunOut:
    run = await HuntService(session).run_now(hunt_id, _viewer(principal), limit=limit)
    return HuntRunOut(
        hunt=_out(run.hunt, principal),
        hit_count=run.hit_count,
        hits=[SiemLogOut.model_validate(row) for row in run.result.rows],
        truncated=run.hit_count > len(run.result.rows),
    )
