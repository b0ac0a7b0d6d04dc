"""Threat-intel indicator feeds: subscribe, list, refresh now, unsubscribe (issue 17, spec §27.3).

Permissions: ``iocs:read`` to list, ``iocs:write`` to change. A refresh that is refused answers 422 with
the reason; the feed keeps its previous indicators and records the error.
"""

from __future__ import annotations

import contextlib
import uuid

from fastapi import APIRouter, Depends, Request, Response, status

from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.web.audit_trail import audit_change
from aurorasoc.core.web.deps import DbSession, require_database, require_mutations
from aurorasoc.intel.feeds import FeedRefused, FeedSpec, IntelFeedService
from aurorasoc.intel.schemas_feeds import FeedCreate, FeedOut, FeedRefreshResult

router = APIRouter(prefix="/intel/feeds", tags=["intel"])


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
    service = IntelFeedService(session)
    feed = await service.create(FeedSpec(**body.model_dump(exclude={"refresh_now"})))
    await audit_change(session, request, principal, "intel_feed.create", ("intel_feed", str(feed.id)),
                       {"name": feed.name, "kind": feed.kind, "url": feed.url})  # fmt: skip
    await session.commit()
    if body.refresh_now:
        with contextlib.suppress(FeedRefused):  # recorded on the feed (last_status/last_error)
            await service.refresh(feed)
        await session.commit()
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
    service = IntelFeedService(session)
    feed = await service.get(feed_id)
    try:
        count = await service.refresh(feed)
    except FeedRefused as exc:
        await session.commit()  # keep last_status/last_error
        raise exc from None
    await audit_change(session, request, principal, "intel_feed.refresh", ("intel_feed", str(feed.id)),
                       {"indicators": count})  # fmt: skip
    await session.commit()
    return FeedRefreshResult(feed=FeedOut.model_validate(feed), indicators=count)


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
    service = IntelFeedService(session)
    feed = await service.get(feed_id)
    await service.delete(feed)
    await audit_change(session, request, principal, "intel_feed.delete", ("intel_feed", str(feed_id)),
                       {"name": feed.name})  # fmt: skip
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
