"""A batch of alerts is correlated in one pass (spec §28): an alert sees the cases the alerts
before it in the same batch joined or opened. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.service import AlertService
from aurorasoc.cases.correlation import CaseCorrelator
from aurorasoc.core.models import AlertModel, CaseModel
from aurorasoc.core.vocabulary import AlertCreate
from aurorasoc.intel.service import index_alert_iocs


async def stored(session: AsyncSession, **fields: Any) -> AlertModel:
    values: dict[str, Any] = {"title": "alert", "severity": "critical", "source": "edr", "iocs": []}
    alert = AlertModel(**{**values, **fields})
    session.add(alert)
    await session.flush()
    await index_alert_iocs(session, [alert])
    return alert


async def case_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(CaseModel)) or 0)


async def test_alerts_of_one_batch_sharing_a_host_land_in_one_case(any_db_session: AsyncSession) -> None:
    session = any_db_session
    first = await stored(session, host="WS-7", affected_assets=["host:WS-7"])
    second = await stored(session, host="ws-7", affected_assets=["host:ws-7"])
    elsewhere = await stored(session, host="WS-8", affected_assets=["host:WS-8"])

    results = await CaseCorrelator(session).correlate_many([first, second, elsewhere])

    assert results[0].created and results[0].linked_alert_ids == [first.id, second.id]
    assert results[1].skipped == "already_in_case" and results[1].case_id == results[0].case_id
    assert results[2].created and results[2].case_id != results[0].case_id
    assert first.case_id == second.case_id == results[0].case_id
    assert await case_count(session) == 2


async def test_a_later_alert_of_the_batch_joins_the_case_an_earlier_one_opened(
    any_db_session: AsyncSession,
) -> None:
    session = any_db_session
    opener = await stored(session, iocs=["evil.example"])
    follower = await stored(session, iocs=["evil.example"], severity="low")
    results = await CaseCorrelator(session).correlate_many([opener])
    late = await stored(session, iocs=["evil.example"], severity="low")

    [already, joined] = await CaseCorrelator(session).correlate_many([follower, late])

    assert already.skipped == "already_in_case" and already.case_id == results[0].case_id
    assert joined.case_id == results[0].case_id and not joined.created
    assert [r.kind for r in joined.reasons] == ["shared_ioc"]
    assert await case_count(session) == 1


async def test_a_batch_joining_cases_costs_statements_per_batch_not_per_alert(
    any_db_session: AsyncSession,
) -> None:
    """Links are written in one flush: 30 alerts joining two existing cases take a handful of
    statements (a flush per link took three or more each)."""
    session = any_db_session
    openers = [await stored(session, host=h, affected_assets=[f"host:{h}"]) for h in ("WS-1", "WS-2")]
    await CaseCorrelator(session).correlate_many(openers)
    hosts = ["WS-1", "WS-2"] * 15
    batch = [await stored(session, host=h, affected_assets=[f"host:{h}"], severity="low") for h in hosts]
    statements: list[str] = []
    engine = session.get_bind().engine  # type: ignore[union-attr]

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        results = await CaseCorrelator(session).correlate_many(batch)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert [r.case_id for r in results] == [openers[i % 2].case_id for i in range(30)]
    assert len(statements) < 15, statements


async def test_an_alert_with_nothing_to_look_up_by_leaves_the_batch_intact(
    any_db_session: AsyncSession,
) -> None:
    """Seen on the EVTX samples: such an alert in a batch made the peer statement invalid, and the
    whole batch was redelivered alert by alert."""
    session = any_db_session
    first = await stored(session, host="WS-9", affected_assets=["host:WS-9"])
    bare = await stored(session)  # no host, user or indicator
    second = await stored(session, host="WS-9", affected_assets=["host:WS-9"])

    results = await CaseCorrelator(session).correlate_many([first, bare, second])

    assert results[0].created and first.case_id == second.case_id == results[0].case_id
    assert bare.case_id != first.case_id  # a critical alert opens its own case, apart from WS-9


async def test_the_batch_claim_looks_alerts_up_by_id_not_by_the_case_index(db_session: AsyncSession) -> None:
    """SQLite has no statistics here: given ``id IN (many) AND case_id IS NULL`` its planner read
    every un-cased alert through the ``case_id`` index (~1 s a batch at 1M alerts). The claim of a
    batch is planned as primary-key look-ups."""
    session = db_session
    batch = [await stored(session, host=f"WS-{n}", affected_assets=[f"host:WS-{n}"]) for n in range(40)]
    claims: list[tuple[str, Any]] = []
    engine = session.get_bind().engine  # type: ignore[union-attr]

    def keep(_conn: object, _cursor: object, statement: str, parameters: Any, *_rest: object) -> None:
        if statement.startswith("UPDATE alerts SET case_id") and "IN (SELECT" in statement:
            claims.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        await CaseCorrelator(session).correlate_many(batch)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    statement, parameters = claims[0]
    connection = await session.connection()
    plan = (await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)).all()
    details = [str(row[-1]) for row in plan]
    assert not any("ix_alerts_case_id" in line for line in details), details
    assert sum("sqlite_autoindex_alerts_1" in line for line in details) == 2, details


async def test_a_client_address_is_looked_up_through_its_index(db_session: AsyncSession) -> None:
    """Alerts that name no host are correlated by source address, reading only those seen since the
    window opens (``src_ip, last_seen_at``), never every alert a busy scanner's address ever raised."""
    session = db_session
    probes = [await stored(session, src_ip="192.168.105.64") for _ in range(3)]
    lookups: list[tuple[str, Any]] = []
    engine = session.get_bind().engine  # type: ignore[union-attr]

    def keep(_conn: object, _cursor: object, statement: str, parameters: Any, *_rest: object) -> None:
        if "src_ip IN" in statement:
            lookups.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        results = await CaseCorrelator(session).correlate_many(probes)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert {r.case_id for r in results} == {probes[0].case_id} and probes[0].case_id is not None
    statement, parameters = lookups[0]
    connection = await session.connection()
    plan = (await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)).all()
    details = [str(row[-1]) for row in plan]
    assert any("ix_alerts_src_ip_last_seen (src_ip=? AND last_seen_at>?)" in line for line in details), (
        details
    )


