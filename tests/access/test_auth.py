"""Tests for aurorasoc.core.auth: tokens, passwords, API keys, principals, permission checks."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi import Depends, FastAPI, HTTPException
from httpx import ASGITransport, AsyncClient

from aurorasoc.access.users import UserService
from aurorasoc.core.api_keys import generate_api_key, hash_api_key, looks_like_api_key
from aurorasoc.core.auth import (
    Principal,
    create_token,
    decode_token,
    get_principal,
    purge_api_key_cache,
    require_permission,
)
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import ApiKeyModel, RevokedTokenModel
from aurorasoc.core.passwords import hash_password, verify_password
from aurorasoc.core.vocabulary import Role


class TestJWTAuth:
    async def test_create_and_decode_token(self):
        """Token round-trip preserves claims."""
        token = create_token(sub="analyst-1", role=Role.ANALYST)
        payload = decode_token(token)
        assert payload.sub == "analyst-1"
        assert payload.role == Role.ANALYST

    async def test_invalid_token_raises_401(self):
        """Garbage tokens produce HTTP 401."""
        with pytest.raises(HTTPException) as exc_info:
            decode_token("not.a.real.token")
        assert exc_info.value.status_code == 401


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class TestTokenValidation:
    def test_claims_are_exactly_sub_role_exp_iat_jti(self):
        claims = _claims(create_token(sub="u", role="viewer"))
        assert set(claims) == {"sub", "role", "exp", "iat", "jti"}
        assert len(claims["jti"]) == 32

    def test_each_token_gets_a_fresh_jti(self):
        assert (
            _claims(create_token("u", Role.VIEWER))["jti"] != _claims(create_token("u", Role.VIEWER))["jti"]
        )

    def test_default_lifetime_follows_jwt_expiry_hours(self, monkeypatch):
        from aurorasoc.core.config import reset_settings

        monkeypatch.setenv("JWT_EXPIRY_HOURS", "2")
        reset_settings()
        claims = _claims(create_token("u", Role.VIEWER))
        assert claims["exp"] - claims["iat"] == pytest.approx(2 * 3600, abs=1)

    def test_expired_token_raises_401(self):
        token = create_token("u", Role.ADMIN, expires_delta=timedelta(seconds=-5))
        with pytest.raises(HTTPException) as exc:
            decode_token(token)
        assert exc.value.status_code == 401
        assert exc.value.headers == {"WWW-Authenticate": "Bearer"}

    def test_tampered_payload_raises_401(self):
        header, _, signature = create_token("viewer-1", Role.VIEWER).split(".")
        forged = _b64({**_claims(create_token("viewer-1", Role.VIEWER)), "role": "admin"})
        with pytest.raises(HTTPException):
            decode_token(f"{header}.{forged}.{signature}")

    def test_alg_none_rejected(self):
        claims = _claims(create_token("u", Role.ADMIN))
        unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
        with pytest.raises(HTTPException):
            decode_token(unsigned)

    def test_wrong_key_rejected(self):
        claims = _claims(create_token("u", Role.ADMIN))
        other = jwt.encode(claims, "another-secret-key-that-is-also-32-chars!", algorithm="HS256")
        with pytest.raises(HTTPException):
            decode_token(other)

    def test_missing_claim_rejected(self):
        from aurorasoc.core.auth import jwt_secret

        now = int(datetime.now(UTC).timestamp())
        token = jwt.encode({"sub": "u", "role": "admin", "exp": now + 60, "iat": now}, jwt_secret(), "HS256")
        with pytest.raises(HTTPException):
            decode_token(token)

    def test_unknown_role_rejected(self):
        from aurorasoc.core.auth import jwt_secret

        claims = {**_claims(create_token("u", Role.ADMIN)), "role": "root"}
        with pytest.raises(HTTPException):
            decode_token(jwt.encode(claims, jwt_secret(), "HS256"))


class TestSecretResolution:
    def test_short_secret_is_a_startup_error(self, monkeypatch):
        from pydantic import ValidationError

        from aurorasoc.core.config import Settings

        monkeypatch.setenv("JWT_SECRET_KEY", "too-short")
        with pytest.raises(ValidationError, match="at least 32"):
            Settings()

    def test_secret_file_created_0600_and_reused(self, monkeypatch, settings):
        from aurorasoc.core.auth import ensure_jwt_secret, jwt_secret
        from aurorasoc.core.config import get_settings, reset_settings

        monkeypatch.delenv("JWT_SECRET_KEY")
        reset_settings()
        current = get_settings()
        key = ensure_jwt_secret(current)
        path = current.secrets_dir / "jwt_secret"
        assert path.stat().st_mode & 0o777 == 0o600
        assert len(key) == 64
        assert jwt_secret(current) == key == ensure_jwt_secret(current)


class TestPasswords:
    def test_argon2id_hash_verifies(self):
        hashed = hash_password("correct horse battery")
        assert hashed.startswith("$argon2id$")
        assert verify_password(hashed, "correct horse battery")
        assert not verify_password(hashed, "wrong horse battery")

    def test_malformed_or_missing_hash_is_false_not_error(self):
        assert not verify_password("not-a-hash", "x")
        assert not verify_password(None, "x")


class TestApiKeyMaterial:
    def test_format_is_aurora_plus_64_hex(self):
        key = generate_api_key()
        assert looks_like_api_key(key)
        assert len(key) == len("aurora_") + 64

    def test_only_sha256_is_stored(self):
        key = generate_api_key()
        digest = hash_api_key(key)
        assert len(digest) == 64 and key not in digest


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/who")
    async def who(p: Principal = Depends(get_principal)) -> dict:
        return {"username": p.username, "role": p.role.value, "provider": p.auth_provider}

    @app.post("/promote")
    async def promote(p: Principal = Depends(require_permission("alerts:write", "cases:write"))) -> dict:
        return {"ok": True}

    return app


@pytest.fixture
async def client(app_db):
    async with AsyncClient(transport=ASGITransport(app=_app()), base_url="http://test") as c:
        yield c


async def _user(username: str, role: Role, active: bool = True) -> None:
    async with session_scope() as session:
        service = UserService(session)
        await service.create(username, "correct horse battery", role)
        if not active:
            await service.set_active(username, False)


class TestRequirePermission:
    async def test_no_credentials_is_401(self, client):
        resp = await client.post("/promote")
        assert resp.status_code == 401

    async def test_missing_one_of_two_permissions_is_403_naming_it(self, client):
        await _user("operator-1", Role.OPERATOR)
        token = create_token("operator-1", Role.OPERATOR)
        resp = await client.post("/promote", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 403
        assert resp.json() == {"detail": "Missing permission: alerts:write"}

    async def test_all_permissions_present_is_allowed(self, client):
        await _user("analyst-1", Role.ANALYST)
        resp = await client.post(
            "/promote", headers={"Authorization": f"Bearer {create_token('analyst-1', Role.ANALYST)}"}
        )
        assert resp.status_code == 200

    def test_unknown_permission_is_a_programming_error(self):
        with pytest.raises(ValueError):
            require_permission("alerts:delete")


class TestPrincipalResolution:
    async def test_role_comes_from_current_user_row(self, client):
        await _user("bob", Role.VIEWER)
        async with session_scope() as session:
            await UserService(session).set_role("bob", Role.ANALYST)
        token = create_token("bob", Role.VIEWER)
        resp = await client.get("/who", headers={"Authorization": f"Bearer {token}"})
        assert resp.json()["role"] == "analyst"

    async def test_disabled_user_is_401(self, client):
        await _user("mallory", Role.ANALYST, active=False)
        resp = await client.get(
            "/who", headers={"Authorization": f"Bearer {create_token('mallory', Role.ANALYST)}"}
        )
        assert resp.status_code == 401

    async def test_revoked_token_is_401(self, client):
        await _user("carol", Role.ANALYST)
        token = create_token("carol", Role.ANALYST)
        async with session_scope() as session:
            session.add(RevokedTokenModel(jti=decode_token(token).jti, expires_at=decode_token(token).exp))
        resp = await client.get("/who", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401

    async def test_cookie_token_accepted(self, client):
        await _user("dave", Role.VIEWER)
        client.cookies.set("access_token", create_token("dave", Role.VIEWER))
        resp = await client.get("/who")
        assert resp.json()["username"] == "dave"

    async def test_api_key_principal_and_revocation(self, client):
        raw = generate_api_key()
        async with session_scope() as session:
            key = ApiKeyModel(
                service_name="forwarder",
                key_hash=hash_api_key(raw),
                key_prefix="ak_x",
                permissions=["alerts:write"],
            )
            session.add(key)
        resp = await client.get("/who", headers={"X-API-Key": raw})
        assert resp.json() == {"username": "forwarder", "role": "api_service", "provider": "api_key"}
        async with session_scope() as session:
            (await session.get(ApiKeyModel, key.id)).revoked_at = datetime.now(UTC)
        purge_api_key_cache(str(key.id))
        assert (await client.get("/who", headers={"X-API-Key": raw})).status_code == 401

    async def test_expired_api_key_is_401(self, client):
        raw = generate_api_key()
        async with session_scope() as session:
            session.add(
                ApiKeyModel(
                    service_name="old",
                    key_hash=hash_api_key(raw),
                    key_prefix="ak_y",
                    permissions=[],
                    expires_at=datetime.now(UTC) - timedelta(days=1),
                )
            )
        assert (await client.get("/who", headers={"X-API-Key": raw})).status_code == 401

    async def test_bootstrap_service_key(self, client, monkeypatch):
        from aurorasoc.core.config import reset_settings

        monkeypatch.setenv("API_SERVICE_KEY", "bootstrap-key-value")
        reset_settings()
        resp = await client.get("/who", headers={"X-API-Key": "bootstrap-key-value"})
        assert resp.json()["username"] == "api-service"
