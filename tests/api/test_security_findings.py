"""Issue 18: each finding of the attack on a running instance, replayed; the safe answer is asserted.

Findings 1-6 (grants, tokens in logs, CSRF/Origin, database loss, unhandled 500s, MCP auth).
Database-loss tests against a real PostgreSQL live in ``test_security_db_outage.py``.
"""

from __future__ import annotations

import logging

import httpx
import pytest
from conftest import TEST_PASSWORD
from httpx import AsyncClient

USERS = "/api/v1/users"
LOGIN = "/api/v1/auth/token"
WS_ALERTS = "/api/v1/ws/alerts"
KEYS = "/api/v1/auth/api-keys"
NEW_PASSWORD = "a much longer new passphrase"


async def _key_with(client: AsyncClient, admin_headers: dict[str, str], *perms: str) -> dict[str, str]:
    resp = await client.post(
        KEYS, json={"service_name": "users-bot", "permissions": list(perms)}, headers=admin_headers
    )
    assert resp.status_code == 201, resp.text
    return {"X-API-Key": resp.json()["api_key"]}


class TestFinding1GrantsBoundedByGranter:
    async def test_users_manage_alone_cannot_create_an_admin(self, client, admin_headers):
        key = await _key_with(client, admin_headers, "users:manage")
        body = {"username": "mallory", "password": TEST_PASSWORD, "role": "admin"}
        resp = await client.post(USERS, json=body, headers=key)
        assert resp.status_code == 403
        assert resp.json()["detail"]["code"] == "admin_only"
        names = [u["username"] for u in (await client.get(USERS, headers=admin_headers)).json()["items"]]
        assert "mallory" not in names

    async def test_users_manage_alone_cannot_grant_a_role_it_does_not_hold(self, client, admin_headers):
        key = await _key_with(client, admin_headers, "users:manage")
        body = {"username": "mallory", "password": TEST_PASSWORD, "role": "analyst"}
        resp = await client.post(USERS, json=body, headers=key)
        assert resp.status_code == 403
        assert resp.json()["detail"]["code"] == "permission_not_held"
        resp = await client.patch(f"{USERS}/viewer", json={"role": "analyst"}, headers=key)
        assert resp.status_code == 403

    async def test_key_holding_a_roles_permissions_may_grant_it(self, client, role_headers):
        from aurorasoc.core.rbac import ROLE_PERMISSIONS
        from aurorasoc.core.vocabulary import Role

        perms = sorted(ROLE_PERMISSIONS[Role.VIEWER] | {"users:manage"})
        key = await _key_with(client, role_headers["admin"], *perms)
        body = {"username": "vera", "password": TEST_PASSWORD, "role": "viewer"}
        assert (await client.post(USERS, json=body, headers=key)).status_code == 201

    async def test_non_admin_cannot_reset_an_admins_password_or_demote_or_delete_one(
        self, client, admin_headers, role_headers
    ):
        key = await _key_with(client, admin_headers, "users:manage")
        for method, body in (
            ("PATCH", {"password": NEW_PASSWORD}),
            ("PATCH", {"role": "viewer"}),
            ("PATCH", {"is_active": False}),
            ("DELETE", None),
        ):
            resp = await client.request(method, f"{USERS}/admin", json=body, headers=key)
            assert resp.status_code == 403, (method, body, resp.text)
            assert resp.json()["detail"]["code"] == "admin_only"
        # the admin still signs in with the old password and keeps the session
        assert (await client.get(f"{USERS}/me", headers=admin_headers)).status_code == 200
        login = await client.post(LOGIN, json={"username": "admin", "password": TEST_PASSWORD})
        client.cookies.clear()
        assert login.status_code == 200

    async def test_admin_may_reset_another_admins_password_and_it_ends_their_sessions(
        self, client, admin_headers
    ):
        body = {"username": "admin2", "password": TEST_PASSWORD, "role": "admin"}
        assert (await client.post(USERS, json=body, headers=admin_headers)).status_code == 201
        login = await client.post(LOGIN, json={"username": "admin2", "password": TEST_PASSWORD})
        client.cookies.clear()
        old = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert (await client.get(f"{USERS}/me", headers=old)).status_code == 200
        resp = await client.patch(f"{USERS}/admin2", json={"password": NEW_PASSWORD}, headers=admin_headers)
        assert resp.status_code == 200
        resp = await client.get(f"{USERS}/me", headers=old)
        assert resp.status_code == 401
        assert "sign in again" in resp.json()["detail"]
        fresh = await client.post(LOGIN, json={"username": "admin2", "password": NEW_PASSWORD})
        client.cookies.clear()
        headers = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
        assert (await client.get(f"{USERS}/me", headers=headers)).status_code == 200

    async def test_role_change_ends_the_users_sessions(self, client, admin_headers, role_headers):
        viewer = role_headers["viewer"]
        assert (await client.get(f"{USERS}/me", headers=viewer)).status_code == 200
        resp = await client.patch(f"{USERS}/viewer", json={"role": "analyst"}, headers=admin_headers)
        assert resp.status_code == 200
        assert (await client.get(f"{USERS}/me", headers=viewer)).status_code == 401

    async def test_profile_edit_keeps_sessions(self, client, admin_headers, role_headers):
        viewer = role_headers["viewer"]
        resp = await client.patch(f"{USERS}/viewer", json={"display_name": "V"}, headers=admin_headers)
        assert resp.status_code == 200
        assert (await client.get(f"{USERS}/me", headers=viewer)).status_code == 200

    async def test_reset_purges_the_api_key_cache(self, client, admin_headers):
        from aurorasoc.core import auth

        key = await _key_with(client, admin_headers, "alerts:read")
        assert (await client.get("/api/v1/alerts", headers=key)).status_code == 200
        assert auth._key_cache
        resp = await client.patch(f"{USERS}/viewer", json={"password": NEW_PASSWORD}, headers=admin_headers)
        assert resp.status_code == 200
        assert not auth._key_cache


