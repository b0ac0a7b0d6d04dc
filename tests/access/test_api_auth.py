"""Tests for the /auth routes: login, logout, providers, OIDC when unconfigured and API keys (spec §7;
the OIDC flow itself: tests/test_oidc.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from unittest.mock import AsyncMock, MagicMock

import pytest
from conftest import TEST_PASSWORD
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import select

from aurorasoc.access.users import UserService
from aurorasoc.core.api_keys import hash_api_key, looks_like_api_key
from aurorasoc.core.auth import decode_token
from aurorasoc.core.config import reset_settings
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import ApiKeyModel, RevokedTokenModel
from aurorasoc.core.rbac import ROLE_PERMISSIONS
from aurorasoc.core.vocabulary import Role

LOGIN = "/api/v1/auth/token"
KEYS = "/api/v1/auth/api-keys"
ME = "/api/v1/users/me"


async def _login(client: AsyncClient, username: str, password: str = TEST_PASSWORD) -> Response:
    return await client.post(LOGIN, json={"username": username, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestLogin:
    async def test_success_returns_token_and_sets_hardened_cookie(self, client, role_headers, settings):
        resp = await _login(client, "analyst")
        assert resp.status_code == 200
        body = resp.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == settings.auth.jwt_expiry_hours * 3600
        assert decode_token(body["access_token"]).sub == "analyst"
        cookie = resp.headers["set-cookie"]
        assert cookie.startswith(f"access_token={body['access_token']}")
        for flag in ("HttpOnly", "SameSite=lax", "Path=/", f"Max-Age={body['expires_in']}"):
            assert flag.lower() in cookie.lower()
        assert "secure" not in cookie.lower()  # auto + plain http
        assert resp.headers["cache-control"] == "no-store"

    async def test_cookie_secure_on_https_when_auto(self, app, role_headers):
        async with AsyncClient(transport=ASGITransport(app=app), base_url="https://soc.example") as https:
            resp = await _login(https, "viewer")
        assert "secure" in resp.headers["set-cookie"].lower()

    async def test_cookie_secure_forced_by_setting(self, client, role_headers, monkeypatch):
        monkeypatch.setenv("AURORA_COOKIE_SECURE", "true")
        reset_settings()
        resp = await _login(client, "viewer")
        assert "secure" in resp.headers["set-cookie"].lower()

    async def test_cookie_authenticates_later_requests(self, client, role_headers):
        assert (await _login(client, "operator")).status_code == 200
        resp = await client.get(ME)
        assert resp.status_code == 200
        assert resp.json()["username"] == "operator"

    async def test_wrong_password_and_unknown_user_get_the_same_401(self, client, role_headers):
        wrong = await _login(client, "analyst", "not the right password")
        unknown = await _login(client, "nobody-here", "not the right password")
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json() == {"detail": "Invalid username or password"}
        assert "set-cookie" not in wrong.headers

    async def test_disabled_user_is_401(self, client, role_headers):
        async with session_scope() as session:
            await UserService(session).set_active("analyst", False)
        resp = await _login(client, "analyst")
        assert resp.status_code == 401
        assert resp.json() == {"detail": "Invalid username or password"}

    async def test_service_account_cannot_sign_in_interactively(self, client, role_headers):
        resp = await _login(client, "api_service")
        assert resp.status_code == 403
        assert "API key" in resp.json()["detail"]

    async def test_service_account_with_wrong_password_is_plain_401(self, client, role_headers):
        assert (await _login(client, "api_service", "wrong password!!")).status_code == 401

    async def test_body_rejects_unknown_fields(self, client, role_headers):
        resp = await client.post(LOGIN, json={"username": "admin", "password": "x", "otp": "1"})
        assert resp.status_code == 422

    async def test_attempts_beyond_the_login_limit_get_429(self, client, role_headers, monkeypatch):
        monkeypatch.setenv("AURORA_LOGIN_RATE_LIMIT", "2")
        reset_settings()
        codes = [(await _login(client, "viewer", "wrong password!!")).status_code for _ in range(3)]
        assert codes == [401, 401, 429]
        blocked = await _login(client, "viewer")
        assert blocked.status_code == 429 and "retry-after" in blocked.headers

    async def test_successful_login_stamps_last_login(self, client, role_headers):
        await _login(client, "viewer")
        async with session_scope() as session:
            user = await UserService(session).get("viewer")
        assert user.last_login_at is not None


class TestLogout:
    async def test_logged_out_token_is_rejected(self, client, role_headers):
        token = (await _login(client, "analyst")).json()["access_token"]
        client.cookies.clear()
        resp = await client.post("/api/v1/auth/logout", headers=_bearer(token))
        assert resp.status_code == 204
        assert (await client.get(ME, headers=_bearer(token))).status_code == 401
        async with session_scope() as session:
            row = await session.get(RevokedTokenModel, decode_token(token).jti)
        assert row is not None and row.expires_at == decode_token(token).exp

    async def test_logout_clears_the_cookie(self, client, role_headers):
        await _login(client, "viewer")
        # as the console does: a same-origin browser request (cookie writes need it, issue 18)
        resp = await client.post("/api/v1/auth/logout", headers={"Origin": "http://testserver"})
        assert resp.status_code == 204
        assert 'access_token=""' in resp.headers["set-cookie"] or "Max-Age=0" in resp.headers["set-cookie"]
        assert (await client.get(ME)).status_code == 401

    async def test_expired_revocations_are_pruned(self, client, role_headers):
        async with session_scope() as session:
            session.add(RevokedTokenModel(jti="old", expires_at=datetime.now(UTC) - timedelta(hours=1)))
        await client.post("/api/v1/auth/logout", headers=role_headers["viewer"])
        async with session_scope() as session:
            jtis = (await session.execute(select(RevokedTokenModel.jti))).scalars().all()
        assert jtis == [decode_token(role_headers["viewer"]["Authorization"][7:]).jti]

    async def test_revocation_is_mirrored_to_redis_with_ttl(self, client, role_headers, monkeypatch):
        redis = MagicMock(set=AsyncMock())
        monkeypatch.setattr("aurorasoc.access.sessions.get_redis", AsyncMock(return_value=redis))
        token = role_headers["analyst"]["Authorization"][7:]
        await client.post("/api/v1/auth/logout", headers=role_headers["analyst"])
        (key, _value), kwargs = redis.set.call_args
        assert key == f"aurora:revoked:{decode_token(token).jti}"
        assert 0 < kwargs["ex"] <= 24 * 3600

    async def test_redis_failure_does_not_fail_logout(self, client, role_headers, monkeypatch):
        redis = MagicMock(set=AsyncMock(side_effect=ConnectionError("down")))
        monkeypatch.setattr("aurorasoc.access.sessions.get_redis", AsyncMock(return_value=redis))
        assert (await client.post("/api/v1/auth/logout", headers=role_headers["analyst"])).status_code == 204

    async def test_api_key_cannot_log_out(self, client, admin_headers):
        raw = (await client.post(KEYS, json={"service_name": "fwd"}, headers=admin_headers)).json()["api_key"]
        resp = await client.post("/api/v1/auth/logout", headers={"X-API-Key": raw})
        assert resp.status_code == 400
        assert "revoke the key" in resp.json()["detail"]["message"]

    async def test_anonymous_logout_is_401(self, client, app_db):
        assert (await client.post("/api/v1/auth/logout")).status_code == 401


class TestProviders:
    async def test_local_only_by_default(self, client):
        resp = await client.get("/api/v1/auth/providers")
        assert resp.json() == {
            "providers": [{"id": "local", "type": "local", "name": "Username and password"}],
            "default": "local",
        }

    async def test_oidc_listed_when_issuer_set(self, client, monkeypatch):
        monkeypatch.setenv("AURORA_OIDC_ISSUER", "https://idp.example")
        monkeypatch.setenv("AURORA_OIDC_DISPLAY_NAME", "Corp SSO")
        reset_settings()
        providers = (await client.get("/api/v1/auth/providers")).json()["providers"]
        assert providers[1] == {
            "id": "oidc",
            "type": "oidc",
            "name": "Corp SSO",
            "login_url": "/api/v1/auth/oidc/login",
        }

    @pytest.mark.parametrize("path", ["/api/v1/auth/oidc/login", "/api/v1/auth/oidc/callback"])
    async def test_oidc_routes_404_when_not_configured(self, client, path):
        resp = await client.get(path)
        assert resp.status_code == 404
        assert resp.json() == {"detail": "OIDC is not configured"}


async def _create_key(client: AsyncClient, headers: dict[str, str], **body: object) -> Response:
    return await client.post(KEYS, json={"service_name": "forwarder", **body}, headers=headers)


class TestApiKeys:
    async def test_lifecycle_create_use_list_revoke(self, client, admin_headers):
        created = await _create_key(client, admin_headers, expires_in_days=30)
        assert created.status_code == 201
        body = created.json()
        assert set(body) == {
            "id",
            "service_name",
            "api_key",
            "key_prefix",
            "permissions",
            "created_by",
            "created_at",
            "expires_at",
            "message",
        }
        assert looks_like_api_key(body["api_key"])
        assert body["key_prefix"].startswith("ak_") and len(body["key_prefix"]) == 15
        assert body["permissions"] == sorted(ROLE_PERMISSIONS[Role.API_SERVICE])
        assert body["created_by"] == "admin"
        assert body["message"] == "Store this API key securely now. It will not be shown again."
        key_headers = {"X-API-Key": body["api_key"]}

        me = await client.get(ME, headers=key_headers)
        assert me.json()["username"] == "forwarder" and me.json()["auth_provider"] == "api_key"

        listing = (await client.get(KEYS, headers=admin_headers)).json()
        assert listing["total"] == 1 and listing["data_source"] == "database"
        assert "api_key" not in listing["items"][0] and "key_hash" not in listing["items"][0]
        assert body["api_key"] not in str(listing) and hash_api_key(body["api_key"]) not in str(listing)

        assert (await client.delete(f"{KEYS}/{body['id']}", headers=admin_headers)).status_code == 204
        assert (await client.get(ME, headers=key_headers)).status_code == 401
        listing = (await client.get(KEYS, headers=admin_headers)).json()
        assert listing["items"][0]["revoked_at"] is not None

    async def test_only_the_hash_is_stored(self, client, admin_headers):
        body = (await _create_key(client, admin_headers)).json()
        async with session_scope() as session:
            key = await session.get(ApiKeyModel, uuid.UUID(body["id"]))
        assert key.key_hash == hash_api_key(body["api_key"])

    async def test_expiry_follows_requested_days(self, client, admin_headers):
        body = (await _create_key(client, admin_headers, expires_in_days=7)).json()
        lifetime = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(body["created_at"])
        assert lifetime == timedelta(days=7)

    async def test_permissions_must_be_a_subset_of_the_creators(self, client, admin_headers):
        manager = await _create_key(client, admin_headers, permissions=["users:manage", "alerts:read"])
        manager_headers = {"X-API-Key": manager.json()["api_key"]}
        beyond = await _create_key(client, manager_headers, permissions=["alerts:read", "siem:write"])
        assert beyond.status_code == 400
        assert "siem:write" in beyond.json()["detail"]["message"]
        default = await _create_key(client, manager_headers)  # default set includes alerts:write
        assert default.status_code == 400
        within = await _create_key(client, manager_headers, permissions=["alerts:read"])
        assert within.status_code == 201 and within.json()["permissions"] == ["alerts:read"]

    @pytest.mark.parametrize("perms", [["alerts:delete"], ["*"]])
    async def test_unknown_permissions_rejected(self, client, admin_headers, perms):
        resp = await _create_key(client, admin_headers, permissions=perms)
        assert resp.status_code == 400
        assert resp.json()["detail"]["code"] == "unknown_permission"

    async def test_bad_service_name_rejected(self, client, admin_headers):
        resp = await client.post(KEYS, json={"service_name": "has spaces"}, headers=admin_headers)
        assert resp.status_code == 400

    async def test_revoke_unknown_is_404_and_bad_id_is_422(self, client, admin_headers):
        assert (await client.delete(f"{KEYS}/{uuid.uuid4()}", headers=admin_headers)).status_code == 404
        assert (await client.delete(f"{KEYS}/not-a-uuid", headers=admin_headers)).status_code == 422

    async def test_revoking_twice_is_409(self, client, admin_headers):
        key_id = (await _create_key(client, admin_headers)).json()["id"]
        await client.delete(f"{KEYS}/{key_id}", headers=admin_headers)
        assert (await client.delete(f"{KEYS}/{key_id}", headers=admin_headers)).status_code == 409

    @pytest.mark.parametrize("role", ["analyst", "operator", "viewer"])
    async def test_non_admins_cannot_manage_keys(self, client, role_headers, role):
        headers = role_headers[role]
        assert (await _create_key(client, headers)).status_code == 403
        assert (await client.get(KEYS, headers=headers)).status_code == 403
        assert (await client.delete(f"{KEYS}/{uuid.uuid4()}", headers=headers)).status_code == 403
