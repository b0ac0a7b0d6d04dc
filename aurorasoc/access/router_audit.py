"""Routes under /audit: the searchable audit trail (spec §10, §22)."""

from __future__ import annotations

from datetime import datetime

from fastapi import Depends, Query, Response

from aurorasoc.access.audit_query import AuditFilters, search_audit
from aurorasoc.access.schemas_audit import AuditEntry
from aurorasoc.core.auth import require_permission
from aurorasoc.core.schemas import Page
from aurorasoc.core.web.deps import DataSourceDep, DbSession, Paging
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import SHOWCASE_HEADER

router = IndexedRouter(prefix="/audit", tags=["audit"])


@router.get(
    "",
    response_model=Page[AuditEntry],
    summary="Search the audit log, newest first. Permission: settings:manage",
    dependencies=[Depends(require_permission("settings:manage"))],
)
async def list_audit(
    session: DbSession,
    paging: Paging,
    source: DataSourceDep,
    response: Response,
    actor: str | None = Query(None, max_length=128),
    action: str | None = Query(None, max_length=64, description="Exact action, e.g. auth.login"),
    resource_type: str | None = Query(None, max_length=64),
    resource_id: str | None = Query(None, max_length=128),
    since: datetime | None = Query(None, description="Inclusive lower bound (ISO 8601)"),
    until: datetime | None = Query(None, description="Inclusive upper bound (ISO 8601)"),
) -> Page[AuditEntry]:
    """Showcase data has no audit trail, so dummy mode with the database down lists nothing."""
    response.headers[SHOWCASE_HEADER] = source
    page = Page[AuditEntry](items=[], total=0, skip=paging.skip, limit=paging.limit, data_source=source)
    if source == "showcase":
        return page
    filters = AuditFilters(actor, action, resource_type, resource_id, since, until)
    rows, total = await search_audit(session, filters, skip=paging.skip, limit=paging.limit)
    page.items = [AuditEntry.model_validate(row) for row in rows]
    page.total = total
    return page
