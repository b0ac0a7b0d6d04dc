"""SIEM event search (spec §10, §13.6); promoting a log to a case is ``cases.router_siem_promotion``.

There are no showcase events: with the database down in dummy mode lists answer empty pages
marked ``data_source=showcase``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Query, Response

from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.errors import NotFound
from aurorasoc.core.vocabulary import Severity
from aurorasoc.core.web.deps import DataSourceDep, DbSession, Paging
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import stamp_source
from aurorasoc.siem.schemas import Facets, Histogram, LogPage, SiemLogOut
from aurorasoc.siem.search import LogFilters, SiemSearchService, TimeRange

router = IndexedRouter(prefix="/siem", tags=["siem"])
LogId = Annotated[uuid.UUID, Path(description="siem_logs id")]


def log_filters(
    q: str | None = Query(
        None, max_length=2_000, description="Query language, e.g. host:web-01 AND NOT sshd"
    ),
    range_: TimeRange | None = Query(
        None, alias="range", description="Relative event-time window or 'all'; or absolute since/until"
    ),
    since: datetime | None = None,
    until: datetime | None = None,
    source: list[str] = Query([], description="Repeatable"),
    severity: list[Severity] = Query([], description="Repeatable"),
    host: list[str] = Query([], description="Repeatable"),
) -> LogFilters:
    return LogFilters(
        q=q,
        range=range_,
        since=since,
        until=until,
        sources=source,
        severities=[s.value for s in severity],
        hosts=host,
    )


@router.get(
    "/logs",
    response_model=LogPage,
    summary="Search stored events, newest event time first. Permission: siem:read",
)
async def list_logs(
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    paging: Paging,
    cursor: str | None = Query(None, max_length=200, description="next_cursor of the previous page"),
    filters: LogFilters = Depends(log_filters),
    _: Principal = Depends(require_permission("siem:read")),
) -> LogPage:
    """Bad query syntax → 400 ``invalid_query`` with the 1-based ``position``."""
    stamp_source(response, source)
    if source == "showcase":
        return LogPage(items=[], total=0, skip=paging.skip, limit=paging.limit, data_source=source)
    found = await SiemSearchService(session).search(
        filters, skip=paging.skip, limit=paging.limit, cursor=cursor
    )
    return LogPage(
        items=[SiemLogOut.model_validate(row) for row in found.rows],
        total=found.total,
        skip=paging.skip,
        limit=paging.limit,
        truncated=found.truncated,
        total_is_estimate=found.truncated or found.estimated,
        newest_at=found.newest_at,
        next_cursor=found.next_cursor,
    )


@router.get("/histogram", response_model=Histogram, summary="Event counts per time bucket. Perm.: siem:read")
async def histogram(
    session: DbSession,
    filters: LogFilters = Depends(log_filters),
    _: Principal = Depends(require_permission("siem:read")),
) -> Histogram:
    return Histogram.model_validate(await SiemSearchService(session).histogram(filters))


@router.get("/facets", response_model=Facets, summary="Top host/user/event id/process. Permission: siem:read")
async def facets(
    session: DbSession,
    filters: LogFilters = Depends(log_filters),
    _: Principal = Depends(require_permission("siem:read")),
) -> Facets:
    return Facets.model_validate(await SiemSearchService(session).facets(filters))


@router.get("/logs/{log_id}", response_model=SiemLogOut, summary="One stored event. Permission: siem:read")
async def get_log(
    log_id: LogId,
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    _: Principal = Depends(require_permission("siem:read")),
) -> SiemLogOut:
    stamp_source(response, source)
    if source == "showcase":
        raise NotFound(f"log {log_id} does not exist", log_id=str(log_id))
    return SiemLogOut.model_validate(await SiemSearchService(session).get(log_id))
