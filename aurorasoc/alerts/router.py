"""Alert queue: list, ingest (with dedup), triage edits (spec §10). The alert detail is composed in
``api.router_alert_detail``; bulk actions (one of which opens a case) are in ``cases.router_alert_bulk``."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import Depends, Query, Request, Response, status

from aurorasoc.alerts.commands import Actor, AlertCommands
from aurorasoc.alerts.filters import AlertFilters, AlertSort
from aurorasoc.alerts.group_commit import alert_write_queue
from aurorasoc.alerts.schemas import (
    AlertBatch,
    AlertOut,
    AlertPage,
    AlertPatch,
    BatchItem,
    BatchResult,
)
from aurorasoc.alerts.service import AlertService
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.errors import InvalidInput
from aurorasoc.core.schemas import Preview
from aurorasoc.core.vocabulary import AlertCreate, AlertStatus, Severity
from aurorasoc.core.web.deps import (
    DataSourceDep,
    DbSession,
    OperatorOrPreview,
    Paging,
    require_mutations,
    require_pipeline_writes,
)
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import load_showcase, stamp_source

router = IndexedRouter(prefix="/alerts", tags=["alerts"])
ASSET_PATTERN = r"^(host|user|device|ip):[^\"\\]{1,200}$"


def alert_filters(
    severity: list[str] = Query([], description="Repeatable: critical, high, medium, low, info"),
    status_: list[AlertStatus] = Query([], alias="status", description="Repeatable"),
    source: str | None = Query(None, max_length=128),
    case_id: uuid.UUID | None = None,
    q: str | None = Query(
        None, max_length=200, description="Words (or prefixes) in title, description or entities"
    ),
    since: datetime | None = Query(None, description="Event time: alerts whose last event is at or after it"),
    until: datetime | None = Query(
        None, description="Event time: alerts whose first event is at or before it"
    ),
    sort: AlertSort = Query("-last_seen_at", description="Sort key; default: latest event time first"),
    asset: str | None = Query(
        None,
        pattern=ASSET_PATTERN,
        description="One affected asset: host:NAME, user:NAME, device:ID or ip:ADDR",
    ),
    host: str | None = Query(None, max_length=255, description="Entity host name, case-insensitive"),
    user: str | None = Query(None, max_length=255, description="Entity user, case-insensitive"),
    ip: str | None = Query(None, max_length=64, description="Source or destination IP address"),
) -> AlertFilters:
    try:
        severities = [Severity(s) for s in severity]
    except ValueError:
        raise InvalidInput(f"unknown severity in {severity}") from None
    if since and until and since > until:
        raise InvalidInput("'since' must not be after 'until'")
    return AlertFilters(severities, status_, source, case_id, q, since, until, sort, asset, host, user, ip)


@router.get("", response_model=AlertPage, summary="List alerts. Permission: alerts:read")
async def list_alerts(
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    paging: Paging,
    filters: AlertFilters = Depends(alert_filters),
    cursor: str | None = Query(
        None, max_length=1024, description="The previous page's next_cursor (keyset paging; skip is ignored)"
    ),
    _: Principal = Depends(require_permission("alerts:read")),
) -> AlertPage:
    stamp_source(response, source)
    if source == "showcase":
        rows = filters.sort_rows([r for r in load_showcase("alerts") if filters.matches(r)])
        items = [AlertOut.model_validate(r) for r in rows[paging.skip : paging.skip + paging.limit]]
        return AlertPage(
            items=items, total=len(rows), skip=paging.skip, limit=paging.limit, data_source="showcase"
        )
    listing = await AlertService(session).list(filters, skip=paging.skip, limit=paging.limit, cursor=cursor)
    return AlertPage(
        items=[AlertOut.model_validate(a) for a in listing.items],
        total=listing.total,
        skip=paging.skip,
        limit=paging.limit,
        next_cursor=listing.next_cursor,
        total_is_estimate=listing.total_is_estimate,
    )


@router.post(
    "",
    response_model=AlertOut,
    status_code=status.HTTP_201_CREATED,
    summary="Submit an alert (201 new, 200 dedup hit). Permission: alerts:write",
    responses={200: {"model": AlertOut, "description": "An open alert with the same dedup hash absorbed it"}},
    dependencies=[Depends(require_pipeline_writes)],
)
async def create_alert(
    body: AlertCreate, response: Response, _: Principal = Depends(require_permission("alerts:write"))
) -> AlertOut:
    alert, created = await alert_write_queue().submit(body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return AlertOut.model_validate(alert)


@router.post(
    "/batch",
    response_model=BatchResult,
    summary="Submit up to 500 alerts at once. Permission: alerts:write",
    dependencies=[Depends(require_pipeline_writes)],
)
async def create_alerts(
    body: AlertBatch, session: DbSession, _: Principal = Depends(require_permission("alerts:write"))
) -> BatchResult:
    results = await AlertCommands(session).submit(body.alerts)
    created_count = sum(1 for _, created in results if created)
    return BatchResult(
        created=created_count,
        deduplicated=len(results) - created_count,
        items=[BatchItem(id=alert.id, created=created) for alert, created in results],
    )


@router.patch(
    "/{alert_id}",
    response_model=AlertOut,
    summary="Triage an alert (status, severity, agent, resolution). Permission: alerts:write",
    dependencies=[Depends(require_mutations)],
)
async def patch_alert(
    alert_id: uuid.UUID,
    body: AlertPatch,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("alerts:write")),
) -> AlertOut:
    alert = await AlertCommands(session).triage(
        alert_id, body.model_dump(exclude_unset=True), Actor(request, principal)
    )
    return AlertOut.model_validate(alert)


@router.post(
    "/{alert_id}/acknowledge",
    response_model=AlertOut | Preview,
    summary="Acknowledge as known-benign (resolved, benign); ?preview=true. Permission: alerts:write",
)
async def acknowledge_alert(
    alert_id: uuid.UUID,
    write: OperatorOrPreview,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("alerts:write")),
) -> AlertOut | Preview:
    alert = await AlertService(session).get(alert_id)
    if write.preview:
        effect = {
            "alert_id": str(alert.id),
            "status": ("set", alert.status, "resolved"),
            "resolution": "benign",
        }
        return Preview(mode=write.mode, effects=[effect])
    await AlertCommands(session).acknowledge(alert, Actor(request, principal))
    return AlertOut.model_validate(alert)
