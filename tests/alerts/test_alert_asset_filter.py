"""``GET /alerts?asset=host:NAME``: the alerts that name one asset (UEBA and Endpoints link here)."""

from __future__ import annotations

import pytest

from aurorasoc.alerts.filters import AlertFilters
from aurorasoc.alerts.service import AlertService
from aurorasoc.core.models import AlertModel


def _alert(title: str, assets: list[str]) -> AlertModel:
    return AlertModel(
        title=title, severity="high", source="windows", affected_assets=assets, dedup_hash=title
    )


async def test_exact_asset_match_on_both_databases(any_db_session):
    any_db_session.add_all(
        [
            _alert("dc logon", ["host:WIN_DC01", "user:alice"]),
            _alert("lookalike", ["host:WINXDC01"]),  # '_' must not act as a wildcard
            _alert("prefix", ["host:WIN_DC011"]),
            _alert("alice elsewhere", ["user:alice"]),
        ]
    )
    await any_db_session.flush()
    service = AlertService(any_db_session)
    page = await service.list(AlertFilters(asset="host:WIN_DC01"), skip=0, limit=50)
    assert page.total == 1 and [a.title for a in page.items] == ["dc logon"]
    page = await service.list(AlertFilters(asset="user:alice", sort="title"), skip=0, limit=50)
    assert [a.title for a in page.items] == ["alice elsewhere", "dc logon"]


@pytest.mark.parametrize("bad", ["WIN-DC01", "host:", 'host:a"b', "disk:c"])
async def test_a_malformed_asset_is_422(client, admin_headers, bad):
    resp = await client.get("/api/v1/alerts", params={"asset": bad}, headers=admin_headers)
    assert resp.status_code == 422


async def test_route_filters_by_asset(client, admin_headers):
    for title, assets in (("a", ["host:ws-7"]), ("b", ["host:ws-8"])):
        body = {"title": title, "severity": "low", "source": "edr", "affected_assets": assets}
        assert (await client.post("/api/v1/alerts", json=body, headers=admin_headers)).status_code == 201
    resp = await client.get("/api/v1/alerts", params={"asset": "host:ws-8"}, headers=admin_headers)
    assert [a["title"] for a in resp.json()["items"]] == ["b"]


async def test_a_non_ascii_asset_is_found(any_db_session):
    """JSON columns are stored as UTF-8 text: on SQLite the stdlib's ``\\u00e9`` escapes once kept
    ``user:josé`` from matching its own alerts."""
    any_db_session.add_all([_alert("josé", ["user:josé", "host:büro-pc"]), _alert("jose", ["user:jose"])])
    await any_db_session.flush()
    service = AlertService(any_db_session)
    for asset in ("user:josé", "host:büro-pc"):
        page = await service.list(AlertFilters(asset=asset), skip=0, limit=50)
        assert [a.title for a in page.items] == ["josé"]