class TestFinding2NoTokensInLogs:
    def test_uvicorn_websocket_line_is_redacted(self, capsys, settings):
        """uvicorn logs ``"WebSocket /path?query" [accepted]`` through ``uvicorn.error``."""
        from aurorasoc.core.auth import create_token
        from aurorasoc.core.logging import configure_logging
        from aurorasoc.core.vocabulary import Role

        jwt = create_token("admin", Role.ADMIN)
        root = logging.getLogger()
        saved = root.handlers[:], root.level
        # `serve` runs uvicorn with log_config=None, so its loggers propagate to ours; a test earlier
        # in this process may have run uvicorn with its default dictConfig (own handler, no propagation)
        uvicorn_loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error")]
        saved_uvicorn = [(lg.handlers[:], lg.propagate, lg.disabled) for lg in uvicorn_loggers]
        try:
            for lg in uvicorn_loggers:
                lg.handlers[:], lg.propagate, lg.disabled = [], True, False
            configure_logging(settings)
            logging.getLogger("uvicorn.error").warning(
                '%s - "WebSocket %s" [accepted]', "127.0.0.1:5555", f"/api/v1/ws/alerts?token={jwt}&x=1"
            )
        finally:
            root.handlers[:], _ = saved[0], root.setLevel(saved[1])
            for lg, (handlers, propagate, disabled) in zip(uvicorn_loggers, saved_uvicorn, strict=True):
                lg.handlers[:], lg.propagate, lg.disabled = handlers, propagate, disabled
        out = capsys.readouterr().out
        assert "/api/v1/ws/alerts?token=********&x=1" in out
        assert jwt not in out and jwt.split(".")[2] not in out

    def test_query_string_token_no_longer_authenticates_a_websocket(self):
        from test_api_ws import assert_closed, serve_app, token

        from aurorasoc.core.vocabulary import Role

        url = f"/api/v1/ws/alerts?token={token(Role.ANALYST)}"
        with serve_app() as client, client.websocket_connect(url) as ws:
            assert_closed(ws, 1008)

    def test_subprotocol_token_authenticates_and_is_echoed(self):
        from test_api_ws import bearer, ping_pong, serve_app, token

        from aurorasoc.core.vocabulary import Role

        protocols = bearer(token(Role.VIEWER))
        with serve_app() as client, client.websocket_connect(WS_ALERTS, subprotocols=protocols) as ws:
            assert ws.accepted_subprotocol == "aurorasoc.bearer"
            ping_pong(ws)


