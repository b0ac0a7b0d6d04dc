"""Tests for the /users routes: profile, own password, admin account management (spec §7.6)."""

from __future__ import annotations

import pytest
from conftest import TEST_PASSWORD
from httpx import AsyncClient, Response

from aurorasoc.core.auth import create_token
from aurorasoc.core.rbac import ROLE_PERMISSIONS
from aurorasoc.core.vocabulary import Role

USERS = "/api/v1/users"
ME = "/api/v1/users/me"
NEW_PASSWORD = "a much longer new passphrase"


async def _create(
    client: AsyncClient, headers: dict[str, str], username: str = "dana", **extra: object
) -> Response:
    body = {"username": username, "password": TEST_PASSWORD, "role": "analyst", **extra}
    return await client.post(USERS, json=body, headers=headers)


async def _can_login(client: AsyncClient, username: str, password: str) -> bool:
    resp = await client.post("/api/v1/auth/token", json={"username": username, "password": password})
    client.cookies.clear()
    return resp.status_code == 200


class TestMe:
    @pytest.mark.parametrize("role", [Role.ANALYST, Role.OPERATOR, Role.VIEWER, Role.ADMIN])
    async def test_user_sees_role_and_sorted_permissions(self, client, role_headers, role):
        resp = await client.get(ME, headers=role_headers[role.value])
        assert resp.status_code == 200
        body = resp.json()
        assert body["username"] == role.value and body["role"] == role.value
        assert body["permissions"] == sorted(ROLE_PERMISSIONS[role])
        assert body["auth_provider"] == "local"

    async def test_profile_fields_come_from_the_user_row(self, client, admin_headers):
        await _create(client, admin_headers, display_name="Dana Scully", email="dana@example.org")
        resp = await client.get(ME, headers={"Authorization": f"Bearer {create_token('dana', Role.ANALYST)}"})
        assert resp.json()["display_name"] == "Dana Scully"
        assert resp.json()["email"] == "dana@example.org"

    async def test_api_key_principal_is_the_service(self, client, admin_headers):
        created = await client.post(
            "/api/v1/auth/api-keys",
            json={"service_name": "edr-bridge", "permissions": ["alerts:write", "alerts:read"]},
            headers=admin_headers,
        )
        resp = await client.get(ME, headers={"X-API-Key": created.json()["api_key"]})
        assert resp.json() == {
            "username": "edr-bridge",
            "display_name": None,
            "email": None,
            "role": "api_service",
            "permissions": ["alerts:read", "alerts:write"],
            "auth_provider": "api_key",
        }

    async def test_anonymous_is_401(self, client, app_db):
        assert (await client.get(ME)).status_code == 401


class TestOwnPassword:
    async def test_change_then_login_with_new_password(self, client, role_headers):
        body = {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD}
        resp = await client.put(f"{ME}/password", json=body, headers=role_headers["viewer"])
        assert resp.status_code == 204
        assert await _can_login(client, "viewer", NEW_PASSWORD)
        assert not await _can_login(client, "viewer", TEST_PASSWORD)

    async def test_wrong_current_password_is_400(self, client, role_headers):
        body = {"current_password": "not my password", "new_password": NEW_PASSWORD}
        resp = await client.put(f"{ME}/password", json=body, headers=role_headers["viewer"])
        assert resp.status_code == 400
        assert resp.json()["detail"]["code"] == "wrong_password"
        assert await _can_login(client, "viewer", TEST_PASSWORD)

    async def test_short_new_password_is_400(self, client, role_headers):
        body = {"current_password": TEST_PASSWORD, "new_password": "short"}
        resp = await client.put(f"{ME}/password", json=body, headers=role_headers["viewer"])
        assert resp.status_code == 400
        assert "12 characters" in resp.json()["detail"]["message"]

    async def test_api_key_has_no_password(self, client, admin_headers):
        key = (
            await client.post("/api/v1/auth/api-keys", json={"service_name": "svc"}, headers=admin_headers)
        ).json()["api_key"]
        body = {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD}
        resp = await client.put(f"{ME}/password", json=body, headers={"X-API-Key": key})
        assert resp.status_code == 400


