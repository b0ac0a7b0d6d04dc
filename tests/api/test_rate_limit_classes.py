"""Issue #18 finding 9: rate limits per route class, so one kind of traffic cannot lock out another."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from aurorasoc.api.rate_limit import route_class
from aurorasoc.core.config import reset_settings


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/api/v1/cps/devices", "read"),
        ("HEAD", "/api/v1/alerts", "read"),
        ("POST", "/api/v1/alerts", "write"),
        ("PATCH", "/api/v1/cases/x", "write"),
        ("POST", "/api/v1/siem/ingest", "ingest"),
        ("POST", "/api/v1/cps/devices/esp32-1/telemetry", "ingest"),
        ("POST", "/api/v1/auth/token", "auth"),
        ("GET", "/api/v1/auth/oidc/callback", "auth"),
        ("GET", "/api/v1/auth/providers", "read"),
    ],
)
def test_route_class(method: str, path: str, expected: str) -> None:
    assert route_class(method, path) == expected


@pytest.fixture
async def classed_client(monkeypatch: pytest.MonkeyPatch, app_db: None) -> AsyncIterator[AsyncClient]:
    for name, value in {"REQUESTS": "3", "WRITES": "2", "INGEST": "2", "AUTH": "2"}.items():
        monkeypatch.setenv(f"AURORA_RATE_LIMIT_{name}", value)
    reset_settings()
    from aurorasoc.api.main import create_app
    from aurorasoc.core import runtime

    runtime.reset_mode()
    app: FastAPI = create_app()
    transport = ASGITransport(app=app)
    async with app.router.lifespan_context(app), AsyncClient(transport=transport, base_url="http://t") as c:
        yield c
    runtime.reset_mode()


ALERT = {"title": "Rate class probe", "severity": "low", "source": "test"}


async def test_exhausted_reads_leave_writes_and_ingest_open(classed_client, role_headers):
    analyst = role_headers["analyst"]
    reads = [(await classed_client.get("/api/v1/alerts", headers=analyst)).status_code for _ in range(4)]
    assert reads == [200, 200, 200, 429]
    created = await classed_client.post("/api/v1/alerts", json=ALERT, headers=analyst)
    assert created.status_code == 201, created.text
    assert (created.headers["X-RateLimit-Class"], created.headers["X-RateLimit-Limit"]) == ("write", "2")
    ingest = await classed_client.post(
        "/api/v1/siem/ingest?format=json&source=probe", content=b'{"message": "x"}', headers=analyst
    )
    assert ingest.headers["X-RateLimit-Class"] == "ingest" and ingest.status_code != 429


async def test_429_tells_the_class_and_when_to_retry(classed_client, role_headers):
    analyst = role_headers["analyst"]
    for _ in range(2):
        await classed_client.post("/api/v1/alerts", json=ALERT, headers=analyst)
    refused = await classed_client.post("/api/v1/alerts", json=ALERT, headers=analyst)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    detail = refused.json()["detail"]
    assert (detail["code"], detail["class"], detail["retry_after"]) == ("rate_limited", "write", 60)
    assert (await classed_client.get("/api/v1/alerts", headers=analyst)).status_code == 200


async def test_sign_in_attempts_are_counted_per_address_not_against_reads(classed_client):
    bad = {"username": "nobody", "password": "wrong password here"}
    statuses = [(await classed_client.post("/api/v1/auth/token", json=bad)).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    assert (await classed_client.get("/api/v1/auth/providers")).status_code == 200
