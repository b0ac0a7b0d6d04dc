"""GET /entities/hosts and /entities/users: inventories from SIEM events and alerts, with risk (§13.8)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from conftest import TEST_START

from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AlertModel
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.entities import SEVERITY_WEIGHT, risk_score
from aurorasoc.siem.pipeline import DetectionPipeline

HOSTS, USERS = "/api/v1/entities/hosts", "/api/v1/entities/users"
NOW = TEST_START  # replaced by the running test's start time (tests/conftest.py)
_SEQUENCE = itertools.count()


def log(
    host: str | None,
    user: str | None,
    age: timedelta = timedelta(minutes=5),
    received_age: timedelta = timedelta(),
) -> NormalizedEvent:
    return NormalizedEvent(
        timestamp=NOW - age, received_at=NOW - received_age, source="t", format="json", host=host,
        user_name=user, fields={"seq": next(_SEQUENCE)}, time_source="record",
    )  # fmt: skip


async def store(*events: NormalizedEvent) -> None:
    """Through the detection pipeline, as every stored event is (no rules: no alerts)."""
    result = await DetectionPipeline(SigmaEngine()).process(events)
    assert result.events == len(events)


def alert(n: int, severity: str, assets: list[str], status: str = "new", techniques=()) -> AlertModel:
    named = dict(asset.split(":", 1) for asset in assets)  # the entity columns AlertService fills
    return AlertModel(
        title=f"alert {n}", severity=severity, status=status, source="windows", affected_assets=assets,
        host=named.get("host"), user_name=named.get("user"),
        mitre_techniques=list(techniques), dedup_hash=f"h{n}", first_seen_at=NOW, last_seen_at=NOW,
    )  # fmt: skip


async def seed() -> None:
    await store(
        log("ws01", "alice"),
        log("ws01", "alice"),
        log("ws02", "bob"),
        log("old", None, timedelta(days=9), received_age=timedelta(days=9)),
        # last year's evidence imported today is current work (spec §27.1 keeps its event time)
        log("imported", "carol", timedelta(days=400)),
    )
    async with session_scope() as session:
        session.add_all(
            [
                alert(1, "critical", ["host:ws01", "user:alice"], techniques=["T1003.001"]),
                alert(2, "high", ["host:ws01"], techniques=["T1003.001", "T1059.001"]),
                alert(3, "high", ["host:ws02"], status="resolved"),
                alert(4, "medium", ["host:srv9"]),
            ]
        )


def test_risk_is_a_capped_sum_of_severity_weights() -> None:
    def weight(*severities: str) -> int:
        return sum(SEVERITY_WEIGHT[s] for s in severities)

    assert risk_score(weight("critical", "high", "medium", "low", "info")) == 70
    assert risk_score(weight("critical", "critical", "critical")) == 100
    assert risk_score(weight()) == 0


async def test_hosts_are_ranked_by_risk_of_their_open_alerts(client, role_headers) -> None:
    await seed()
    body = (await client.get(HOSTS, headers=role_headers["analyst"])).json()
    hosts = {h["name"]: h for h in body["items"]}
    assert [h["name"] for h in body["items"]][:2] == ["ws01", "srv9"]
    assert body["total"] == 4 and "old" not in hosts  # happened or ingested in the last 7 days
    assert (
        hosts["imported"]["event_count"] == 1 and hosts["imported"]["last_seen"] < hosts["ws01"]["last_seen"]
    )
    assert (hosts["ws01"]["risk"], hosts["ws01"]["event_count"], hosts["ws01"]["alert_count"]) == (60, 2, 2)
    assert hosts["ws01"]["top_techniques"][0] == "T1003.001"
    assert (hosts["ws02"]["risk"], hosts["ws02"]["open_alert_count"], hosts["ws02"]["alert_count"]) == (
        0,
        0,
        1,
    )
    assert hosts["srv9"]["event_count"] == 0 and hosts["srv9"]["risk"] == 8


async def test_users_inventory_filters_and_pages(client, role_headers) -> None:
    await seed()
    users = (await client.get(USERS, headers=role_headers["analyst"])).json()
    only = (await client.get(USERS, params={"q": "ALI"}, headers=role_headers["analyst"])).json()
    paged = (await client.get(HOSTS, params={"limit": 1, "skip": 1}, headers=role_headers["analyst"])).json()
    assert [u["name"] for u in users["items"]] == ["alice", "bob", "carol"]
    assert users["items"][0]["risk"] == 40 and users["items"][0]["kind"] == "user"
    assert [u["name"] for u in only["items"]] == ["alice"]
    assert paged["total"] == 4 and [h["name"] for h in paged["items"]] == ["srv9"]


async def test_entities_at_the_cap_rank_by_their_whole_open_alert_load(client, role_headers) -> None:
    """Risk stops at 100; of two users there, the one with more open alerts comes first even when
    the other was seen later (221 open alerts and 6 both read 100 on the EVTX import)."""
    async with session_scope() as session:
        busy = [alert(n, "critical", ["user:busy"]) for n in range(6)]
        for row in busy:
            row.last_seen_at = NOW - timedelta(hours=1)
        session.add_all([*busy, *(alert(10 + n, "critical", ["user:recent"]) for n in range(3))])
    body = (await client.get(USERS, headers=role_headers["analyst"])).json()
    ranked = [(u["name"], u["risk"], u["open_alert_count"]) for u in body["items"]]
    assert ranked == [("busy", 100, 6), ("recent", 100, 3)]


async def test_built_in_and_machine_accounts_are_marked(client, role_headers) -> None:
    names = ("NT AUTHORITY\\SYSTEM", "CORP\\WS01$", "CORP\\alice")
    await store(*(log("ws01", name) for name in names))
    body = (await client.get(USERS, headers=role_headers["analyst"])).json()
    marked = {u["name"]: u["service_account"] for u in body["items"]}
    assert marked == {"NT AUTHORITY\\SYSTEM": True, "CORP\\WS01$": True, "CORP\\alice": False}


async def test_inventories_need_siem_read(client, role_headers) -> None:
    assert (await client.get(HOSTS)).status_code == 401
    assert (await client.get(USERS, headers=role_headers["viewer"])).status_code == 403
