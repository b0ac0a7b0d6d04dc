"""CaseService's deferred timeline (what case correlation uses): entries become rows at ``flush``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.cases.service import CaseService
from aurorasoc.core.models import AlertModel, TimelineEntryModel


async def _entries(session: AsyncSession) -> list[TimelineEntryModel]:
    stmt = select(TimelineEntryModel).order_by(TimelineEntryModel.timestamp)
    return list((await session.scalars(stmt)).all())


async def test_entries_are_written_by_the_flush_after_the_case_they_name(
    any_db_session: AsyncSession,
) -> None:
    session = any_db_session
    alert = AlertModel(title="Mimikatz on WS1", severity="high", source="sigma", iocs=["evil.example"])
    session.add(alert)
    await session.flush()
    service = CaseService(session, deferred_timeline=True)
    case = service.add(title="WS1 credential theft", severity="high", actor="correlator", alerts=[alert])
    service.record_entry(case, "alert_correlated", "correlator", "Shared indicator", {"reasons": ["é", 1]})
    pending = [o for o in session.new if isinstance(o, TimelineEntryModel)]
    assert not pending, "deferred entries are not ORM objects in the session"

    await service.flush()

    entries = await _entries(session)
    assert [e.action for e in entries] == ["case_created", "alert_linked", "alert_correlated"]
    assert {e.case_id for e in entries} == {case.id}
    assert entries[-1].data == {"reasons": ["é", 1]}
    assert entries[1].data["alert_id"] == str(alert.id)
    stamps = [e.timestamp for e in entries]
    assert stamps == sorted(set(stamps)), "timestamps strictly increase"
    await service.flush()  # nothing left to write twice
    assert len(await _entries(session)) == 3


async def test_without_deferral_entries_are_orm_objects(db_session: AsyncSession) -> None:
    service = CaseService(db_session)
    case = service.add(title="Manual case", severity="low", actor="analyst")
    assert any(isinstance(o, TimelineEntryModel) for o in db_session.new)
    await service.flush()
    assert [e.action for e in await _entries(db_session)] == ["case_created"]
    assert (await _entries(db_session))[0].case_id == case.id