class TestFinding3CrossSiteCookieWrites:
    FOREIGN = "http://evil.example:8080"

    async def _cookie_login(self, client: AsyncClient, username: str = "admin") -> None:
        resp = await client.post(LOGIN, json={"username": username, "password": TEST_PASSWORD})
        assert resp.status_code == 200

    async def test_foreign_origin_json_post_is_refused(self, client, role_headers):
        await self._cookie_login(client)
        body = {"title": "csrf", "severity": "low", "source": "test"}
        resp = await client.post("/api/v1/alerts", json=body, headers={"Origin": self.FOREIGN})
        assert resp.status_code == 403
        assert resp.json()["detail"]["code"] == "cross_origin_refused"
        listing = (await client.get("/api/v1/alerts")).json()
        assert all(a["title"] != "csrf" for a in listing["items"])

    async def test_text_plain_ingest_without_preflight_is_refused(self, client, role_headers):
        await self._cookie_login(client)
        headers = {"Origin": self.FOREIGN, "Content-Type": "text/plain"}
        resp = await client.post(
            "/api/v1/siem/ingest", content=b"Dec  6 06:00:00 host sshd: x", headers=headers
        )
        assert resp.status_code == 403

    async def test_sibling_port_and_foreign_referer_are_refused(self, client, role_headers):
        await self._cookie_login(client)
        for headers in ({"Origin": "http://testserver:8081"}, {"Referer": "http://evil.example/page"}):
            resp = await client.post("/api/v1/auth/logout", headers=headers)
            assert resp.status_code == 403, headers

    async def test_cookie_write_without_origin_or_csrf_header_is_refused(self, client, role_headers):
        await self._cookie_login(client)
        assert (await client.post("/api/v1/auth/logout")).status_code == 403

    @pytest.mark.parametrize(
        "headers",
        [{"Origin": "http://testserver"}, {"Referer": "http://testserver/alerts"}, {"X-Aurora-CSRF": "1"}],
    )
    async def test_same_origin_or_csrf_header_is_accepted(self, client, role_headers, headers):
        await self._cookie_login(client)
        assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204

    async def test_trusted_origin_setting_is_accepted(self, client, role_headers, monkeypatch):
        from aurorasoc.core.config import reset_settings

        monkeypatch.setenv("AURORA_TRUSTED_ORIGINS", "https://console.example")
        reset_settings()
        await self._cookie_login(client)
        resp = await client.post("/api/v1/auth/logout", headers={"Origin": "https://console.example"})
        assert resp.status_code == 204

    async def test_bearer_and_api_key_writes_are_unaffected(self, client, admin_headers):
        key = await _key_with(client, admin_headers, "siem:write")
        for headers in (admin_headers, key):
            resp = await client.post(
                "/api/v1/siem/ingest",
                content=b"Dec  6 06:00:00 host sshd: x",
                headers={**headers, "Origin": self.FOREIGN, "Content-Type": "text/plain"},
            )
            assert resp.status_code == 202, resp.text

    def test_websocket_with_foreign_origin_is_closed_even_with_a_valid_cookie(self):
        from test_api_ws import assert_closed, ping_pong, serve_app, token

        from aurorasoc.core.vocabulary import Role

        with serve_app() as client:
            client.cookies.set("access_token", token(Role.ANALYST))
            with client.websocket_connect("/api/v1/ws/alerts", headers={"Origin": self.FOREIGN}) as ws:
                assert_closed(ws, 1008)
            with client.websocket_connect("/api/v1/ws/alerts", headers={"Origin": "http://testserver"}) as ws:
                ping_pong(ws)


