"""Correlation never moves an alert an analyst placed in a case while the pipeline worked on it.

The race is reproduced without threads: the correlator's session holds the alert as it read it
(no case), and the analyst's link is written to the row behind that session's back, as another
transaction committing in between would leave it. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.cases.correlation import CaseCorrelator
from aurorasoc.cases.peers import Lookup, Peer
from aurorasoc.core.models import AlertModel, CaseModel, TimelineEntryModel
from aurorasoc.intel.service import index_alert_iocs


async def stored_alert(session: AsyncSession, **fields: Any) -> AlertModel:
    values: dict[str, Any] = {"title": "alert", "severity": "low", "source": "sigma", "iocs": ["bad.example"]}
    alert = AlertModel(**{**values, **fields})
    session.add(alert)
    await session.flush()
    await index_alert_iocs(session, [alert])
    return alert


async def new_case(session: AsyncSession, title: str) -> CaseModel:
    case = CaseModel(title=title, severity="low")
    session.add(case)
    await session.flush()
    return case


async def link_behind_the_session(session: AsyncSession, alert: AlertModel | Peer, case: CaseModel) -> None:
    """What an analyst's promotion or manual link, committed meanwhile, leaves in the row."""
    stmt = update(AlertModel).where(AlertModel.id == alert.id).values(case_id=case.id)
    await session.execute(stmt.execution_options(synchronize_session=False))


async def case_of(session: AsyncSession, alert_id: uuid.UUID) -> uuid.UUID | None:
    return await session.scalar(select(AlertModel.case_id).where(AlertModel.id == alert_id))


async def cases(session: AsyncSession) -> set[str]:
    return set((await session.scalars(select(CaseModel.title))).all())


async def test_a_matching_case_does_not_take_an_alert_the_analyst_placed(
    any_db_session: AsyncSession,
) -> None:
    session = any_db_session
    correlated = await new_case(session, "correlated")
    peer = await stored_alert(session, case_id=correlated.id)
    alert = await stored_alert(session)
    analyst = await new_case(session, "analyst")
    await link_behind_the_session(session, alert, analyst)
    assert alert.case_id is None  # what the correlator read

    result = await CaseCorrelator(session).correlate(alert)

    assert (result.skipped, result.case_id) == ("already_in_case", analyst.id)
    assert await case_of(session, alert.id) == analyst.id
    assert await case_of(session, peer.id) == correlated.id
    linked = select(TimelineEntryModel).where(TimelineEntryModel.case_id == correlated.id)
    assert (await session.scalars(linked)).all() == []


async def test_no_case_is_opened_for_an_alert_the_analyst_placed(any_db_session: AsyncSession) -> None:
    session = any_db_session
    alert = await stored_alert(session, severity="critical")
    analyst = await new_case(session, "analyst")
    await link_behind_the_session(session, alert, analyst)

    result = await CaseCorrelator(session).correlate(alert)

    assert (result.skipped, result.created) == ("already_in_case", False)
    assert await case_of(session, alert.id) == analyst.id
    assert await cases(session) == {"analyst"}


def link_after_peer_lookup(monkeypatch: pytest.MonkeyPatch, case: CaseModel) -> None:
    """The analyst links the peers right after the correlator has read them (still un-cased)."""
    lookup = CaseCorrelator._peers

    async def peers_then_link(self: CaseCorrelator, lookups: list[Lookup]) -> list[list[Peer]]:
        found = await lookup(self, lookups)
        for peer in [p for mine in found for p in mine]:
            await link_behind_the_session(self.session, peer, case)
        return found

    monkeypatch.setattr(CaseCorrelator, "_peers", peers_then_link)


async def test_a_peer_the_analyst_placed_is_left_where_it_is(
    any_db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = any_db_session
    peer = await stored_alert(session)
    alert = await stored_alert(session, severity="critical")
    link_after_peer_lookup(monkeypatch, analyst := await new_case(session, "analyst"))

    result = await CaseCorrelator(session).correlate(alert)

    assert result.created and result.linked_alert_ids == [alert.id] and result.reasons == []
    assert await case_of(session, alert.id) == result.case_id
    assert await case_of(session, peer.id) == analyst.id


async def test_a_low_alert_whose_only_peer_was_placed_opens_nothing(
    any_db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = any_db_session
    peer = await stored_alert(session)
    alert = await stored_alert(session)
    link_after_peer_lookup(monkeypatch, analyst := await new_case(session, "analyst"))

    result = await CaseCorrelator(session).correlate(alert)

    assert result.skipped == "no_match"
    assert await case_of(session, alert.id) is None
    assert await case_of(session, peer.id) == analyst.id
    assert await cases(session) == {"analyst"}
