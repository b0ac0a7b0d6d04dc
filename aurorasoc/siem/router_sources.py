"""Log sources: list with live status / EPS / events today, register, toggle (spec §10, §13.2)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated

from fastapi import Depends, Path, Request, Response, status

from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.schemas import Page
from aurorasoc.core.web.deps import DataSourceDep, DbSession, Paging, client_ip, require_mutations
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import stamp_source
from aurorasoc.siem.models import LogSourceModel
from aurorasoc.siem.schemas import LogSourceCreate, LogSourceOut, LogSourcePatch
from aurorasoc.siem.sources import LogSourceService

router = IndexedRouter(prefix="/siem/sources", tags=["siem"])
SourceId = Annotated[uuid.UUID, Path(description="log_sources id")]
Writer = Annotated[Principal, Depends(require_permission("siem:write"))]


async def _out(service: LogSourceService, source: LogSourceModel) -> LogSourceOut:
    stats = (await service.stats([source]))[source.id]
    return LogSourceOut.model_validate(source).model_copy(update=asdict(stats))


@router.get(
    "",
    response_model=Page[LogSourceOut],
    summary="Log sources with status, EPS (1-min average), events today. Permission: siem:read",
)
async def list_sources(
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    paging: Paging,
    _: Principal = Depends(require_permission("siem:read")),
) -> Page[LogSourceOut]:
    stamp_source(response, source)
    if source == "showcase":
        return Page(items=[], total=0, skip=paging.skip, limit=paging.limit, data_source=source)
    service = LogSourceService(session)
    rows, total = await service.list(skip=paging.skip, limit=paging.limit)
    stats = await service.stats(rows)
    items = [LogSourceOut.model_validate(r).model_copy(update=asdict(stats[r.id])) for r in rows]
    return Page(items=items, total=total, skip=paging.skip, limit=paging.limit)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=LogSourceOut,
    summary="Register a file or HTTP log source (409 on a duplicate name). Permission: siem:write",
    dependencies=[Depends(require_mutations)],
)
async def create_source(
    body: LogSourceCreate, request: Request, session: DbSession, principal: Writer
) -> LogSourceOut:
    service = LogSourceService(session)
    created = await service.register(body.model_dump(), actor=Actor.of(principal, client_ip(request)))
    return await _out(service, created)


@router.patch(
    "/{source_id}",
    response_model=LogSourceOut,
    summary="Toggle enabled / passthrough_alerts or change format. Permission: siem:write",
    dependencies=[Depends(require_mutations)],
)
async def patch_source(
    source_id: SourceId, body: LogSourcePatch, request: Request, session: DbSession, principal: Writer
) -> LogSourceOut:
    service = LogSourceService(session)
    actor = Actor.of(principal, client_ip(request))
    source = await service.change(source_id, body.model_dump(exclude_none=True), actor=actor)
    return await _out(service, source)
