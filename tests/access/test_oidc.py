"""OIDC sign-in (spec §7.5, issue #18 finding 8) against a real OpenID provider process.

``oidc-provider-mock`` runs on a free port: real discovery, JWKS, authorization codes and RS256 ID
tokens. The attacks of the finding: a token from another issuer, a replayed ``state``, an expired
ID token, a foreign nonce and a local account takeover are all refused.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select

from aurorasoc.access import oidc_sessions
from aurorasoc.access.oidc import CLOCK_SKEW_SECONDS, OIDCClient, OIDCError, _caches, reset_oidc_caches
from aurorasoc.access.users import UserService
from aurorasoc.core.config import get_settings, reset_settings
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AuditLogModel, UserModel

pytestmark = pytest.mark.slow  # one provider process per module (~1 s to start)

LOGIN = "/api/v1/auth/oidc/login"
CLIENT_ID = "aurorasoc-test"
ALICE = (
    '{"sub": "alice-sub", "preferred_username": "alice", "name": "Alice Analyst", "groups": ["soc-tier2"]}'
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """A real OpenID provider on 127.0.0.1; its issuer URL."""
    port = _free_port()
    cmd = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--user-claims", ALICE]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/.well-known/openid-configuration", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("oidc-provider-mock did not start")
    yield base
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def oidc_env(provider: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AURORA_OIDC_ISSUER", provider)
    monkeypatch.setenv("AURORA_OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("AURORA_OIDC_CLIENT_SECRET", "client-secret-for-tests")
    monkeypatch.setenv("AURORA_OIDC_ROLE_MAP", '{"soc-tier2": "analyst", "soc-admins": "admin"}')
    reset_settings()
    reset_oidc_caches()
    oidc_sessions._used_states.clear()
    return provider


def _set_user(provider: str, sub: str, claims: dict[str, object]) -> None:
    httpx.put(f"{provider}/users/{sub}", json=claims, timeout=5).raise_for_status()


async def _authorize(client: httpx.AsyncClient, sub: str, next_path: str = "/cases") -> str:
    """Start at AuroraSOC, approve at the provider as ``sub``; the callback path to follow."""
    start = await client.get(LOGIN, params={"next": next_path})
    assert start.status_code == 302, start.text
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0]
    async with httpx.AsyncClient(timeout=5) as idp:
        approved = await idp.post(start.headers["location"], data={"sub": sub})
    assert approved.status_code == 302, approved.text
    callback = urlsplit(approved.headers["location"])
    return f"{callback.path}?{callback.query}"


def _refusal_code(resp: httpx.Response) -> str:
    assert resp.status_code == 303
    location = urlsplit(resp.headers["location"])
    assert location.path == "/login"
    assert "access_token=" not in resp.headers.get("set-cookie", "")
    return parse_qs(location.query)["sso_error"][0]


def _issue_id_token(issuer_base: str, nonce: str, sub: str = "alice-sub") -> str:
    """A genuine ID token straight from the provider (as a relying party would get it)."""
    redirect = "http://rp.invalid/cb"
    params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": redirect}
    params |= {"scope": "openid profile", "nonce": nonce, "state": "s"}
    approved = httpx.post(f"{issuer_base}/oauth2/authorize", params=params, data={"sub": sub}, timeout=5)
    code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect}
    token = httpx.post(f"{issuer_base}/oauth2/token", data=body, auth=(CLIENT_ID, "x"), timeout=5)
    return str(token.json()["id_token"])


class TestSignIn:
    async def test_code_flow_provisions_oidc_user_with_mapped_role(self, client, oidc_env):
        resp = await client.get(await _authorize(client, "alice-sub"))
        assert resp.status_code == 303 and resp.headers["location"] == "/cases"
        assert "access_token=" in resp.headers["set-cookie"]
        me = (await client.get("/api/v1/users/me")).json()
        assert (me["username"], me["role"], me["auth_provider"]) == ("alice", "analyst", "oidc")
        async with session_scope() as session:
            user = await UserService(session).get("alice")
            assert (user.auth_provider, user.password_hash, user.display_name) == (
                "oidc",
                None,
                "Alice Analyst",
            )
            entry = (
                await session.execute(select(AuditLogModel).where(AuditLogModel.action == "auth.login"))
            ).scalar_one()
        assert entry.details == {
            "auth_provider": "oidc",
            "role": "analyst",
            "provisioned": True,
            "sub": "alice-sub",
        }

    async def test_default_role_when_no_group_maps_and_role_follows_the_claim(self, client, oidc_env):
        _set_user(oidc_env, "bob", {"preferred_username": "bob", "groups": ["finance"]})
        await client.get(await _authorize(client, "bob"))
        assert (await client.get("/api/v1/users/me")).json()["role"] == "viewer"
        _set_user(oidc_env, "bob", {"preferred_username": "bob", "groups": ["finance", "soc-admins"]})
        await client.get(await _authorize(client, "bob"))
        assert (await client.get("/api/v1/users/me")).json()["role"] == "admin"

    async def test_no_default_role_denies(self, client, oidc_env, monkeypatch):
        monkeypatch.setenv("AURORA_OIDC_DEFAULT_ROLE", "")
        reset_settings()
        _set_user(oidc_env, "carol", {"preferred_username": "carol", "groups": []})
        assert _refusal_code(await client.get(await _authorize(client, "carol"))) == "no_role"
        async with session_scope() as session:
            assert await UserService(session).find("carol") is None

    async def test_local_account_is_not_taken_over(self, client, oidc_env):
        async with session_scope() as session:
            await UserService(session).create("mallory", "a local password long enough", "admin")
        _set_user(oidc_env, "mallory-sub", {"preferred_username": "mallory", "groups": []})
        assert _refusal_code(await client.get(await _authorize(client, "mallory-sub"))) == "local_account"

    async def test_logout_revokes_the_oidc_session(self, client, oidc_env):
        await client.get(await _authorize(client, "alice-sub"))
        # as the console does: a same-origin browser request (cookie writes need it, issue 18)
        logout = await client.post("/api/v1/auth/logout", headers={"Origin": "http://testserver"})
        assert logout.status_code == 204
        assert (await client.get("/api/v1/users/me")).status_code == 401

    async def test_open_redirect_in_next_is_ignored(self, client, oidc_env):
        resp = await client.get(await _authorize(client, "alice-sub", next_path="//evil.example/x"))
        assert resp.headers["location"] == "/"


class TestRefusals:
    async def test_replayed_state_is_refused(self, client, oidc_env):
        callback = await _authorize(client, "alice-sub")
        pending_cookie = client.cookies.get("aurora_oidc")
        assert (await client.get(callback)).status_code == 303
        client.cookies.clear()
        client.cookies.set("aurora_oidc", pending_cookie, path="/api/v1/auth/oidc")
        assert _refusal_code(await client.get(callback)) == "state_replayed"
        async with session_scope() as session:
            rows = await session.execute(
                select(AuditLogModel).where(AuditLogModel.action == "auth.login_failed")
            )
            assert rows.scalar_one().details["reason"] == "state_replayed"

    async def test_state_from_another_browser_is_refused(self, client, oidc_env):
        callback = await _authorize(client, "alice-sub")
        forged = callback.replace("state=", "state=x")
        assert _refusal_code(await client.get(forged)) == "state_mismatch"

    async def test_callback_without_a_pending_login_is_refused(self, client, oidc_env):
        callback = await _authorize(client, "alice-sub")
        client.cookies.clear()
        assert _refusal_code(await client.get(callback)) == "no_pending_login"

    async def test_token_from_another_issuer_is_refused(self, oidc_env):
        # Same provider reached as "localhost": a validly signed token whose iss is not ours.
        foreign = _issue_id_token(oidc_env.replace("127.0.0.1", "localhost"), nonce="n1")
        with pytest.raises(OIDCError, match="iss"):
            await OIDCClient(get_settings().oidc).validate_id_token(foreign, "n1")

    async def test_expired_id_token_is_refused(self, oidc_env):
        token = _issue_id_token(oidc_env, nonce="n2")
        client = OIDCClient(get_settings().oidc)
        claims = await client.validate_id_token(token, "n2")
        assert claims["sub"] == "alice-sub"
        with pytest.raises(OIDCError, match="expired"):
            await client.validate_id_token(token, "n2", now=int(claims["exp"]) + CLOCK_SKEW_SECONDS + 1)

    async def test_foreign_nonce_is_refused(self, oidc_env):
        token = _issue_id_token(oidc_env, nonce="n3")
        with pytest.raises(OIDCError, match="nonce"):
            await OIDCClient(get_settings().oidc).validate_id_token(token, "another-nonce")

    async def test_rotated_signing_key_refreshes_the_jwks(self, oidc_env):
        client = OIDCClient(get_settings().oidc)
        token = _issue_id_token(oidc_env, nonce="n4")
        await client.validate_id_token(token, "n4")
        cache = _caches[oidc_env]
        published = cache.keys
        stale = KeySet([RSAKey.generate_key(2048, parameters={"kid": "retired"})])
        cache.keys, cache.kids, cache.keys_at = stale, frozenset({"retired"}), 0.0  # before a rotation
        assert (await client.validate_id_token(token, "n4"))["nonce"] == "n4"
        assert cache.keys is not stale and cache.keys is not published  # fetched again

    async def test_token_signed_by_an_unpublished_key_is_refused(self, oidc_env):
        foreign_key = RSAKey.generate_key(2048, parameters={"kid": "attacker"})
        claims = {"iss": oidc_env, "aud": CLIENT_ID, "sub": "alice-sub", "nonce": "n5"}
        claims |= {"iat": int(time.time()), "exp": int(time.time()) + 300}
        forged = jwt.encode({"alg": "RS256", "kid": "attacker"}, claims, foreign_key)
        with pytest.raises(OIDCError, match="signature"):
            await OIDCClient(get_settings().oidc).validate_id_token(forged, "n5")


async def test_provider_unreachable_sends_the_browser_back_with_a_reason(client, monkeypatch):
    monkeypatch.setenv("AURORA_OIDC_ISSUER", f"http://127.0.0.1:{_free_port()}")
    reset_settings()
    reset_oidc_caches()
    assert _refusal_code(await client.get(LOGIN)) == "provider_unreachable"


async def test_users_table_marks_provider(client, oidc_env):
    await client.get(await _authorize(client, "alice-sub"))
    async with session_scope() as session:
        providers = (await session.execute(select(UserModel.auth_provider))).scalars().all()
    assert providers == ["oidc"]


async def test_logout_continues_at_the_providers_end_session_endpoint(client, oidc_env):
    resp = await client.get("/api/v1/auth/oidc/logout")
    assert resp.status_code == 303
    target = urlsplit(resp.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{oidc_env}/oauth2/end_session"
    query = parse_qs(target.query)
    assert query == {"client_id": [CLIENT_ID], "post_logout_redirect_uri": ["http://testserver/login"]}
