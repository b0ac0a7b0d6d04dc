"""What response work hangs off a case: its approvals and playbook executions, for the case page
(newest first) and for the case snapshot (oldest first, with the connector calls made under them)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.cases.snapshot import iso
from aurorasoc.soar.models import ConnectorActionModel, HumanApprovalModel, PlaybookExecutionModel

CASE_SECTION_LIMIT = 100


async def case_responses(
    session: AsyncSession, case_id: uuid.UUID
) -> tuple[Sequence[HumanApprovalModel], Sequence[PlaybookExecutionModel]]:
    approvals = await session.scalars(
        select(HumanApprovalModel)
        .where(HumanApprovalModel.case_id == case_id)
        .order_by(HumanApprovalModel.created_at.desc())
        .limit(CASE_SECTION_LIMIT)
    )
    executions = await session.scalars(
        select(PlaybookExecutionModel)
        .where(PlaybookExecutionModel.case_id == case_id)
        .order_by(PlaybookExecutionModel.created_at.desc())
        .limit(CASE_SECTION_LIMIT)
    )
    return approvals.all(), executions.all()


async def case_response_snapshot(
    session: AsyncSession, case_id: uuid.UUID
) -> dict[str, list[dict[str, Any]]]:
    """The case snapshot's response section: approvals, playbook runs and the connector calls made
    under them (registered as an ``aurorasoc.case_snapshot`` entry point)."""
    approvals = (
        await session.scalars(
            select(HumanApprovalModel)
            .where(HumanApprovalModel.case_id == case_id)
            .order_by(HumanApprovalModel.created_at)
        )
    ).all()
    executions = (
        await session.scalars(
            select(PlaybookExecutionModel)
            .where(PlaybookExecutionModel.case_id == case_id, PlaybookExecutionModel.preview.is_(False))
            .order_by(PlaybookExecutionModel.created_at)
        )
    ).all()
    linked = [ConnectorActionModel.execution_id.in_([e.id for e in executions])]
    linked.append(ConnectorActionModel.approval_id.in_([a.id for a in approvals]))
    calls = (
        await session.scalars(select(ConnectorActionModel).where(or_(*linked)).order_by("created_at"))
    ).all()
    return {
        "approvals": [
            {"action_type": a.action_type, "target": a.target, "status": a.status,
             "requested_by": a.requested_by, "requested_at": iso(a.created_at),
             "decided_by": a.decided_by, "decided_at": iso(a.decided_at),
             "comment": a.decision_comment, "risk_level": a.risk_level}
            for a in approvals
        ],
        "executions": [
            {"playbook": e.playbook_name, "version": e.playbook_version, "status": e.status,
             "triggered_by": e.triggered_by, "started_at": iso(e.started_at),
             "finished_at": iso(e.finished_at)}
            for e in executions
        ],
        "connector_actions": [
            {"connector": c.connector, "action": c.action, "target": c.target, "status": c.status,
             "simulated": c.simulated, "actor": c.actor, "at": iso(c.created_at)}
            for c in calls
        ],
    }  # fmt: skip
