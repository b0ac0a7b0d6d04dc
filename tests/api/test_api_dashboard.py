"""Tests for GET /api/v1/dashboard/stats and for serving the built console (spec §10, §24.1)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aurorasoc.api import static
from aurorasoc.core import runtime
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AlertModel, CaseModel
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import RuntimeMode

URL = "/api/v1/dashboard/stats"


def _alert(title: str, severity: str, status: str, age: timedelta = timedelta()) -> AlertModel:
    seen = utcnow() - age
    return AlertModel(
        title=title, severity=severity, status=status, source="t", first_seen_at=seen, last_seen_at=seen
    )


async def _seed() -> None:
    async with session_scope() as session:
        session.add_all(
            [
                _alert("a", "critical", "new"),
                _alert("b", "high", "triaged"),
                _alert("c", "high", "new", timedelta(hours=3)),
                _alert("d", "low", "resolved"),
                _alert("old", "medium", "new", timedelta(days=2)),
                CaseModel(title="open", severity="high", status="in_progress"),
                CaseModel(title="done", severity="low", status="closed"),
            ]
        )


class TestStats:
    async def test_open_alert_counts_exclude_resolved(self, client, admin_headers):
        await _seed()
        body = (await client.get(URL, headers=admin_headers)).json()
        assert body["open_alerts"] == {"critical": 1, "high": 2, "medium": 1, "low": 0, "info": 0}
        assert body["open_alerts_total"] == 4
        assert body["open_cases"] == 1

    async def test_trend_buckets_the_last_24_hours_by_severity(self, client, admin_headers):
        await _seed()
        trend = (await client.get(URL, headers=admin_headers)).json()["trend"]
        assert len(trend) == 24
        assert trend[-1]["counts"]["critical"] == 1 and trend[-1]["counts"]["low"] == 1
        assert trend[-4]["counts"]["high"] == 1
        assert sum(sum(p["counts"].values()) for p in trend) == 4  # the 2-day-old alert is outside

    async def test_recent_alerts_newest_first_at_most_ten(self, client, admin_headers):
        await _seed()
        recent = (await client.get(URL, headers=admin_headers)).json()["recent_alerts"]
        assert [a["title"] for a in recent][-1] == "old"
        assert len(recent) == 5

    async def test_trend_and_recent_alerts_are_in_event_time(self, client, admin_headers):
        """Alerts stored this minute from logs of two years ago are not today's activity."""
        async with session_scope() as session:
            session.add_all(
                [_alert("imported", "high", "new", timedelta(days=730)), _alert("live", "low", "new")]
            )
        body = (await client.get(URL, headers=admin_headers)).json()
        assert sum(sum(p["counts"].values()) for p in body["trend"]) == 1
        assert [a["title"] for a in body["recent_alerts"]] == ["live", "imported"]

    async def test_every_section_has_data_behind_it(self, client, admin_headers):
        body = (await client.get(URL, headers=admin_headers)).json()
        assert body["top_network_attacks"] == []  # none correlated yet (tests/test_network_attacks.py)
        assert body["unavailable_sections"] == []
        assert body["data_source"] == "database"

    async def test_viewer_reads_api_service_is_forbidden(self, client, role_headers):
        assert (await client.get(URL, headers=role_headers["viewer"])).status_code == 200
        assert (await client.get(URL, headers=role_headers["api_service"])).status_code == 403

    async def test_database_down_is_503_in_real_and_showcase_in_dummy(
        self, client, admin_headers, monkeypatch
    ):
        async def down(*_args, **_kwargs) -> bool:
            return False

        monkeypatch.setattr("aurorasoc.core.web.deps.probe_database", down)
        assert (await client.get(URL, headers=admin_headers)).status_code == 503
        runtime.set_mode(RuntimeMode.DUMMY)
        resp = await client.get(URL, headers=admin_headers)
        assert resp.json()["data_source"] == "showcase"
        assert resp.json()["open_alerts_total"] > 0


@pytest.fixture
def built_console(tmp_path, monkeypatch):
    web = tmp_path / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text("<!doctype html><div id=root></div>")
    (web / "assets" / "index-abc123.js").write_text("console.log(1)")
    monkeypatch.setattr(static, "WEB_DIR", web)
    return web


@pytest.fixture
def no_build(tmp_path, monkeypatch):
    """Requested before ``client``: the app reads the web dir when it is created."""
    monkeypatch.setattr(static, "WEB_DIR", tmp_path / "no-build")


class TestConsoleServing:
    async def test_without_build_root_says_not_built(self, no_build, client):
        resp = await client.get("/")
        assert resp.status_code == 200 and "not built" in resp.text

    @pytest.mark.parametrize("path", ["/", "/alerts/7f0c", "/settings"])
    async def test_client_routes_get_index_without_cache(self, built_console, client, path):
        resp = await client.get(path)
        assert resp.text.startswith("<!doctype html>")
        assert resp.headers["cache-control"] == "no-cache"

    async def test_hashed_assets_are_immutable(self, built_console, client):
        resp = await client.get("/assets/index-abc123.js")
        assert resp.status_code == 200
        assert "immutable" in resp.headers["cache-control"]

    async def test_api_and_other_methods_keep_their_errors(self, built_console, client):
        assert (await client.get("/api/v1/nope")).status_code == 404
        assert (await client.post("/nope")).status_code == 404
        assert (await client.get("/assets/missing.js")).status_code == 404
        assert (await client.get("/health")).json()["status"] == "ok"