def _sighting(title: str, host: str, seen: datetime) -> AlertCreate:
    return AlertCreate.model_validate(
        {
            "title": title,
            "source": "edr",
            "severity": "critical",
            "iocs": ["c2-77.badness.ru"],
            "entities": {"host.name": host},
            "first_seen_at": seen,
            "last_seen_at": seen,
        }
    )


@pytest.mark.parametrize("extended", [False, True])
async def test_an_indicator_links_alerts_within_the_window_of_their_latest_event(
    any_db_session: AsyncSession, extended: bool
) -> None:
    """Links carry their alert's event time and are read within the window only (bounded at any
    store size); a repeat that extends an old alert to now moves its links along, so a new alert
    sharing the indicator still finds it."""
    session, start = any_db_session, datetime(2026, 3, 1, tzinfo=UTC)
    later = start + timedelta(hours=20)  # the same day (one alert), far outside the 60-minute window
    service = AlertService(session)
    [(old, _)] = await service.create_many([_sighting("Beacon", "WS-1", start)])
    if extended:  # the same detection on the same host again, 20 hours later: a repeat
        [(again, created)] = await service.create_many([_sighting("Beacon", "WS-1", later)])
        assert (again.id, created, again.last_seen_at) == (old.id, False, later)
    [(new, _)] = await service.create_many([_sighting("DNS tunnel", "WS-2", later + timedelta(minutes=5))])
    [result] = await CaseCorrelator(session).correlate_many([new])
    assert (old.id in result.linked_alert_ids) is extended, result