class TestFinding5NoUnhandled500s:
    async def test_badge_patch_with_null_fields_is_422_with_a_reason(self, client, admin_headers):
        badge = {"badge_id": "b-1", "holder": "Ada"}
        assert (await client.post("/api/v1/cps/badges", json=badge, headers=admin_headers)).status_code == 201
        for body in ({"zone_ids": None}, {"enabled": None}, {"holder": None}):
            resp = await client.patch("/api/v1/cps/badges/b-1", json=body, headers=admin_headers)
            assert resp.status_code == 422, resp.text
            assert "cannot be null" in resp.text
        resp = await client.patch("/api/v1/cps/badges/b-1", json={"valid_until": None}, headers=admin_headers)
        assert resp.status_code == 200

    async def test_device_patch_with_null_name_is_422(self, client, admin_headers):
        device = {"device_id": "dev-1", "device_type": "valve", "name": "v", "firmware_stack": "zephyr"}
        resp = await client.post("/api/v1/cps/devices", json=device, headers=admin_headers)
        assert resp.status_code == 201, resp.text
        resp = await client.patch("/api/v1/cps/devices/dev-1", json={"name": None}, headers=admin_headers)
        assert resp.status_code == 422 and "cannot be null" in resp.text
        resp = await client.patch("/api/v1/cps/devices/dev-1", json={"location": None}, headers=admin_headers)
        assert resp.status_code == 200

    async def test_concurrent_first_topology_calls_all_succeed(self, client, admin_headers):
        import asyncio

        answers = await asyncio.gather(
            *(client.get("/api/v1/system/topology", headers=admin_headers) for _ in range(8))
        )
        assert [r.status_code for r in answers] == [200] * 8
        assert len({r.json()["local_site_id"] for r in answers}) == 1

    @pytest.mark.parametrize("depth", [200, 400])
    async def test_deeply_nested_siem_query_is_a_clear_400(self, client, admin_headers, depth):
        query = "(" * depth + "host:a" + ")" * depth
        resp = await client.get("/api/v1/siem/logs", params={"q": query}, headers=admin_headers)
        assert resp.status_code == 400
        assert resp.json()["detail"]["code"] == "query_too_deep"
        chain = "NOT " * depth + "host:a"
        resp = await client.get("/api/v1/siem/logs", params={"q": chain}, headers=admin_headers)
        assert resp.status_code == 400

    async def test_deeply_nested_saved_hunt_is_a_clear_400(self, client, admin_headers):
        body = {"name": "deep", "query": "(" * 300 + "host:a" + ")" * 300}
        resp = await client.post("/api/v1/siem/hunts", json=body, headers=admin_headers)
        assert resp.status_code == 400
        assert resp.json()["detail"]["code"] == "query_too_deep"

    async def test_moderately_nested_query_still_works(self, client, admin_headers):
        query = "(" * 20 + "host:a" + ")" * 20
        resp = await client.get("/api/v1/siem/logs", params={"q": query}, headers=admin_headers)
        assert resp.status_code == 200

    @pytest.mark.parametrize("open_, close", [('{"a":', "}"), ("[", "]")])
    async def test_deeply_nested_json_to_ingest_is_rejected_with_its_reason(
        self, client, admin_headers, open_, close
    ):
        """The record is refused alone with its reason (issue 16: one bad record never takes its
        batch with it); nothing is accepted, nothing errors."""
        body = (open_ * 5000 + "1" + close * 5000).encode()
        resp = await client.post("/api/v1/siem/ingest", content=body, headers=admin_headers)
        assert resp.status_code == 202, resp.text
        assert {k: v for k, v in resp.json().items() if not k.startswith("searchable")} == {
            "accepted": 0,
            "rejected": 1,
            "errors": [{"position": "line 1", "message": "nesting too deep"}],
        }

    async def test_lone_surrogate_in_an_alert_title_is_rejected(self, client, admin_headers):
        headers = {**admin_headers, "Content-Type": "application/json"}
        for title in ("x\\ud800y", "\\udc00", "\\ud800\\u0041"):
            body = '{"title": "' + title + '", "severity": "low", "source": "s"}'
            resp = await client.post("/api/v1/alerts", content=body, headers=headers)
            assert resp.status_code == 400, (title, resp.text)
            assert resp.json()["detail"]["code"] == "invalid_text"
        paired = '{"title": "ok \\ud83d\\ude00 and \\\\ud800 as text", "severity": "low", "source": "s"}'
        resp = await client.post("/api/v1/alerts", content=paired, headers=headers)
        assert resp.status_code == 201, resp.text
        assert resp.json()["title"] == "ok \U0001f600 and \\ud800 as text"


