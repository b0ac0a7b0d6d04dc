"""The API rate-limit middleware (through the app) and the login limiter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI, HTTPException
from httpx import ASGITransport, AsyncClient
from prometheus_client import REGISTRY

from aurorasoc.core.config import reset_settings
from aurorasoc.core.rate_limit import enforce_login_limit

PUBLIC = "/api/v1/auth/providers"


def _rejections(scope: str) -> float:
    return REGISTRY.get_sample_value("rate_limit_rejections_total", {"scope": scope}) or 0.0


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """3 API requests per minute and 2 login attempts, read by the next ``create_app()``."""
    monkeypatch.setenv("AURORA_RATE_LIMIT_REQUESTS", "3")
    monkeypatch.setenv("AURORA_LOGIN_RATE_LIMIT", "2")
    reset_settings()


@pytest.fixture
async def limited_app(small_limits: None, app_db: None) -> AsyncIterator[FastAPI]:
    from aurorasoc.api.main import create_app
    from aurorasoc.core import runtime

    runtime.reset_mode()
    application = create_app()
    async with application.router.lifespan_context(application):
        yield application
    runtime.reset_mode()


@pytest.fixture
async def limited_client(limited_app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=limited_app), base_url="http://testserver") as c:
        yield c


class TestApiLimit:
    async def test_fourth_request_is_rejected(self, limited_client: AsyncClient) -> None:
        before = _rejections("api")
        responses = [await limited_client.get(PUBLIC) for _ in range(4)]
        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["2", "1", "0", "0"]
        assert {r.headers["X-RateLimit-Limit"] for r in responses} == {"3"}
        rejected = responses[-1]
        assert rejected.headers["Retry-After"] == "60"
        assert rejected.headers["X-Request-ID"]
        assert rejected.json()["detail"]["code"] == "rate_limited"
        assert _rejections("api") == before + 1

    async def test_unlimited_paths(self, limited_client: AsyncClient) -> None:
        for path in ("/health", "/health/ready", "/metrics", "/"):
            for _ in range(5):
                response = await limited_client.get(path)
                assert response.status_code != 429, path
                assert "X-RateLimit-Limit" not in response.headers
        assert (await limited_client.get(PUBLIC)).headers["X-RateLimit-Remaining"] == "2"

    async def test_principals_have_separate_buckets(
        self, limited_client: AsyncClient, role_headers: dict[str, dict[str, str]]
    ) -> None:
        for _ in range(3):
            await limited_client.get("/api/v1/system/mode", headers=role_headers["analyst"])
        assert (await limited_client.get(PUBLIC, headers=role_headers["analyst"])).status_code == 429
        viewer = await limited_client.get("/api/v1/system/mode", headers=role_headers["viewer"])
        assert viewer.status_code == 200
        assert viewer.headers["X-RateLimit-Remaining"] == "2"
        assert (await limited_client.get(PUBLIC)).status_code == 200  # anonymous: the IP's own bucket

    async def test_cookie_and_bearer_share_the_principal_bucket(
        self, limited_client: AsyncClient, role_headers: dict[str, dict[str, str]]
    ) -> None:
        token = role_headers["analyst"]["Authorization"].removeprefix("Bearer ")
        await limited_client.get(PUBLIC, headers=role_headers["analyst"])
        await limited_client.get(PUBLIC, headers=role_headers["analyst"])
        limited_client.cookies.set("access_token", token)
        assert (await limited_client.get(PUBLIC)).headers["X-RateLimit-Remaining"] == "0"
        assert (await limited_client.get(PUBLIC)).status_code == 429

    async def test_invalid_token_counts_against_the_ip(self, limited_client: AsyncClient) -> None:
        for _ in range(3):
            await limited_client.get(PUBLIC)
        forged = await limited_client.get(PUBLIC, headers={"Authorization": "Bearer not.a.real.token"})
        assert forged.status_code == 429

    async def test_api_keys_have_their_own_buckets(self, limited_client: AsyncClient) -> None:
        first = {"X-API-Key": "aurora_" + "a" * 64}
        second = {"X-API-Key": "aurora_" + "b" * 64}
        statuses = [(await limited_client.get(PUBLIC, headers=first)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert (await limited_client.get(PUBLIC, headers=second)).status_code == 200
        assert (await limited_client.get(PUBLIC)).status_code == 200


class TestLoginLimit:
    async def test_bucket_per_ip_and_username(self, small_limits: None) -> None:
        before = _rejections("login")
        await enforce_login_limit("10.0.0.1", "alice")
        await enforce_login_limit("10.0.0.1", "alice")
        with pytest.raises(HTTPException) as caught:
            await enforce_login_limit("10.0.0.1", "alice")
        assert caught.value.status_code == 429
        assert caught.value.headers == {
            "Retry-After": "60",
            "X-RateLimit-Limit": "2",
            "X-RateLimit-Remaining": "0",
        }
        assert _rejections("login") == before + 1
        await enforce_login_limit("10.0.0.1", "bob")
        await enforce_login_limit("10.0.0.2", "alice")

    async def test_username_case_does_not_open_a_new_bucket(self, small_limits: None) -> None:
        await enforce_login_limit("10.0.0.1", "alice")
        await enforce_login_limit("10.0.0.1", "ALICE")
        with pytest.raises(HTTPException):
            await enforce_login_limit("10.0.0.1", "Alice")

    async def test_fresh_settings_give_a_fresh_limiter(self, small_limits: None) -> None:
        for _ in range(2):
            await enforce_login_limit(None, "alice")
        reset_settings()
        await enforce_login_limit(None, "alice")
