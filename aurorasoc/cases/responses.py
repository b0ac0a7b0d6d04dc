"""What response work hangs off a case: its approvals and playbook executions, newest first."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.soar.models import HumanApprovalModel, PlaybookExecutionModel

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
