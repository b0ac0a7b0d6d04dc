"""Routes under /entities: host and user inventories with risk (spec §13.8)."""

from __future__ import annotations

from datetime import datetime

from fastapi import Depends, Query, Response
from pydantic import BaseModel, Field

from aurorasoc.core.auth import require_permission
from aurorasoc.core.schemas import Page
from aurorasoc.core.web.deps import DataSourceDep, DbSession, Paging
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import SHOWCASE_HEADER
from aurorasoc.siem.entities import EntityKind, entity_inventory

router = IndexedRouter(prefix="/entities", tags=["entities"])


class Entity(BaseModel):
    name: str
    kind: EntityKind
    last_seen: datetime | None
    event_count: int
    alert_count: int
    open_alert_count: int
    risk: int
    top_techniques: list[str]
    service_account: bool = Field(
        description="A built-in or machine account (NT AUTHORITY\\SYSTEM, LOCAL SERVICE, WS01$), not a person"
    )


async def _inventory(
    kind: EntityKind,
    session: DbSession,
    paging: Paging,
    source: DataSourceDep,
    response: Response,
    q: str | None,
) -> Page[Entity]:
    response.headers[SHOWCASE_HEADER] = source
    page = Page[Entity](items=[], total=0, skip=paging.skip, limit=paging.limit, data_source=source)
    if source == "showcase":  # showcase data carries no SIEM events to inventory
        return page
    entities, page.total = await entity_inventory(session, kind, q=q, skip=paging.skip, limit=paging.limit)
    page.items = [Entity(**{k: getattr(e, k) for k in Entity.model_fields}) for e in entities]
    return page


@router.get(
    "/hosts",
    response_model=Page[Entity],
    summary="Hosts seen in the last 7 days, riskiest first. Permission: siem:read",
    dependencies=[Depends(require_permission("siem:read"))],
)
async def list_hosts(
    session: DbSession,
    paging: Paging,
    source: DataSourceDep,
    response: Response,
    q: str | None = Query(None, max_length=255, description="Substring of the host name"),
) -> Page[Entity]:
    return await _inventory("host", session, paging, source, response, q)


@router.get(
    "/users",
    response_model=Page[Entity],
    summary="Users seen in the last 7 days, riskiest first. Permission: siem:read",
    dependencies=[Depends(require_permission("siem:read"))],
)
async def list_users(
    session: DbSession,
    paging: Paging,
    source: DataSourceDep,
    response: Response,
    q: str | None = Query(None, max_length=255, description="Substring of the user name"),
) -> Page[Entity]:
    return await _inventory("user", session, paging, source, response, q)
