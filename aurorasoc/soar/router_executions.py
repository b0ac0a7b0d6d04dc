"""Playbook executions and the connector action log (spec §10, §15.3, §15.6)."""

from __future__ import annotations

import uuid

from fastapi import Depends, Query, Request, Response
from sqlalchemy import func, select

from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.schemas import Page
from aurorasoc.core.vocabulary import ExecutionStatus
from aurorasoc.core.web.deps import DataSourceDep, DbSession, Paging, client_ip, require_mutations
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import stamp_source
from aurorasoc.soar.executions import ExecutionFilters, ExecutionService
from aurorasoc.soar.models import ConnectorActionModel
from aurorasoc.soar.schemas import ConnectorActionOut, ExecutionOut

router = IndexedRouter(tags=["playbooks"])


@router.get(
    "/executions",
    response_model=Page[ExecutionOut],
    summary="List playbook executions. Permission: playbooks:read",
)
async def list_executions(
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    paging: Paging,
    status: ExecutionStatus | None = None,
    playbook_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    alert_id: uuid.UUID | None = None,
    _: Principal = Depends(require_permission("playbooks:read")),
) -> Page[ExecutionOut]:
    stamp_source(response, source)
    if source == "showcase":  # no showcase executions ship: an honest empty page
        return Page(items=[], total=0, skip=paging.skip, limit=paging.limit, data_source="showcase")
    filters = ExecutionFilters(status.value if status else None, playbook_id, case_id, alert_id)
    rows, total = await ExecutionService(session).list(filters, skip=paging.skip, limit=paging.limit)
    return Page(
        items=[ExecutionOut.model_validate(r) for r in rows],
        total=total,
        skip=paging.skip,
        limit=paging.limit,
    )


@router.get(
    "/executions/{execution_id}",
    response_model=ExecutionOut,
    summary="One execution. Permission: playbooks:read",
)
async def get_execution(
    execution_id: uuid.UUID, session: DbSession, _: Principal = Depends(require_permission("playbooks:read"))
) -> ExecutionOut:
    return ExecutionOut.model_validate(await ExecutionService(session).get(execution_id))


@router.post(
    "/executions/{execution_id}/cancel",
    response_model=ExecutionOut,
    summary="Cancel a pending, running or waiting execution. Permission: playbooks:execute",
    dependencies=[Depends(require_mutations)],
)
async def cancel_execution(
    execution_id: uuid.UUID,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("playbooks:execute")),
) -> ExecutionOut:
    actor = Actor.of(principal, client_ip(request))
    execution = await ExecutionService(session).cancel(execution_id, actor=actor)
    return ExecutionOut.model_validate(execution)


@router.get(
    "/connectors/actions",
    response_model=Page[ConnectorActionOut],
    summary="Connector action log (simulated flag per call). Permission: playbooks:read",
)
async def list_connector_actions(
    session: DbSession,
    paging: Paging,
    execution_id: uuid.UUID | None = None,
    simulated: bool | None = None,
    action: str | None = Query(None, max_length=64),
    _: Principal = Depends(require_permission("playbooks:read")),
) -> Page[ConnectorActionOut]:
    model = ConnectorActionModel
    wanted = {model.execution_id: execution_id, model.simulated: simulated, model.action: action}
    clauses = [column == value for column, value in wanted.items() if value is not None]
    total = await session.scalar(select(func.count()).select_from(model).where(*clauses))
    stmt = (
        select(model)
        .where(*clauses)
        .order_by(model.created_at.desc())
        .offset(paging.skip)
        .limit(paging.limit)
    )
    rows = (await session.scalars(stmt)).all()
    items = [ConnectorActionOut.model_validate(r) for r in rows]
    return Page(items=items, total=int(total or 0), skip=paging.skip, limit=paging.limit)
