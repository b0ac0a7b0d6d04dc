"""Threat-intel indicator feeds: subscribe, list, refresh now, unsubscribe (issue 17, spec §27.3).

Permissions: ``iocs:read`` to list, ``iocs:write`` to change. A refresh that is refused answers 422 with
the reason; the feed keeps its previous indicators and records the error.
"""

from __future__ import annotations

import uuid

from fastapi import Depends, Request, Response, status

from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.web.deps import DbSession, client_ip, require_database, require_mutations
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.intel.feeds import FeedSpec, IntelFeedService
from aurorasoc.intel.schemas_feeds import FeedCreate, FeedOut, FeedRefreshResult

router = IndexedRouter(prefix="/intel/feeds", tags=["intel"])


@router.get(
    "",
    response_model=list[FeedOut],
    summary="Indicator feeds and their last refresh. Permission: iocs:read",
    dependencies=[Depends(require_database)],
)
async def list_feeds(
    session: DbSession, _: Principal = Depends(require_permission("iocs:read"))
) -> list[FeedOut]:
    return [FeedOut.model_validate(feed) for feed in await IntelFeedService(session).list()]


@router.post(
    "",
    response_model=FeedOut,
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe to a STIX 2.1, MISP, CSV or text feed (imports once). Permission: iocs:write",
    dependencies=[Depends(require_mutations)],
)
async def create_feed(
    body: FeedCreate,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("iocs:write")),
) -> FeedOut:
    feed = await IntelFeedService(session).subscribe(
        FeedSpec(**body.model_dump(exclude={"refresh_now"})), import_now=body.refresh_now,
        actor=Actor.of(principal, client_ip(request)),
    )  # fmt: skip
    return FeedOut.model_validate(feed)


@router.post(
    "/{feed_id}/refresh",
    response_model=FeedRefreshResult,
    summary="Fetch and import the feed now (422 with the reason when refused). Permission: iocs:write",
    dependencies=[Depends(require_mutations)],
)
async def refresh_feed(
    feed_id: uuid.UUID,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("iocs:write")),
) -> FeedRefreshResult:
    actor = Actor.of(principal, client_ip(request))
    feed = await IntelFeedService(session).refresh_now(feed_id, actor=actor)
    return FeedRefreshResult(feed=FeedOut.model_validate(feed), indicators=feed.indicator_count)


@router.delete(
    "/{feed_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unsubscribe; the feed's indicators stop matching. Permission: iocs:write",
    dependencies=[Depends(require_mutations)],
)
async def delete_feed(
    feed_id: uuid.UUID,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("iocs:write")),
) -> Response:
    await IntelFeedService(session).unsubscribe(feed_id, actor=Actor.of(principal, client_ip(request)))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
