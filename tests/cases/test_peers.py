"""``cases.peers.find_peers`` on SQLite and PostgreSQL: the same peers, in the same order, by every branch.

SQLite runs a ``UNION ALL`` of one sub-select per alert; PostgreSQL one ``LATERAL`` join over the
look-ups passed as ``jsonb``. Both must find peers by host and user (case-insensitively), by source
address (alerts without a host), by indicator, only within the event-time window, newest first.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.cases.peers import Lookup, _lateral_lookups, _lateral_sql, find_peers
from aurorasoc.core.models import AlertModel
from aurorasoc.intel.service import index_alert_iocs

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=60)


async def stored(session: AsyncSession, minutes: int, **fields: Any) -> AlertModel:
    seen = T0 + timedelta(minutes=minutes)
    values: dict[str, Any] = {"title": "peer", "severity": "low", "source": "sigma", "iocs": []}
    alert = AlertModel(**{**values, "first_seen_at": seen, "last_seen_at": seen, **fields})
    session.add(alert)
    await session.flush()
    await index_alert_iocs(session, [alert])
    return alert


def lookup(minutes: int = 0, **fields: Any) -> Lookup:
    seen = T0 + timedelta(minutes=minutes)
    values: dict[str, Any] = {"hosts": frozenset(), "users": frozenset(), "iocs": frozenset()}
    return Lookup(alert_id=uuid.uuid4(), first_seen_at=seen, last_seen_at=seen, **{**values, **fields})


async def test_every_branch_finds_its_peers_newest_first(any_db_session: AsyncSession) -> None:
    session = any_db_session
    by_host = await stored(session, -10, host="WS-01")
    by_user = await stored(session, -5, user_name="CORP\\Alice")
    by_ioc = await stored(session, 5, iocs=["203.0.113.9"])
    by_source = await stored(session, 20, src_ip="198.51.100.7")  # no host: known by its address
    await stored(session, 21, src_ip="198.51.100.7", host="WEB-01")  # has a host: never by address
    await stored(session, -120, host="WS-01")  # outside the window
    await stored(session, 1, host="WS-01", status="resolved")  # closed

    wanted = [
        lookup(hosts=frozenset({"ws-01"}), users=frozenset({"corp\\alice"}), iocs=frozenset({"203.0.113.9"})),
        lookup(addresses=frozenset({"198.51.100.7"})),
        lookup(),  # nothing to look up by
        lookup(hosts=frozenset({"ws-01"})),
    ]
    found = await find_peers(session, wanted, WINDOW)

    assert [p.id for p in found[0]] == [by_ioc.id, by_user.id, by_host.id]
    assert [p.id for p in found[1]] == [by_source.id]
    assert found[2] == []
    assert [p.id for p in found[3]] == [by_host.id]
    assert found[0][2] is found[3][0], "a peer shared by two alerts is one object"
    assert (found[0][1].user_name, found[0][0].iocs) == ("CORP\\Alice", ["203.0.113.9"])


async def test_closed_alerts_count_when_asked_and_an_alert_is_not_its_own_peer(
    any_db_session: AsyncSession,
) -> None:
    session = any_db_session
    closed = await stored(session, 1, host="DC-01", status="resolved")
    itself = await stored(session, 0, host="DC-01")
    mine = Lookup(
        itself.id, frozenset({"dc-01"}), frozenset(), frozenset(), itself.first_seen_at, itself.last_seen_at
    )

    assert await find_peers(session, [mine], WINDOW) == [[]]
    [everything] = await find_peers(session, [mine], WINDOW, open_only=False)
    assert [p.id for p in everything] == [closed.id]


async def test_nothing_to_look_up_reads_nothing(any_db_session: AsyncSession) -> None:
    assert await find_peers(any_db_session, [lookup(), lookup()], WINDOW) == [[], []]
    assert await find_peers(any_db_session, [], WINDOW) == []


_STOCK = (  # 20,000 alerts over 14 days on 500 hosts, 2,000 indicators, one link per alert
    "INSERT INTO alerts (id, title, severity, status, source, affected_assets, iocs, mitre_techniques, "
    "metadata, entities, observables, occurrence_count, first_seen_at, last_seen_at, updated_at, "
    "created_at, host, user_name) SELECT gen_random_uuid(), 'peer', 'low', 'new', 'sigma', '[]', '[]', "
    "'[]', '{}', '{}', '[]', 1, t, t, t, t, 'HOST-' || (i % 500), 'CORP\\user' || (i % 300) "
    "FROM generate_series(1, 20000) AS i, "
    "LATERAL (SELECT '2026-02-19T12:00:00+00:00'::timestamptz + i * interval '1 minute' AS t) AS s",
    "INSERT INTO iocs (id, type, value, source, confidence, status, tags, tlp, sightings, first_seen, "
    "last_seen, updated_at, created_at) SELECT gen_random_uuid(), 'ip', "
    "'10.0.' || (i / 250) || '.' || (i % 250), 'sigma', 0.5, 'active', '[]', 'amber', 10, now(), now(), "
    "now(), now() FROM generate_series(0, 1999) AS i",
    "INSERT INTO alert_iocs (alert_id, ioc_id, last_seen_at) SELECT a.id, i.id, a.last_seen_at "
    "FROM (SELECT id, last_seen_at, row_number() OVER () % 2000 AS n FROM alerts) AS a "
    "JOIN (SELECT id, row_number() OVER () - 1 AS n FROM iocs) AS i ON i.n = a.n",
    "ANALYZE alerts",
    "ANALYZE alert_iocs",
    "ANALYZE iocs",
)


@pytest.mark.integration
async def test_postgresql_plans_the_lateral_look_up_with_indexes_for_any_batch(
    pg_session: AsyncSession,
) -> None:
    """The statement is prepared once and may be planned once for every batch (a generic plan):
    with statistics, each look-up must still go through the indexes, never a scan of ``alerts``
    or ``alert_iocs`` (the ``UNION ALL`` it replaced was planned anew per batch, ~30 ms each)."""
    driver = (await (await pg_session.connection()).get_raw_connection()).driver_connection
    await driver.execute(
        _STOCK[0].replace("$1::timestamptz", f"'{(T0 - timedelta(days=10)).isoformat()}'::timestamptz")
    )
    for sql in (*_STOCK[1:], "ANALYZE alerts", "ANALYZE alert_iocs", "ANALYZE iocs"):
        await driver.execute(sql)
    wanted = [
        (k, lookup(k, hosts=frozenset({f"host-{k}"}), users=frozenset({"corp\\user7"}),
                   iocs=frozenset({f"10.0.0.{k}"}), addresses=frozenset({"192.0.2.1"})))
        for k in range(100)
    ]  # fmt: skip
    await driver.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    statement = await driver.prepare(f"EXPLAIN {_lateral_sql(True)}")
    plan = "\n".join(row[0] for row in await statement.fetch(_lateral_lookups(wanted, WINDOW)))
    assert "Seq Scan on alerts" not in plan and "Seq Scan on alert_iocs" not in plan, plan
    assert "ix_alerts_host_lower_last_seen" in plan and "ix_alert_iocs_ioc_last_seen" in plan, plan
