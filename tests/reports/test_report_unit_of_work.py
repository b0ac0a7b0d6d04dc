"""ReportService owns its unit of work: a report is stored, audited, committed; a preview stores nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.cases.service import CaseService
from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import NotFound
from aurorasoc.core.models import AuditLogModel, ReportModel
from aurorasoc.reports.service import ReportService

ANALYST = Actor("analyst", "user", "198.51.100.81")


async def _reports(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(ReportModel)) or 0)


async def test_preview_matches_and_the_report_is_audited(any_db_session: AsyncSession) -> None:
    case = await CaseService(any_db_session).create(title="Ransomware", severity="critical", actor="ana")
    await any_db_session.commit()
    service = ReportService(any_db_session)
    preview = await service.create_report(case.id, "executive", actor=ANALYST, preview=True)
    assert await _reports(any_db_session) == 0
    report = await service.create_report(case.id, "executive", actor=ANALYST)
    assert not any_db_session.in_transaction() and await _reports(any_db_session) == 1
    assert (preview.title, preview.generated_by) == (report.title, report.generated_by) == (
        "Executive report: Ransomware", "analyst",
    )  # fmt: skip
    audit = (await any_db_session.scalars(select(AuditLogModel))).all()
    assert [(a.actor, a.ip, a.action, a.resource_id, a.details) for a in audit] == [
        ("analyst", "198.51.100.81", "report.generate", str(report.id),
         {"case_id": str(case.id), "report_type": "executive"}),
    ]  # fmt: skip


async def test_unknown_case_writes_nothing(any_db_session: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await ReportService(any_db_session).create_report(uuid.uuid4(), "technical", actor=ANALYST)
    assert await _reports(any_db_session) == 0
    assert (await any_db_session.scalars(select(AuditLogModel))).all() == []
