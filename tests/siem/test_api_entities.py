"""GET /entities/hosts and /entities/users: inventories from SIEM events and alerts, with risk (§13.8)."""

from __future__ import annotations

from datetime import timedelta

from conftest import TEST_START

from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AlertModel, SiemLogModel
from aurorasoc.siem.entities import risk_score

HOSTS, USERS = "/api/v1/entities/hosts", "/api/v1/entities/users"
NOW = TEST_START  # replaced by the running test's start time (tests/conftest.py)


def log(
    host: str | None,
    user: str | None,
    age: timedelta = timedelta(minutes=5),
    received_age: timedelta = timedelta(),
) -> SiemLogModel:
    return SiemLogModel(
        timestamp=NOW - age, received_at=NOW - received_age, source="t", format="json", host=host,
        user_name=user, severity="info", fields={},
    )  # fmt: skip


def alert(n: int, severity: str, assets: list[str], status: str = "new", techniques=()) -> AlertModel:
    return AlertModel(
        title=f"alert {n}", severity=severity, status=status, source="windows", affected_assets=assets,
        mitre_techniques=list(techniques), dedup_hash=f"h{n}", first_seen_at=NOW, last_seen_at=NOW,
    )  # fmt: skip


async def seed() -> None:
    async with session_scope() as session:
        session.add_all(
            [
                log("ws01", "alice"),
                log("ws01", "alice"),
                log("ws02", "bob"),
                log("old", None, timedelta(days=9), received_age=timedelta(days=9)),
                # last year's evidence imported today is current work (spec §27.1 keeps its event time)
                log("imported", "carol", timedelta(days=400)),
            ]
        )
        session.add_all(
            [
                alert(1, "critical", ["host:ws01", "user:alice"], techniques=["T1003.001"]),
                alert(2, "high", ["host:ws01"], techniques=["T1003.001", "T1059.001"]),
                alert(3, "high", ["host:ws02"], status="resolved"),
                alert(4, "medium", ["host:srv9"]),
            ]
        )


def test_risk_is_a_capped_sum_of_severity_weights() -> None:
    assert risk_score(["critical", "high", "medium", "low", "info"]) == 70
    assert risk_score(["critical"] * 3) == 100
    assert risk_score([]) == 0


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


async def test_inventories_need_siem_read(client, role_headers) -> None:
    assert (await client.get(HOSTS)).status_code == 401
    assert (await client.get(USERS, headers=role_headers["viewer"])).status_code == 403