class TestFinding6McpOverHttp:
    MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}

    @staticmethod
    async def _call(headers: dict[str, str], name: str, arguments: dict[str, object]) -> httpx.Response:
        from aurorasoc.agents.mcp import http_app

        app = http_app()
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        }
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            AsyncClient(transport=transport, base_url="http://mcp") as c,
        ):
            return await c.post(
                "/mcp/", json=body, headers={**TestFinding6McpOverHttp.MCP_HEADERS, **headers}
            )

    @staticmethod
    async def _audit_rows() -> list[tuple[str, str, str, dict[str, object]]]:
        from sqlalchemy import select

        from aurorasoc.core.db import session_scope
        from aurorasoc.core.models import AuditLogModel

        async with session_scope() as session:
            rows = (
                await session.scalars(select(AuditLogModel).where(AuditLogModel.action == "mcp.tool_call"))
            ).all()
            return [(r.actor, r.actor_type, r.resource_id, r.details) for r in rows]

    @pytest.mark.parametrize(
        "headers", [{}, {"Authorization": "Bearer not.a.token"}, {"X-API-Key": "aur_nope"}]
    )
    async def test_unauthenticated_call_is_401_and_runs_nothing(self, role_headers, headers):
        resp = await self._call(headers, "search_alerts", {})
        assert resp.status_code == 401
        assert await self._audit_rows() == []

    async def test_cookie_alone_is_not_accepted(self, role_headers):
        cookie = {"Cookie": f"access_token={role_headers['admin']['Authorization'][7:]}"}
        assert (await self._call(cookie, "search_alerts", {})).status_code == 401

    async def test_call_runs_and_is_audited_as_the_token_principal(self, role_headers):
        resp = await self._call(role_headers["viewer"], "search_alerts", {})
        assert resp.status_code == 200, resp.text
        result = resp.json()["result"]
        assert result["isError"] is False and result["structuredContent"]["status"] == "ok"
        assert await self._audit_rows() == [
            (
                "viewer",
                "user",
                "search_alerts",
                {"via": "mcp", "arguments": [], "status": "ok", "error_code": None},
            )
        ]

    async def test_permissions_are_the_principals_and_refusals_are_errors(self, role_headers):
        resp = await self._call(role_headers["viewer"], "execute_playbook", {"playbook": "x"})
        result = resp.json()["result"]
        assert result["isError"] is True
        assert result["structuredContent"]["error_code"] == "permission_denied"
        missing = (await self._call(role_headers["viewer"], "no_such_tool", {})).json()["result"]
        assert missing["isError"] is True and missing["structuredContent"]["error_code"] == "not_found"
        rows = await self._audit_rows()
        assert [(r[0], r[2], r[3]["error_code"]) for r in rows] == [
            ("viewer", "execute_playbook", "permission_denied"),
            ("viewer", "no_such_tool", "not_found"),
        ]

    async def test_api_key_calls_act_as_the_key(self, client, admin_headers):
        key = await _key_with(client, admin_headers, "alerts:read")
        resp = await self._call(key, "search_alerts", {})
        assert resp.json()["result"]["isError"] is False
        assert [(r[0], r[1]) for r in await self._audit_rows()] == [("users-bot", "api_key")]