class TestUserAdministration:
    async def test_create_returns_201_without_password_material(self, client, admin_headers):
        resp = await _create(client, admin_headers, display_name="Dana")
        assert resp.status_code == 201
        body = resp.json()
        assert body["username"] == "dana" and body["role"] == "analyst" and body["is_active"] is True
        assert not any("password" in key or "hash" in key for key in body)
        assert await _can_login(client, "dana", TEST_PASSWORD)

    async def test_duplicate_is_409(self, client, admin_headers):
        await _create(client, admin_headers)
        resp = await _create(client, admin_headers)
        assert resp.status_code == 409

    @pytest.mark.parametrize(
        ("field", "value", "status"),
        [("username", "a b", 400), ("password", "short", 400), ("role", "root", 422)],
    )
    async def test_invalid_input_is_rejected(self, client, admin_headers, field, value, status):
        assert (await _create(client, admin_headers, **{field: value})).status_code == status

    async def test_list_pages_users_without_hashes(self, client, admin_headers):
        resp = await client.get(USERS, params={"limit": 2}, headers=admin_headers)
        body = resp.json()
        assert body["total"] == 5 and len(body["items"]) == 2 and body["data_source"] == "database"
        assert "$argon2" not in resp.text

    async def test_patch_changes_role_profile_and_password(self, client, admin_headers):
        await _create(client, admin_headers, email="old@example.org")
        resp = await client.patch(
            f"{USERS}/dana",
            json={"role": "viewer", "display_name": "D.", "email": None, "password": NEW_PASSWORD},
            headers=admin_headers,
        )
        assert resp.status_code == 200
        body = resp.json()
        assert (body["role"], body["display_name"], body["email"]) == ("viewer", "D.", None)
        assert await _can_login(client, "dana", NEW_PASSWORD)

    async def test_disabling_a_user_locks_out_their_token(self, client, role_headers, admin_headers):
        resp = await client.patch(f"{USERS}/analyst", json={"is_active": False}, headers=admin_headers)
        assert resp.status_code == 200 and resp.json()["is_active"] is False
        assert (await client.get(ME, headers=role_headers["analyst"])).status_code == 401

    async def test_delete_then_gone(self, client, admin_headers):
        await _create(client, admin_headers)
        assert (await client.delete(f"{USERS}/dana", headers=admin_headers)).status_code == 204
        assert (await client.patch(f"{USERS}/dana", json={}, headers=admin_headers)).status_code == 404
        assert (await client.delete(f"{USERS}/dana", headers=admin_headers)).status_code == 404

    @pytest.mark.parametrize(
        ("method", "body"),
        [("PATCH", {"role": "analyst"}), ("PATCH", {"is_active": False}), ("DELETE", None)],
    )
    async def test_last_active_admin_is_protected(self, client, admin_headers, method, body):
        resp = await client.request(method, f"{USERS}/admin", json=body, headers=admin_headers)
        assert resp.status_code == 409
        assert resp.json()["detail"]["code"] == "last_admin"

    async def test_admin_can_be_demoted_once_another_exists(self, client, admin_headers):
        await _create(client, admin_headers, username="second-admin", role="admin")
        resp = await client.patch(f"{USERS}/admin", json={"role": "analyst"}, headers=admin_headers)
        assert resp.status_code == 200

    async def test_unknown_fields_are_422(self, client, admin_headers):
        resp = await client.patch(f"{USERS}/viewer", json={"password_hash": "x"}, headers=admin_headers)
        assert resp.status_code == 422

    @pytest.mark.parametrize("role", ["analyst", "operator", "viewer", "api_service"])
    async def test_non_admins_get_403(self, client, role_headers, role):
        headers = role_headers[role]
        assert (await client.get(USERS, headers=headers)).status_code == 403
        assert (await _create(client, headers)).status_code == 403
        assert (await client.patch(f"{USERS}/viewer", json={}, headers=headers)).status_code == 403
        assert (await client.delete(f"{USERS}/viewer", headers=headers)).status_code == 403
