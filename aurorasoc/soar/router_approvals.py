"""Human approvals: list, read, approve, reject (spec §10, §15.4)."""

from __future__ import annotations

import uuid

from fastapi import Depends, Request

from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.schemas import Page
from aurorasoc.core.vocabulary import ApprovalStatus, Severity
from aurorasoc.core.web.deps import DbSession, Paging, client_ip, require_database, require_mutations
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.soar.approvals import ApprovalService, Decider
from aurorasoc.soar.executions import ExecutionService
from aurorasoc.soar.schemas import ApprovalOut, DecisionBody

router = IndexedRouter(prefix="/approvals", tags=["approvals"])


@router.get(
    "",
    response_model=Page[ApprovalOut],
    summary="List approvals. Permission: approvals:read",
    dependencies=[Depends(require_database)],
)
async def list_approvals(
    session: DbSession,
    paging: Paging,
    status: ApprovalStatus | None = None,
    case_id: uuid.UUID | None = None,
    risk_level: Severity | None = None,
    _: Principal = Depends(require_permission("approvals:read")),
) -> Page[ApprovalOut]:
    rows, total = await ApprovalService(session).list(
        status=status.value if status else None, case_id=case_id,
        risk_level=risk_level.value if risk_level else None, skip=paging.skip, limit=paging.limit,
    )  # fmt: skip
    return Page(
        items=[ApprovalOut.model_validate(r) for r in rows], total=total, skip=paging.skip, limit=paging.limit
    )


@router.get(
    "/{approval_id}",
    response_model=ApprovalOut,
    summary="One approval. Permission: approvals:read",
    dependencies=[Depends(require_database)],
)
async def get_approval(
    approval_id: uuid.UUID, session: DbSession, _: Principal = Depends(require_permission("approvals:read"))
) -> ApprovalOut:
    return ApprovalOut.model_validate(await ApprovalService(session).get(approval_id))


async def _decide(
    approval_id: uuid.UUID, approve: bool, body: DecisionBody | None, request: Request, session: DbSession,
    principal: Principal,
) -> ApprovalOut:  # fmt: skip
    decider = Decider(principal.username, principal.role, principal.actor_type, client_ip(request))
    comment = body.comment if body else None
    approval = await ExecutionService(session).resolve(approval_id, decider, approve=approve, comment=comment)
    return ApprovalOut.model_validate(approval)


@router.post(
    "/{approval_id}/approve",
    response_model=ApprovalOut,
    summary="Approve (continues the execution or runs the stored action). Permission: approvals:decide",
    dependencies=[Depends(require_mutations)],
)
async def approve(
    approval_id: uuid.UUID,
    request: Request,
    session: DbSession,
    body: DecisionBody | None = None,
    principal: Principal = Depends(require_permission("approvals:decide")),
) -> ApprovalOut:
    return await _decide(approval_id, True, body, request, session, principal)


@router.post(
    "/{approval_id}/reject",
    response_model=ApprovalOut,
    summary="Reject with a comment (the execution ends rejected). Permission: approvals:decide",
    dependencies=[Depends(require_mutations)],
)
async def reject(
    approval_id: uuid.UUID,
    request: Request,
    session: DbSession,
    body: DecisionBody | None = None,
    principal: Principal = Depends(require_permission("approvals:decide")),
) -> ApprovalOut:
    return await _decide(approval_id, False, body, request, session, principal)
