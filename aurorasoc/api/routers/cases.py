"""Cases: list, create from alerts, detail with timeline, lifecycle edits, comments (spec §10, §14.3)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from aurorasoc.api.deps import DataSourceDep, DbSession, Paging, client_ip, require_mutations
from aurorasoc.api.schemas.cases import (
    AssignBody,
    CaseAlertRef,
    CaseCreateBody,
    CaseDetail,
    CaseOut,
    CaseUpdate,
    CloseBody,
    CommentCreate,
    TimelineEntryOut,
)
from aurorasoc.api.schemas.common import Page
from aurorasoc.api.showcase import find_showcase, load_showcase, stamp_source
from aurorasoc.core.audit import AuditService
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.errors import NotFound, PermissionDenied
from aurorasoc.core.models import CaseModel
from aurorasoc.core.rbac import has_permission
from aurorasoc.models.domain import CaseStatus, Severity
from aurorasoc.services import case_lifecycle as lifecycle
from aurorasoc.services.cases import CaseFilters, CaseService, SortKey

router = APIRouter(prefix="/cases", tags=["cases"])


def case_filters(
    status_: list[CaseStatus] = Query([], alias="status", description="Repeatable"),
    severity: list[Severity] = Query([], description="Repeatable"),
    assigned_to: str | None = Query(None, max_length=64),
    q: str | None = Query(None, max_length=200, description="Case-insensitive text in title or description"),
    sort: SortKey = "updated_at",
    order: str = Query("desc", pattern="^(asc|desc)$"),
) -> CaseFilters:
    return CaseFilters(status_, severity, assigned_to, q, sort, order == "desc")


@router.get("", response_model=Page[CaseOut], summary="List cases. Permission: cases:read")
async def list_cases(
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    paging: Paging,
    filters: CaseFilters = Depends(case_filters),
    _: Principal = Depends(require_permission("cases:read")),
) -> Page[CaseOut]:
    stamp_source(response, source)
    if source == "showcase":
        rows = filters.apply(load_showcase("cases"))
        items = [CaseOut.model_validate(r) for r in rows[paging.skip : paging.skip + paging.limit]]
        return Page(
            items=items, total=len(rows), skip=paging.skip, limit=paging.limit, data_source="showcase"
        )
    cases, total = await CaseService(session).list(filters, skip=paging.skip, limit=paging.limit)
    return Page(
        items=[CaseOut.model_validate(c) for c in cases], total=total, skip=paging.skip, limit=paging.limit
    )


@router.post(
    "",
    response_model=CaseOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a case, optionally from alerts. Permission: cases:write",
    dependencies=[Depends(require_mutations)],
)
async def create_case(
    body: CaseCreateBody,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("cases:write")),
) -> CaseOut:
    case = await CaseService(session).create(
        title=body.title,
        severity=body.severity,
        actor=principal.username,
        description=body.description,
        alert_ids=body.alert_ids,
        assigned_to=body.assigned_to,
    )
    details = {
        "after": CaseOut.model_validate(case).audit_snapshot(),
        "alert_ids": [str(i) for i in body.alert_ids],
    }
    await _audit(session, principal, request, "case.create", case, details)
    await session.commit()
    return CaseOut.model_validate(case)


@router.get(
    "/{case_id}", response_model=CaseDetail, summary="Case with timeline and alerts. Permission: cases:read"
)
async def get_case(
    case_id: uuid.UUID,
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    _: Principal = Depends(require_permission("cases:read")),
) -> CaseDetail:
    stamp_source(response, source)
    if source == "showcase":
        row = find_showcase("cases", str(case_id))
        if row is None:
            raise NotFound(f"case {case_id} does not exist")
        return CaseDetail.model_validate({**row, "data_source": "showcase"})
    service = CaseService(session)
    case = await service.get(case_id)
    return CaseDetail.model_validate(
        {
            **CaseOut.model_validate(case).model_dump(),
            "timeline": [TimelineEntryOut.model_validate(t) for t in await service.timeline(case_id)],
            "alerts": [CaseAlertRef.model_validate(a) for a in await service.alerts(case_id)],
        }
    )


@router.patch(
    "/{case_id}",
    response_model=CaseOut,
    summary="Edit a case; status moves follow the lifecycle (409 lists allowed next states). "
    "Permission: cases:write (+cases:close to resolve, close or reopen)",
    dependencies=[Depends(require_mutations)],
)
async def patch_case(
    case_id: uuid.UUID,
    body: CaseUpdate,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("cases:write")),
) -> CaseOut:
    service = CaseService(session)
    case = await service.get(case_id)
    changes = body.changes()
    if "status" in changes:
        _require_for_transition(principal, case.status, changes["status"])
    before, after = await service.update(case, changes, principal.username)
    await _audit(session, principal, request, "case.update", case, {"before": before, "after": after})
    await session.commit()
    return CaseOut.model_validate(case)


def _require_for_transition(principal: Principal, current: str, target: CaseStatus) -> None:
    """Resolving, closing and reopening need ``cases:close``; which one applies depends on the body."""
    needed = lifecycle.required_permission(current, target)
    if needed and not has_permission(principal.permissions, needed):
        raise PermissionDenied(f"Missing permission: {needed}")


@router.get(
    "/{case_id}/timeline",
    response_model=list[TimelineEntryOut],
    summary="Case timeline, oldest first. Permission: cases:read",
    dependencies=[Depends(require_permission("cases:read"))],
)
async def get_timeline(
    case_id: uuid.UUID, session: DbSession, _source: DataSourceDep
) -> list[TimelineEntryOut]:
    service = CaseService(session)
    await service.get(case_id)
    return [TimelineEntryOut.model_validate(t) for t in await service.timeline(case_id)]


@router.post(
    "/{case_id}/comments",
    response_model=TimelineEntryOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a comment to the timeline. Permission: cases:write",
    dependencies=[Depends(require_mutations)],
)
async def add_comment(
    case_id: uuid.UUID,
    body: CommentCreate,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("cases:write")),
) -> TimelineEntryOut:
    service = CaseService(session)
    case = await service.get(case_id)
    entry = await service.add_comment(case, body.text, principal.username)
    await _audit(session, principal, request, "case.update", case, {"comment": body.text[:200]})
    await session.commit()
    return TimelineEntryOut.model_validate(entry)


@router.post(
    "/{case_id}/assign",
    response_model=CaseOut,
    summary="Assign (or unassign with null). Permission: cases:write",
    dependencies=[Depends(require_mutations)],
)
async def assign_case(
    case_id: uuid.UUID,
    body: AssignBody,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("cases:write")),
) -> CaseOut:
    service = CaseService(session)
    case = await service.get(case_id)
    before, after = await service.update(case, {"assigned_to": body.assigned_to}, principal.username)
    await _audit(session, principal, request, "case.update", case, {"before": before, "after": after})
    await session.commit()
    return CaseOut.model_validate(case)


@router.post(
    "/{case_id}/close",
    response_model=CaseOut,
    summary="Close a case (409 when already closed). Permission: cases:close",
    dependencies=[Depends(require_mutations)],
)
async def close_case(
    case_id: uuid.UUID,
    body: CloseBody,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("cases:close")),
) -> CaseOut:
    service = CaseService(session)
    case = await service.get(case_id)
    before, after = await service.close(case, principal.username, body.resolution_notes)
    await _audit(session, principal, request, "case.close", case, {"before": before, "after": after})
    await session.commit()
    return CaseOut.model_validate(case)


async def _audit(
    session: DbSession,
    principal: Principal,
    request: Request,
    action: str,
    case: CaseModel,
    details: dict[str, Any],
) -> None:
    await AuditService(session).record(
        principal.username, principal.actor_type, action, "case", str(case.id), details, ip=client_ip(request)
    )
