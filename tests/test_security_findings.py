"""Issue 18: each finding of the attack on a running instance, replayed; the safe answer is asserted.

Findings 1-6 (grants, tokens in logs, CSRF/Origin, database loss, unhandled 500s, MCP auth).
Database-loss tests against a real PostgreSQL live in ``test_security_db_outage.py``.
"""

from __future__ import annotations

from conftest import TEST_PASSWORD
from httpx import AsyncClient

USERS = "/api/v1/users"
LOGIN = "/api/v1/auth/token"
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
        from aurorasoc.models.domain import Role

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
