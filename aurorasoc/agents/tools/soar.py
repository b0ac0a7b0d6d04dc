"""``soar`` and ``document`` domains: cases, playbooks, approvals and case notes.

``execute_playbook`` is the one tool that acts: it runs only against an *approved* approval
whose parameters name that playbook; without one it files an approval request and stops.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from aurorasoc.agents.tools.base import AuroraTool, ToolContext, ToolFailure, ToolResult
from aurorasoc.agents.tools.views import case_view
from aurorasoc.cases.service import CaseService
from aurorasoc.core.errors import NotFound
from aurorasoc.core.vocabulary import ActionClass, ApprovalStatus, Severity
from aurorasoc.soar.approvals import ApprovalRequest, ApprovalService
from aurorasoc.soar.executions import ExecutionService
from aurorasoc.soar.loader import showcase_playbooks
from aurorasoc.soar.playbooks import PlaybookService
from aurorasoc.soar.timeline import add_case_entry

RUN_PLAYBOOK = "run_playbook"


class CaseInput(BaseModel):
    case_id: uuid.UUID


class GetCase(AuroraTool):
    """A case with its latest timeline entries and linked alert count."""

    name = "get_case"
    domain = "soar"
    Input = CaseInput
    permission = "cases:read"

    async def execute(self, ctx: ToolContext, args: CaseInput) -> ToolResult:
        service = CaseService(ctx.session)
        case = await service.get(args.case_id)
        timeline = await service.timeline(case.id)
        entries = [
            {"action": t.action, "actor": t.actor, "details": (t.details or "")[:300]} for t in timeline[-10:]
        ]
        return {
            "status": "ok",
            "case": case_view(case),
            "timeline": entries,
            "alerts": len(await service.alerts(case.id)),
        }


class PlaybooksInput(BaseModel):
    technique: str | None = Field(None, max_length=16, description="Only playbooks covering this technique")


class ListPlaybooks(AuroraTool):
    """SOAR playbooks that fit a technique (name, description, techniques, enabled, whether they
    need approval), including the bundled ones not imported yet; any run needs approval."""

    name = "list_playbooks"
    domain = "soar"
    Input = PlaybooksInput
    permission = "playbooks:read"

    async def execute(self, ctx: ToolContext, args: PlaybooksInput) -> ToolResult:
        playbooks, _ = await PlaybookService(ctx.session).list(skip=0, limit=200)
        wanted = (args.technique or "").upper()
        rows: list[dict[str, Any]] = [
            {
                "name": p.name,
                "description": p.description[:300],
                "mitre_techniques": p.mitre_techniques,
                "requires_approval": p.requires_approval,
                "enabled": p.enabled,
                "imported": True,
            }
            for p in playbooks
        ]
        stored = {p.name for p in playbooks}
        rows += [
            {
                "name": d.name,
                "description": d.description[:300],
                "mitre_techniques": list(d.mitre_techniques),
                "requires_approval": True,
                "enabled": False,
                "imported": False,
            }
            for d in (loaded.definition for loaded in showcase_playbooks())
            if d.name not in stored
        ]
        fits = [
            r
            for r in rows
            if not wanted or any(str(t).upper().startswith(wanted) for t in r["mitre_techniques"])
        ]
        return {"status": "ok", "technique": wanted or None, "playbooks": fits}


class ApprovalInput(BaseModel):
    playbook: str = Field(..., max_length=128, description="Name of the playbook to run once approved")
    justification: str = Field(..., min_length=1, max_length=2000)
    target: str | None = Field(None, max_length=512)
    risk_level: Severity = Severity.MEDIUM


class RequestHumanApproval(AuroraTool):
    """Ask a human to approve running a playbook; returns the pending approval id."""

    name = "request_human_approval"
    domain = "soar"
    Input = ApprovalInput
    action_class = ActionClass.WRITE_INTERNAL
    permission = "playbooks:execute"

    async def execute(self, ctx: ToolContext, args: ApprovalInput) -> ToolResult:
        return await file_approval(ctx, args)


async def file_approval(ctx: ToolContext, args: ApprovalInput) -> ToolResult:
    if await PlaybookService(ctx.session).by_name(args.playbook) is None:
        raise NotFound(f"playbook {args.playbook!r} does not exist")
    request = ApprovalRequest(
        action_type=RUN_PLAYBOOK,
        requested_by=ctx.actor,
        action_params={"playbook": args.playbook},
        risk_level=args.risk_level,
        target=args.target,
        justification=args.justification,
        case_id=ctx.case_id,
        investigation_id=ctx.investigation_id,
    )
    service = ApprovalService(ctx.session)
    approval = await service.request(request)
    ctx.extra.setdefault("approval_outboxes", []).append(service)
    return {"status": "approval_required", "approval_id": str(approval.id), "playbook": args.playbook}


class ApprovalStatusInput(BaseModel):
    approval_id: uuid.UUID


class GetApprovalStatus(AuroraTool):
    """The status of an approval (pending, approved, rejected, expired) and who decided."""

    name = "get_approval_status"
    domain = "soar"
    Input = ApprovalStatusInput
    permission = "approvals:read"

    async def execute(self, ctx: ToolContext, args: ApprovalStatusInput) -> ToolResult:
        approval = await ApprovalService(ctx.session).get(args.approval_id)
        return {
            "status": "ok",
            "approval": {
                "id": str(approval.id),
                "status": approval.status,
                "action_type": approval.action_type,
                "decided_by": approval.decided_by,
            },
        }


class ExecuteInput(BaseModel):
    playbook: str = Field(..., max_length=128)
    approval_id: uuid.UUID | None = Field(
        None, description="An approved run_playbook approval for this playbook"
    )
    justification: str = Field("requested by an agent", max_length=2000)


class ExecutePlaybook(AuroraTool):
    """Run a SOAR playbook. Needs an approved approval for it; without one an approval is requested
    and nothing runs."""

    name = "execute_playbook"
    domain = "soar"
    Input = ExecuteInput
    action_class = ActionClass.WRITE_EXTERNAL
    permission = "playbooks:execute"

    async def execute(self, ctx: ToolContext, args: ExecuteInput) -> ToolResult:
        if args.approval_id is None:
            return await file_approval(
                ctx, ApprovalInput(playbook=args.playbook, justification=args.justification)
            )
        approval = await ApprovalService(ctx.session).get(args.approval_id)
        if approval.action_type != RUN_PLAYBOOK or approval.action_params.get("playbook") != args.playbook:
            raise ToolFailure("permission_denied", "the approval does not cover this playbook")
        if approval.status != ApprovalStatus.APPROVED.value:
            raise ToolFailure("permission_denied", f"approval is {approval.status}, not approved")
        playbook = await PlaybookService(ctx.session).by_name(args.playbook)
        if playbook is None:
            raise NotFound(f"playbook {args.playbook!r} does not exist")
        execution = await ExecutionService(ctx.session, commit_steps=False).execute(
            playbook, actor=ctx.actor, alert_id=ctx.alert_id, case_id=ctx.case_id, trigger="agent"
        )
        return {"status": "ok", "execution_id": str(execution.id), "execution_status": execution.status}


class NoteInput(BaseModel):
    case_id: uuid.UUID | None = Field(None, description="Defaults to the case under investigation")
    text: str = Field(..., min_length=1, max_length=5000)


class AddCaseNote(AuroraTool):
    """Add a note to a case timeline (documentation only, changes nothing else)."""

    name = "add_case_note"
    domain = "document"
    Input = NoteInput
    action_class = ActionClass.WRITE_INTERNAL
    permission = "cases:write"

    async def execute(self, ctx: ToolContext, args: NoteInput) -> ToolResult:
        case_id = args.case_id or ctx.case_id
        if case_id is None:
            raise ToolFailure("invalid_input", "no case to write to")
        case = await CaseService(ctx.session).get(case_id)
        data: dict[str, Any] = {
            "investigation_id": str(ctx.investigation_id) if ctx.investigation_id else None
        }
        add_case_entry(ctx.session, case.id, "agent_note", ctx.actor, args.text, data)
        await ctx.session.flush()
        return {"status": "ok", "case_id": str(case.id)}
