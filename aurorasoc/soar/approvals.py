"""Human approvals (spec §15.4): request, decide, expire — and the case's ``pending_approval`` state.

Services flush, routes commit: events are queued in ``outbox`` and sent by :meth:`publish` after
the caller committed. An approval linked to a case puts the case in ``pending_approval`` (the
previous status kept in ``status_before_approval``) until no pending approval remains. Expiry
counts as rejection: the owning execution ends ``rejected`` with its remaining steps skipped.
What an *approved* decision continues (an execution, a stored action) is
:mod:`aurorasoc.soar.executions`' job.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Histogram
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.cases.models import CaseModel
from aurorasoc.core.audit import AuditService
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.config import get_settings
from aurorasoc.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import ApprovalStatus, CaseStatus, ExecutionStatus, Role, Severity
from aurorasoc.soar.execution_state import end_without_running
from aurorasoc.soar.models import HumanApprovalModel, PlaybookExecutionModel
from aurorasoc.soar.timeline import add_case_entry

APPROVALS_STREAM = "decisions:approvals"
AGENT_RESULTS_STREAM = "aurora:agent:results"
APPROVAL_LATENCY = Histogram(
    "approval_latency_seconds", "Approval created → decided", buckets=(60, 300, 900, 1800, 3600)
)
_CLOSED_CASE = frozenset({CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value})


@dataclass(frozen=True)
class ApprovalRequest:
    action_type: str
    requested_by: str
    action_params: dict[str, Any]
    risk_level: Severity = Severity.LOW
    escalated: bool = False
    target: str | None = None
    justification: str | None = None
    context: dict[str, Any] | None = None
    case_id: uuid.UUID | None = None
    execution_id: uuid.UUID | None = None
    step_name: str | None = None
    investigation_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Decider:
    username: str
    role: Role
    actor_type: str = "user"
    ip: str | None = None


class ApprovalService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.outbox: list[tuple[str, HumanApprovalModel]] = []

    async def get(self, approval_id: uuid.UUID) -> HumanApprovalModel:
        found = await self.session.get(HumanApprovalModel, approval_id)
        if found is None:
            raise NotFound(f"approval {approval_id} does not exist", approval_id=str(approval_id))
        return found

    async def list(
        self, *, status: str | None, case_id: uuid.UUID | None, risk_level: str | None, skip: int, limit: int
    ) -> tuple[list[HumanApprovalModel], int]:
        clauses = []
        if status:
            clauses.append(HumanApprovalModel.status == status)
        if case_id:
            clauses.append(HumanApprovalModel.case_id == case_id)
        if risk_level:
            clauses.append(HumanApprovalModel.risk_level == risk_level)
        total = await self.session.scalar(
            select(func.count()).select_from(HumanApprovalModel).where(*clauses)
        )
        stmt = select(HumanApprovalModel).where(*clauses).order_by(HumanApprovalModel.created_at.desc())
        rows = (await self.session.scalars(stmt.offset(skip).limit(limit))).all()
        return list(rows), int(total or 0)

    async def request(self, req: ApprovalRequest) -> HumanApprovalModel:
        ttl = get_settings().soar.approval_ttl_minutes * 60
        fields = {**asdict(req), "risk_level": req.risk_level.value, "context": req.context or {}}
        expires_at = utcnow() + timedelta(seconds=ttl)
        approval = HumanApprovalModel(
            **fields, status=ApprovalStatus.PENDING.value, ttl_seconds=ttl, expires_at=expires_at
        )
        self.session.add(approval)
        await self.session.flush()
        details = f"Approval requested: {req.action_type} {req.target or ''}".strip()
        await self._record(approval, "approval.requested", req.requested_by, "system", details)
        await self._hold_case(approval.case_id)
        self.outbox.append(("requested", approval))
        return approval

    async def decide(
        self, approval: HumanApprovalModel, decider: Decider, *, approve: bool, comment: str | None
    ) -> None:
        """409 unless pending (and not past expiry); escalated → admin only; a reject needs a comment."""
        if approval.status != ApprovalStatus.PENDING.value:
            raise Conflict(
                f"approval is {approval.status}, not pending",
                code="approval_not_pending",
                status=approval.status,
            )
        if approval.expires_at <= utcnow():
            raise Conflict(
                "approval has expired", code="approval_expired", status=ApprovalStatus.EXPIRED.value
            )
        if approval.escalated and decider.role is not Role.ADMIN:
            raise PermissionDenied(
                "escalated approvals can only be decided by an admin", code="escalated_approval"
            )
        if not approve and not (comment and comment.strip()):
            raise InvalidInput("a rejection needs a comment", code="comment_required")
        status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
        approval.status, approval.decided_by, approval.decided_at = status.value, decider.username, utcnow()
        approval.decision_comment = comment
        APPROVAL_LATENCY.observe((approval.decided_at - approval.created_at).total_seconds())
        details = f"Approval {status.value} by {decider.username}" + (f": {comment}" if comment else "")
        await self._record(
            approval, f"approval.{status.value}", decider.username, decider.actor_type, details, ip=decider.ip
        )
        await self._release_case(approval.case_id)
        self.outbox.append((status.value, approval))
        if not approve:
            await self._stop_execution(
                approval, ExecutionStatus.REJECTED, f"approval rejected by {decider.username}"
            )

    async def expire(self, approval: HumanApprovalModel) -> None:
        """A missed approval: ``expired``, audited, and its execution ends ``rejected``."""
        approval.status, approval.decided_at = ApprovalStatus.EXPIRED.value, utcnow()
        await self._record(
            approval, "approval.expired", "system", "system", "Approval expired (missed approval)"
        )
        await self._release_case(approval.case_id)
        self.outbox.append(("expired", approval))
        await self._stop_execution(approval, ExecutionStatus.REJECTED, "approval expired")

    async def close_for_execution(self, execution_id: uuid.UUID, actor: str, reason: str) -> None:
        """Reject what is still pending for an execution that ended some other way (cancel)."""
        stmt = select(HumanApprovalModel).where(
            HumanApprovalModel.execution_id == execution_id,
            HumanApprovalModel.status == ApprovalStatus.PENDING.value,
        )
        for approval in (await self.session.scalars(stmt)).all():
            approval.status, approval.decided_by, approval.decided_at = (
                ApprovalStatus.REJECTED.value,
                actor,
                utcnow(),
            )
            approval.decision_comment = reason
            await self._record(approval, "approval.rejected", actor, "user", f"Approval closed: {reason}")
            await self._release_case(approval.case_id)
            self.outbox.append(("rejected", approval))

    async def publish(self) -> None:
        """Send the queued events (call after commit)."""
        bus = get_bus()
        for event, approval in self.outbox:
            await bus.publish(APPROVALS_STREAM, approval_event(approval, event))
            if approval.investigation_id and event in {"expired", "rejected", "approved"}:
                await bus.publish(AGENT_RESULTS_STREAM, approval_event(approval, event))
        self.outbox.clear()

    async def _stop_execution(
        self, approval: HumanApprovalModel, status: ExecutionStatus, reason: str
    ) -> None:
        if approval.execution_id is None:
            return
        execution = await self.session.get(PlaybookExecutionModel, approval.execution_id)
        if execution is not None and execution.status == ExecutionStatus.AWAITING_APPROVAL.value:
            end_without_running(self.session, execution, status, reason)
        await self.session.flush()

    async def _record(
        self,
        approval: HumanApprovalModel,
        action: str,
        actor: str,
        actor_type: str,
        details: str,
        *,
        ip: str | None = None,
    ) -> None:
        data = {
            "approval_id": str(approval.id),
            "action_type": approval.action_type,
            "status": approval.status,
        }
        if approval.execution_id:
            data["execution_id"] = str(approval.execution_id)
        await AuditService(self.session).record(
            actor, actor_type, action, "approval", str(approval.id), data, ip=ip
        )
        timeline_action = (
            "approval_requested"
            if action == "approval.requested"
            else ("approval_expired" if action == "approval.expired" else "approval_decided")
        )
        add_case_entry(self.session, approval.case_id, timeline_action, actor, details, data)

    async def _hold_case(self, case_id: uuid.UUID | None) -> None:
        case = await self.session.get(CaseModel, case_id) if case_id else None
        if case is None or case.status in _CLOSED_CASE or case.status == CaseStatus.PENDING_APPROVAL.value:
            return
        case.status_before_approval, case.status = case.status, CaseStatus.PENDING_APPROVAL.value
        _status_entry(self.session, case, case.status_before_approval, case.status)

    async def _release_case(self, case_id: uuid.UUID | None) -> None:
        case = await self.session.get(CaseModel, case_id) if case_id else None
        if case is None or case.status != CaseStatus.PENDING_APPROVAL.value:
            return
        await self.session.flush()
        pending = await self.session.scalar(
            select(func.count())
            .select_from(HumanApprovalModel)
            .where(
                HumanApprovalModel.case_id == case.id,
                HumanApprovalModel.status == ApprovalStatus.PENDING.value,
            )
        )
        if pending:
            return
        restored = case.status_before_approval or CaseStatus.IN_PROGRESS.value
        _status_entry(self.session, case, case.status, restored)
        case.status, case.status_before_approval = restored, None


def _status_entry(session: AsyncSession, case: CaseModel, old: str | None, new: str) -> None:
    data = {"from": old, "to": new, "reason": "approval"}
    add_case_entry(session, case.id, "status_changed", "system", f"Status {old} → {new}", data)


def approval_event(approval: HumanApprovalModel, event: str) -> dict[str, Any]:
    return {
        "type": f"approval.{event}",
        "approval_id": str(approval.id),
        "status": approval.status,
        "action_type": approval.action_type,
        "target": approval.target,
        "risk_level": approval.risk_level,
        "escalated": approval.escalated,
        "case_id": str(approval.case_id) if approval.case_id else None,
        "execution_id": str(approval.execution_id) if approval.execution_id else None,
        "investigation_id": str(approval.investigation_id) if approval.investigation_id else None,
        "decided_by": approval.decided_by,
        "requested_by": approval.requested_by,
        "expires_at": approval.expires_at.isoformat() if approval.expires_at else None,
    }


async def expire_due_approvals(session: AsyncSession, now: datetime | None = None) -> ApprovalService:
    """Expire every pending approval past ``expires_at`` (the scheduler's loop calls this).

    Returns the service holding the events: commit, then ``await service.publish()``.
    """
    now = now or utcnow()
    service = ApprovalService(session)
    stmt = select(HumanApprovalModel).where(
        HumanApprovalModel.status == ApprovalStatus.PENDING.value, HumanApprovalModel.expires_at < now
    )
    for approval in (await session.scalars(stmt)).all():
        await service.expire(approval)
    await session.flush()
    return service
