"""Tests for the system routes: health, readiness, metrics and the runtime mode."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AuditLogModel, SystemSettingModel


async def _db_down(*, force: bool = False):
    return False


class TestHealth:
    async def test_health_is_public_and_reports_dependencies(self, client):
        resp = await client.get("/health")
        assert resp.status_code == 200
        body = resp.json()
        assert body["status"] == "ok"
        assert body["database"] == "up"
        assert body["redis"] == "disabled"
        assert body["mode"] == "real"

    async def test_every_response_has_a_request_id(self, client):
        resp = await client.get("/health")
        assert len(resp.headers["x-request-id"]) == 32

    async def test_incoming_request_id_is_echoed(self, client):
        resp = await client.get("/health", headers={"X-Request-ID": "trace-123"})
        assert resp.headers["x-request-id"] == "trace-123"

    async def test_ready_is_503_when_db_down_in_real(self, client, monkeypatch):
        monkeypatch.setattr("aurorasoc.api.router_system.probe_database", _db_down)
        resp = await client.get("/health/ready")
        assert resp.status_code == 503
        assert (await client.get("/health")).status_code == 200

    async def test_metrics_exposition(self, client):
        await client.get("/health")
        resp = await client.get("/metrics")
        assert resp.status_code == 200
        assert "http_requests_total" in resp.text

    async def test_landing_page_links_docs(self, client):
        resp = await client.get("/")
        assert resp.status_code == 200
        assert "/api/v1/docs" in resp.text


class TestSystemMode:
    async def test_requires_authentication(self, client):
        assert (await client.get("/api/v1/system/mode")).status_code == 401

    async def test_any_principal_reads_runtime_truth(self, client, role_headers):
        resp = await client.get("/api/v1/system/mode", headers=role_headers["viewer"])
        assert resp.status_code == 200
        assert resp.json()["mode"] == "real"
        assert resp.json()["read_data_source"] == "database"

    async def test_startup_mode_is_persisted(self, client):
        async with session_scope() as session:
            row = await session.get(SystemSettingModel, "runtime_mode")
        assert row.value == "real"

    async def test_db_down_reports_unavailable(self, client, role_headers, monkeypatch):
        monkeypatch.setattr("aurorasoc.api.router_system.probe_database", _db_down)
        body = (await client.get("/api/v1/system/mode", headers=role_headers["viewer"])).json()
        assert body["is_database_available"] is False
        assert body["read_data_source"] == "unavailable"

    async def test_change_needs_settings_manage(self, client, role_headers):
        resp = await client.put(
            "/api/v1/system/mode", json={"mode": "dry_run"}, headers=role_headers["analyst"]
        )
        assert resp.status_code == 403

    async def test_admin_changes_mode_and_it_is_audited(self, client, admin_headers):
        resp = await client.put("/api/v1/system/mode", json={"mode": "dry_run"}, headers=admin_headers)
        assert resp.status_code == 200
        assert resp.json()["mode"] == "dry_run"
        assert resp.json()["is_mutations_allowed"] is False
        async with session_scope() as session:
            entry = (
                await session.execute(select(AuditLogModel).where(AuditLogModel.action == "mode.change"))
            ).scalar_one()
            stored = await session.get(SystemSettingModel, "runtime_mode")
        assert entry.details == {"before": "real", "after": "dry_run"}
        assert entry.actor == "admin"
        assert stored.value == "dry_run"

    async def test_mode_change_allowed_from_dummy(self, client, admin_headers):
        await client.put("/api/v1/system/mode", json={"mode": "dummy"}, headers=admin_headers)
        resp = await client.put("/api/v1/system/mode", json={"mode": "real"}, headers=admin_headers)
        assert resp.json()["mode"] == "real"

    async def test_unknown_mode_is_422(self, client, admin_headers):
        resp = await client.put("/api/v1/system/mode", json={"mode": "chaos"}, headers=admin_headers)
        assert resp.status_code == 422


class TestHealthWithRealServices:
    """Configured brokers are probed, not assumed (integration: real NATS, Mosquitto, Redis)."""

    @pytest.fixture
    async def configured_client(self, monkeypatch, app_db):
        from conftest import require_service
        from httpx import ASGITransport, AsyncClient

        from aurorasoc.api.main import create_app
        from aurorasoc.core.config import reset_settings

        mqtt = urlparse(require_service("mqtt"))
        monkeypatch.setenv("AURORA_NATS_URL", require_service("nats"))
        monkeypatch.setenv("AURORA_REDIS_URL", require_service("redis"))
        monkeypatch.setenv("MQTT_ENABLED", "true")
        monkeypatch.setenv("MQTT_HOST", mqtt.hostname or "127.0.0.1")
        monkeypatch.setenv("MQTT_PORT", str(mqtt.port or 1883))
        reset_settings()
        app = create_app()
        transport = ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            AsyncClient(transport=transport, base_url="http://testserver") as client,
        ):
            yield client

    @pytest.mark.integration
    async def test_reports_reachable_brokers_up(self, configured_client):
        body = (await configured_client.get("/health")).json()
        assert (body["redis"], body["nats"], body["mqtt"]) == ("up", "up", "up")

    @pytest.mark.integration
    async def test_unreachable_broker_reports_down(self, configured_client, monkeypatch):
        from aurorasoc.core.config import reset_settings

        monkeypatch.setenv("AURORA_NATS_URL", "nats://127.0.0.1:1")
        reset_settings()
        assert (await configured_client.get("/health")).json()["nats"] == "down"

    @pytest.mark.integration
    async def test_mode_change_is_on_the_audit_stream(self, configured_client, role_headers):
        import orjson
        import redis.asyncio as aioredis
        from conftest import SERVICE_URLS

        reader = aioredis.from_url(SERVICE_URLS["redis"])
        last = await reader.xrevrange("aurora:audit", count=1)
        start = last[0][0] if last else "0-0"
        resp = await configured_client.put(
            "/api/v1/system/mode", json={"mode": "dry_run"}, headers=role_headers["admin"]
        )
        assert resp.status_code == 200
        entries = await reader.xrange(
            "aurora:audit", min=f"({start.decode() if isinstance(start, bytes) else start}"
        )
        await reader.aclose()
        actions = [orjson.loads(fields[b"data"]) for _, fields in entries]
        assert any(a["action"] == "mode.change" and a["details"]["after"] == "dry_run" for a in actions)


def test_a_discarded_app_is_freed():
    """FastAPI caches every dependency call process-wide; a route handler closing over ``app``
    kept each discarded app alive (the API suite, one app per test, grew to 1 GB)."""
    import gc
    import weakref

    from aurorasoc.api.main import create_app

    ref = weakref.ref(create_app())
    gc.collect()
    assert ref() is None
