"""InvestigationService.override owns its unit of work: step, case timeline entry, audit row, commit."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.agents.investigations import InvestigationService
from aurorasoc.agents.models import InvestigationEventModel, InvestigationModel
from aurorasoc.cases.service import CaseService
from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import Conflict
from aurorasoc.core.models import AuditLogModel, TimelineEntryModel

LEAD = Actor("lead", "user", "198.51.100.82")


async def _investigation(session: AsyncSession, status: str) -> InvestigationModel:
    case = await CaseService(session).create(title="Phish", severity="medium", actor="ana")
    row = InvestigationModel(task_id=uuid.uuid4().hex, agent="orchestrator", prompt="look",
                             requested_by="ana", case_id=case.id, status=status)  # fmt: skip
    session.add(row)
    await session.commit()
    return row


async def test_override_is_recorded_audited_and_committed(any_db_session: AsyncSession) -> None:
    row = await _investigation(any_db_session, "completed")
    settled = await InvestigationService(any_db_session).override(row.id, "failed", "wrong host", actor=LEAD)
    assert not any_db_session.in_transaction() and settled.status == "failed"
    events = (await any_db_session.scalars(select(InvestigationEventModel.event_type))).all()
    assert list(events) == ["operator_override"]
    timeline = (await any_db_session.scalars(select(TimelineEntryModel.action))).all()
    assert "agent_override" in timeline
    audit = (await any_db_session.scalars(select(AuditLogModel))).all()
    assert [(a.actor, a.ip, a.action, a.resource_id, a.details) for a in audit] == [
        ("lead", "198.51.100.82", "investigation.override", str(row.id),
         {"from": "completed", "to": "failed", "note": "wrong host"}),
    ]  # fmt: skip


async def test_a_running_investigation_is_left_alone(any_db_session: AsyncSession) -> None:
    row = await _investigation(any_db_session, "running")
    with pytest.raises(Conflict):
        await InvestigationService(any_db_session).override(row.id, "failed", "too slow", actor=LEAD)
    await any_db_session.rollback()
    assert (await any_db_session.scalars(select(AuditLogModel))).all() == []
    assert (await any_db_session.scalars(select(InvestigationEventModel))).all() == []
