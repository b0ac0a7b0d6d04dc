"""Tests for GET /audit and the audit entries written by auth and user routes (spec §10, §22)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest.mock import AsyncMock

import pytest
from conftest import TEST_PASSWORD
from httpx import AsyncClient

from aurorasoc.core import runtime
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AuditLogModel
from aurorasoc.core.vocabulary import RuntimeMode

AUDIT = "/api/v1/audit"


async def _entries(client: AsyncClient, headers: dict[str, str], **params: str) -> list[dict]:
    resp = await client.get(AUDIT, params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


class TestAuditTrail:
    async def test_login_success_and_failure_are_recorded_without_passwords(
        self, client, role_headers, admin_headers
    ):
        await client.post("/api/v1/auth/token", json={"username": "viewer", "password": TEST_PASSWORD})
        await client.post("/api/v1/auth/token", json={"username": "viewer", "password": "guessing-wrong"})
        logins = await _entries(client, admin_headers, actor="viewer", action="auth.login")
        failures = await _entries(client, admin_headers, action="auth.login_failed")
        assert len(logins) == 1 and logins[0]["ip"] == "127.0.0.1" and logins[0]["mode"] == "real"
        assert [f["details"]["reason"] for f in failures] == ["bad_password"]
        everything = (await client.get(AUDIT, headers=admin_headers)).text
        assert TEST_PASSWORD not in everything and "guessing-wrong" not in everything

    async def test_logout_is_recorded(self, client, role_headers, admin_headers):
        await client.post("/api/v1/auth/logout", headers=role_headers["analyst"])
        entries = await _entries(client, admin_headers, action="auth.logout")
        assert [(e["actor"], e["resource_id"]) for e in entries] == [("analyst", "analyst")]

    async def test_user_changes_carry_before_and_after(self, client, admin_headers):
        body = {"username": "eve", "password": TEST_PASSWORD, "role": "viewer"}
        await client.post("/api/v1/users", json=body, headers=admin_headers)
        await client.patch("/api/v1/users/eve", json={"role": "analyst"}, headers=admin_headers)
        await client.delete("/api/v1/users/eve", headers=admin_headers)
        entries = await _entries(client, admin_headers, resource_type="user", resource_id="eve")
        assert [e["action"] for e in entries] == ["user.delete", "user.update", "user.create"]
        delete, update, create = entries
        assert create["details"]["after"]["role"] == "viewer" and create["actor"] == "admin"
        assert (update["details"]["before"]["role"], update["details"]["after"]["role"]) == (
            "viewer",
            "analyst",
        )
        assert delete["details"]["before"]["role"] == "analyst"

    async def test_api_key_events_are_recorded(self, client, admin_headers):
        key = await client.post("/api/v1/auth/api-keys", json={"service_name": "fwd"}, headers=admin_headers)
        key_id = key.json()["id"]
        await client.delete(f"/api/v1/auth/api-keys/{key_id}", headers=admin_headers)
        entries = await _entries(client, admin_headers, resource_type="api_key", resource_id=key_id)
        assert [e["action"] for e in entries] == ["apikey.revoke", "apikey.create"]
        assert key.json()["api_key"] not in str(entries)


async def _seed(count: int) -> datetime:
    """``count`` entries one minute apart, oldest first; returns the oldest timestamp."""
    start = datetime.now(UTC) - timedelta(hours=1)
    async with session_scope() as session:
        for i in range(count):
            session.add(
                AuditLogModel(
                    actor=f"actor-{i % 2}",
                    actor_type="user",
                    action="case.update",
                    resource_type="case",
                    resource_id=str(i),
                    timestamp=start + timedelta(minutes=i),
                )
            )
    return start


class TestAuditQuery:
    async def test_newest_first_with_paging(self, client, admin_headers):
        await _seed(5)
        resp = await client.get(
            AUDIT, params={"action": "case.update", "limit": 2, "skip": 1}, headers=admin_headers
        )
        body = resp.json()
        assert body["total"] == 5 and body["data_source"] == "database"
        assert [e["resource_id"] for e in body["items"]] == ["3", "2"]
        assert resp.headers["x-aurora-data-source"] == "database"

    async def test_time_window_is_inclusive(self, client, admin_headers):
        start = await _seed(5)
        params = {
            "since": (start + timedelta(minutes=1)).isoformat(),
            "until": (start + timedelta(minutes=3)).isoformat(),
        }
        assert [e["resource_id"] for e in await _entries(client, admin_headers, **params)] == ["3", "2", "1"]

    async def test_actor_filter(self, client, admin_headers):
        await _seed(5)
        entries = await _entries(client, admin_headers, actor="actor-1")
        assert [e["resource_id"] for e in entries] == ["3", "1"]

    async def test_inverted_window_is_400(self, client, admin_headers):
        now = datetime.now(UTC)
        params = {"since": now.isoformat(), "until": (now - timedelta(days=1)).isoformat()}
        assert (await client.get(AUDIT, params=params, headers=admin_headers)).status_code == 400

    @pytest.mark.parametrize("role", ["analyst", "operator", "viewer", "api_service"])
    async def test_only_settings_managers_may_read(self, client, role_headers, role):
        assert (await client.get(AUDIT, headers=role_headers[role])).status_code == 403


class TestAuditWithDatabaseDown:
    @pytest.fixture
    def database_down(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The read-source probe sees no database (the real outage is tests/test_db_outage.py)."""
        monkeypatch.setattr("aurorasoc.core.web.deps.probe_database", AsyncMock(return_value=False))

    async def test_real_mode_answers_503(self, client, admin_headers, database_down):
        resp = await client.get(AUDIT, headers=admin_headers)
        assert resp.status_code == 503
        assert resp.json()["detail"]["code"] == "database_unavailable"

    async def test_dummy_mode_lists_no_showcase_entries(self, client, admin_headers, database_down):
        runtime.set_mode(RuntimeMode.DUMMY)
        resp = await client.get(AUDIT, headers=admin_headers)
        assert resp.status_code == 200
        assert resp.json()["data_source"] == "showcase" and resp.json()["items"] == []
        assert resp.headers["x-aurora-data-source"] == "showcase"
