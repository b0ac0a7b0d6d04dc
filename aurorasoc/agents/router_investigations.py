"""Agent investigations: start one on an alert, dispatch a task, read steps, override (spec §10)."""

from __future__ import annotations

import uuid

from fastapi import Depends, Query, Request, Response, status

from aurorasoc.agents import investigations
from aurorasoc.agents.investigations import InvestigationFilters, InvestigationService
from aurorasoc.agents.proposals import file_proposed_action
from aurorasoc.agents.schemas import (
    DispatchRequest,
    InvestigateRequest,
    InvestigationEventOut,
    InvestigationOut,
    OverrideRequest,
    ProposalRequest,
)
from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.bus.base import AGENT_TASKS_STREAM
from aurorasoc.core.config import get_settings
from aurorasoc.core.schemas import Page, Preview
from aurorasoc.core.vocabulary import AgentType
from aurorasoc.core.web.deps import (
    DataSourceDep,
    DbSession,
    Paging,
    PipelineOrPreview,
    client_ip,
    require_mutations,
    require_pipeline_writes,
)
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import stamp_source
from aurorasoc.soar.schemas import ApprovalOut

router = IndexedRouter(tags=["investigations"])
DEFAULT_PROMPT = "Investigate this alert: establish what happened, how bad it is, and what to do next."


@router.post(
    "/alerts/{alert_id}/investigate",
    response_model=InvestigationOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Run the investigation workflow on an alert. Permission: alerts:investigate",
    dependencies=[Depends(require_pipeline_writes)],
)
async def investigate_alert(
    alert_id: uuid.UUID,
    session: DbSession,
    body: InvestigateRequest | None = None,
    principal: Principal = Depends(require_permission("alerts:investigate")),
) -> InvestigationOut:
    body = body or InvestigateRequest()
    investigations.ensure_llm_available(AgentType.ORCHESTRATOR)
    service = InvestigationService(session)
    investigation = await service.create(
        AgentType.ORCHESTRATOR,
        body.prompt or DEFAULT_PROMPT,
        principal.username,
        alert_id=alert_id,
        priority=body.priority,
    )
    investigation = await investigations.start(session, investigation, principal.permissions)
    return InvestigationOut.model_validate(investigation)


@router.post(
    "/orchestrator/dispatch",
    response_model=InvestigationOut | Preview,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Dispatch a task to the orchestrator or a named agent (?preview=true in any mode). "
    "Permission: agents:dispatch",
)
async def dispatch(
    body: DispatchRequest,
    session: DbSession,
    write: PipelineOrPreview,
    principal: Principal = Depends(require_permission("agents:dispatch")),
) -> InvestigationOut | Preview:
    if write.preview:
        return dispatch_preview(body, write.mode)
    investigations.ensure_llm_available(body.agent)
    investigation = await InvestigationService(session).create(
        body.agent,
        body.prompt,
        principal.username,
        alert_id=body.alert_id,
        case_id=body.case_id,
        priority=body.priority,
    )
    investigation = await investigations.start(session, investigation, principal.permissions)
    return InvestigationOut.model_validate(investigation)


def dispatch_preview(body: DispatchRequest, mode: str) -> Preview:
    """The simulated receipt: what would be queued, for whom, on which backend; nothing is stored."""
    cfg = get_settings().agents
    effect = {
        "action": "dispatch",
        "agent": body.agent.value,
        "priority": body.priority,
        "alert_id": str(body.alert_id) if body.alert_id else None,
        "case_id": str(body.case_id) if body.case_id else None,
        "backend": (cfg.llm_model or "default") if cfg.configured else "offline",
        "queued_on": AGENT_TASKS_STREAM if cfg.configured else "in-request",
        "simulated": True,
    }
    return Preview(mode=mode, effects=[effect])


@router.get(
    "/investigations",
    response_model=Page[InvestigationOut],
    summary="List investigations. Permission: agents:read",
)
async def list_investigations(
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    paging: Paging,
    status_: str | None = Query(None, alias="status", max_length=32),
    agent: str | None = Query(None, max_length=64),
    case_id: uuid.UUID | None = None,
    alert_id: uuid.UUID | None = None,
    _: Principal = Depends(require_permission("agents:read")),
) -> Page[InvestigationOut]:
    stamp_source(response, source)
    if source == "showcase":
        return Page(items=[], total=0, skip=paging.skip, limit=paging.limit, data_source="showcase")
    filters = InvestigationFilters(status_, agent, case_id, alert_id)
    rows, total = await InvestigationService(session).list(filters, skip=paging.skip, limit=paging.limit)
    items = [InvestigationOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, skip=paging.skip, limit=paging.limit)


@router.get(
    "/investigations/{investigation_id}",
    response_model=InvestigationOut,
    summary="One investigation with its result. Permission: agents:read",
)
async def get_investigation(
    investigation_id: uuid.UUID, session: DbSession, _: Principal = Depends(require_permission("agents:read"))
) -> InvestigationOut:
    return InvestigationOut.model_validate(await InvestigationService(session).get(investigation_id))


@router.get(
    "/investigations/{investigation_id}/events",
    response_model=Page[InvestigationEventOut],
    summary="Every step of an investigation, by seq. Permission: agents:read",
)
async def investigation_events(
    investigation_id: uuid.UUID,
    session: DbSession,
    paging: Paging,
    _: Principal = Depends(require_permission("agents:read")),
) -> Page[InvestigationEventOut]:
    events = await InvestigationService(session).events(investigation_id)
    items = [
        InvestigationEventOut.model_validate(e) for e in events[paging.skip : paging.skip + paging.limit]
    ]
    return Page(items=items, total=len(events), skip=paging.skip, limit=paging.limit)


@router.post(
    "/investigations/{investigation_id}/override",
    response_model=InvestigationOut,
    summary="Settle an investigation as completed or failed, with a note. Permission: agents:dispatch",
    dependencies=[Depends(require_mutations)],
)
async def override_investigation(
    investigation_id: uuid.UUID,
    body: OverrideRequest,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("agents:dispatch")),
) -> InvestigationOut:
    investigation = await InvestigationService(session).override(
        investigation_id, body.status, body.note, actor=Actor.of(principal, client_ip(request))
    )
    return InvestigationOut.model_validate(investigation)


@router.post(
    "/investigations/{investigation_id}/proposals",
    response_model=ApprovalOut,
    status_code=status.HTTP_201_CREATED,
    summary="File one of the investigation's proposed containments as a human approval. "
    "Permission: playbooks:execute",
    dependencies=[Depends(require_mutations)],
)
async def file_proposal(
    investigation_id: uuid.UUID,
    body: ProposalRequest,
    session: DbSession,
    principal: Principal = Depends(require_permission("playbooks:execute")),
) -> ApprovalOut:
    investigation = await InvestigationService(session).get(investigation_id)
    approval = await file_proposed_action(
        session, investigation, body.action, body.target, (principal.username, principal.permissions)
    )
    return ApprovalOut.model_validate(approval)
