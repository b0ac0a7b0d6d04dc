"""Routes under /cases: list, create, lifecycle changes, comments (spec §10, §14.3). The case detail,
which gathers other capabilities' records, is composed in ``api.router_case_detail``."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated, Any, cast

from fastapi import Depends, Path, Query, Request, Response, status

from aurorasoc.cases.activity import CaseActivity, case_activity, showcase_activity
from aurorasoc.cases.filters import CaseFilters, SortKey
from aurorasoc.cases.schemas import (
    AssignBody,
    CaseCreateBody,
    CaseDetail,
    CaseListItem,
    CaseOut,
    CaseUpdate,
    CloseBody,
    CommentCreate,
    TimelineEntryOut,
)
from aurorasoc.cases.service import CaseService
from aurorasoc.cases.workflow import CaseWorkflow
from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.errors import NotFound
from aurorasoc.core.schemas import Page
from aurorasoc.core.vocabulary import CaseStatus, Severity
from aurorasoc.core.web.deps import DataSourceDep, DbSession, Paging, client_ip, require_mutations
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import SHOWCASE_HEADER, find_showcase, load_showcase

router = IndexedRouter(prefix="/cases", tags=["cases"])

ReadCases = require_permission("cases:read")
WriteCases = require_permission("cases:write")
CloseCases = require_permission("cases:close")
CaseId = Annotated[uuid.UUID, Path(description="Case id")]
SORT_PATTERN = r"^-?(updated_at|created_at|severity|status|title)$"


def showcase_case(case_id: uuid.UUID) -> CaseDetail:
    row = find_showcase("cases", str(case_id))
    if row is None:
        raise NotFound(f"case {case_id} does not exist", case_id=str(case_id))
    return CaseDetail.model_validate({**row, "data_source": "showcase"})


@router.get(
    "",
    response_model=Page[CaseListItem],
    summary="List cases, most recently updated first, with their alert counts and event-time spans. "
    "Permission: cases:read",
    dependencies=[Depends(ReadCases)],
)
async def list_cases(
    session: DbSession,
    paging: Paging,
    source: DataSourceDep,
    response: Response,
    status_filter: list[CaseStatus] = Query([], alias="status", description="Repeatable"),
    severity: list[Severity] = Query([], description="Repeatable"),
    assigned_to: str | None = Query(None, max_length=64),
    q: str | None = Query(None, min_length=1, max_length=200, description="Text in title or description"),
    sort: str = Query("-updated_at", pattern=SORT_PATTERN, description="Field, '-' for descending"),
) -> Page[CaseListItem]:
    response.headers[SHOWCASE_HEADER] = source
    filters = CaseFilters(
        status=status_filter,
        severity=severity,
        assigned_to=assigned_to,
        q=q,
        sort=cast(SortKey, sort.lstrip("-")),
        descending=sort.startswith("-"),
    )
    if source == "showcase":
        rows = filters.apply(load_showcase("cases"))
        page_rows = rows[paging.skip : paging.skip + paging.limit]
        spans = showcase_activity(load_showcase("alerts"))
        items = [_listed(row, spans.get(row["id"])) for row in page_rows]
        return Page[CaseListItem](
            items=items, total=len(rows), skip=paging.skip, limit=paging.limit, data_source=source
        )
    found, total = await CaseService(session).list(filters, skip=paging.skip, limit=paging.limit)
    activity = await case_activity(session, [row.id for row in found])
    items = [_listed(row, activity.get(row.id)) for row in found]
    return Page[CaseListItem](
        items=items, total=total, skip=paging.skip, limit=paging.limit, data_source=source
    )


def _listed(row: Any, activity: CaseActivity | None) -> CaseListItem:
    return CaseListItem.model_validate(row).model_copy(update=asdict(activity or CaseActivity()))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseOut,
    summary="Open a case, optionally linking alerts. Permission: cases:write",
    dependencies=[Depends(WriteCases), Depends(require_mutations)],
)
async def create_case(
    body: CaseCreateBody, request: Request, session: DbSession, principal: Principal = Depends(WriteCases)
) -> CaseOut:
    created = await CaseWorkflow(session).open(
        title=body.title, severity=body.severity, description=body.description,
        alert_ids=body.alert_ids, assigned_to=body.assigned_to, actor=_actor(principal, request),
    )  # fmt: skip
    return CaseOut.model_validate(created)


def _actor(principal: Principal, request: Request) -> Actor:
    return Actor.of(principal, client_ip(request))


async def _apply_update(
    request: Request, session: DbSession, principal: Principal, case_id: uuid.UUID, changes: dict[str, Any]
) -> CaseOut:
    """Shared by PATCH and /assign; the principal's permissions bound the lifecycle move."""
    workflow = CaseWorkflow(session, permissions=principal.permissions)
    return CaseOut.model_validate(await workflow.change(case_id, changes, actor=_actor(principal, request)))


@router.patch(
    "/{case_id}",
    response_model=CaseOut,
    summary="Edit a case or move it through its lifecycle. Permission: cases:write "
    "(+ cases:close to resolve, close or reopen)",
    dependencies=[Depends(WriteCases), Depends(require_mutations)],
)
async def update_case(
    case_id: CaseId,
    body: CaseUpdate,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(WriteCases),
) -> CaseOut:
    """Illegal transitions → 409 listing the allowed next states; same status is a no-op."""
    return await _apply_update(request, session, principal, case_id, body.changes())


@router.get(
    "/{case_id}/timeline",
    response_model=list[TimelineEntryOut],
    summary="A case's timeline, oldest first. Permission: cases:read",
    dependencies=[Depends(ReadCases)],
)
async def get_timeline(
    case_id: CaseId, session: DbSession, source: DataSourceDep, response: Response
) -> list[TimelineEntryOut]:
    response.headers[SHOWCASE_HEADER] = source
    if source == "showcase":
        return showcase_case(case_id).timeline
    service = CaseService(session)
    found = await service.get(case_id)
    return [TimelineEntryOut.model_validate(e) for e in await service.timeline(found.id)]


@router.post(
    "/{case_id}/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=TimelineEntryOut,
    summary="Add a comment to a case's timeline. Permission: cases:write",
    dependencies=[Depends(WriteCases), Depends(require_mutations)],
)
async def add_comment(
    case_id: CaseId,
    body: CommentCreate,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(WriteCases),
) -> TimelineEntryOut:
    entry = await CaseWorkflow(session).comment(case_id, body.text, actor=_actor(principal, request))
    return TimelineEntryOut.model_validate(entry)


@router.post(
    "/{case_id}/assign",
    response_model=CaseOut,
    summary="Assign (or unassign with null) a case. Permission: cases:write",
    dependencies=[Depends(WriteCases), Depends(require_mutations)],
)
async def assign_case(
    case_id: CaseId,
    body: AssignBody,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(WriteCases),
) -> CaseOut:
    return await _apply_update(request, session, principal, case_id, {"assigned_to": body.assigned_to})


@router.post(
    "/{case_id}/close",
    response_model=CaseOut,
    summary="Close a case from any open status (409 when already closed). Permission: cases:close",
    dependencies=[Depends(CloseCases), Depends(require_mutations)],
)
async def close_case(
    case_id: CaseId,
    request: Request,
    session: DbSession,
    body: CloseBody | None = None,
    principal: Principal = Depends(CloseCases),
) -> CaseOut:
    notes = body.resolution_notes if body else None
    closed = await CaseWorkflow(session).close(case_id, notes, actor=_actor(principal, request))
    return CaseOut.model_validate(closed)
