"""IOC database: list, upsert, edit, similarity, sharing (spec §10, §14.4); the views with linked
alerts are in ``alerts.router_ioc``.

Dummy mode with the database down serves an empty showcase page: there is no showcase IOC data.
"""

from __future__ import annotations

import uuid

from fastapi import Depends, Query, Request, Response, status

from aurorasoc.core import runtime
from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.schemas import Page
from aurorasoc.core.vocabulary import IOCStatus, IOCType
from aurorasoc.core.web.deps import (
    DataSourceDep,
    DbSession,
    Paging,
    client_ip,
    require_database,
    require_mutations,
)
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import stamp_source
from aurorasoc.intel.schemas import (
    IOCCreate,
    IOCOut,
    IOCPatch,
    ShareReceipt,
    SimilarHit,
    SimilarResult,
)
from aurorasoc.intel.service import IOC_SHARING_SUBJECT, IOCFilters, IOCService

router = IndexedRouter(prefix="/iocs", tags=["iocs"])


def ioc_filters(
    type_: IOCType | None = Query(None, alias="type"),
    status_: IOCStatus | None = Query(None, alias="status", description="expired includes stale active IOCs"),
    q: str | None = Query(None, max_length=200, description="Case-insensitive text in value or description"),
    alert_id: uuid.UUID | None = Query(None, description="Only IOCs linked to this alert"),
    source: str | None = Query(None, max_length=64),
) -> IOCFilters:
    return IOCFilters(type_, status_, q, alert_id, source)


@router.get("", response_model=Page[IOCOut], summary="List IOCs. Permission: iocs:read")
async def list_iocs(
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    paging: Paging,
    filters: IOCFilters = Depends(ioc_filters),
    _: Principal = Depends(require_permission("iocs:read")),
) -> Page[IOCOut]:
    stamp_source(response, source)
    if source == "showcase":  # no showcase IOC data ships: an honest empty page
        return Page(items=[], total=0, skip=paging.skip, limit=paging.limit, data_source="showcase")
    rows, total = await IOCService(session).list(filters, skip=paging.skip, limit=paging.limit)
    return Page(items=[IOCOut.of(r) for r in rows], total=total, skip=paging.skip, limit=paging.limit)


@router.post(
    "",
    response_model=IOCOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record an IOC (201 new, 200 existing gains a sighting). Permission: iocs:write",
    responses={200: {"model": IOCOut, "description": "The (type, value) existed: sightings, max confidence"}},
    dependencies=[Depends(require_mutations)],
)
async def upsert_ioc(
    body: IOCCreate,
    request: Request,
    response: Response,
    session: DbSession,
    principal: Principal = Depends(require_permission("iocs:write")),
) -> IOCOut:
    ioc, created = await IOCService(session).record(
        body.value, body.type, source=body.source, confidence=body.confidence,
        fields=body.model_dump(include={"tags", "tlp", "description"}, exclude_none=True),
        actor=Actor.of(principal, client_ip(request)),
    )  # fmt: skip
    if not created:
        response.status_code = status.HTTP_200_OK
    return IOCOut.of(ioc)


@router.get(
    "/similar",
    response_model=SimilarResult,
    summary="Lexically similar IOCs (same network, same domain, substring). Permission: iocs:read",
)
async def similar_iocs(
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    q: str = Query("", max_length=2048, description="An indicator or a fragment of one; blank finds nothing"),
    limit: int = Query(20, ge=1, le=100),
    _: Principal = Depends(require_permission("iocs:read")),
) -> SimilarResult:
    stamp_source(response, source)
    if source == "showcase":
        return SimilarResult(query=q, items=[], data_source="showcase")
    hits = await IOCService(session).similar(q, limit)
    items = [SimilarHit(ioc=IOCOut.of(ioc), reason=reason, score=score) for ioc, reason, score in hits]
    return SimilarResult(query=q, items=items)


@router.patch(
    "/{ioc_id}",
    response_model=IOCOut,
    summary="Edit status, confidence, tags, TLP, description. Permission: iocs:write",
    dependencies=[Depends(require_mutations)],
)
async def patch_ioc(
    ioc_id: uuid.UUID,
    body: IOCPatch,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("iocs:write")),
) -> IOCOut:
    actor = Actor.of(principal, client_ip(request))
    ioc = await IOCService(session).change(ioc_id, body.model_dump(exclude_unset=True), actor=actor)
    return IOCOut.of(ioc)


async def require_external_actions() -> None:
    """IOC sharing leaves this site: real mode only (409 ``mode_blocks_mutation`` otherwise)."""
    runtime.assert_external_allowed()
    await require_database()


@router.post(
    "/{ioc_id}/share",
    response_model=ShareReceipt,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Publish to federated sites on AURORA.ioc_sharing (never TLP:RED). Permission: iocs:write",
    dependencies=[Depends(require_external_actions)],
)
async def share_ioc(
    ioc_id: uuid.UUID,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("iocs:write")),
) -> ShareReceipt:
    message = await IOCService(session).share(ioc_id, actor=Actor.of(principal, client_ip(request)))
    return ShareReceipt(subject=IOC_SHARING_SUBJECT, message=message)
