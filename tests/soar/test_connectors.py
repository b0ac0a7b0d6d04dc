"""Tests for aurorasoc.connectors: simulated default, webhook against a real HTTP server, registry."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from soar_support import playbook, step, store_playbook
from sqlalchemy import select

from aurorasoc.core import runtime
from aurorasoc.core.config import reset_settings
from aurorasoc.core.errors import Conflict
from aurorasoc.core.models import ConnectorActionModel
from aurorasoc.soar.actions import ActionContext
from aurorasoc.soar.connectors.base import ConnectorError
from aurorasoc.soar.connectors.registry import ConnectorRegistry, build_connectors
from aurorasoc.soar.connectors.simulated import SimulatedConnector
from aurorasoc.soar.connectors.webhook import WebhookNotifyConnector
from aurorasoc.soar.executions import ExecutionService

FAST = {"backoff_s": 0.01, "max_backoff_s": 0.02, "timeout": 2.0}


class ScriptedWebhook:
    """A real HTTP server on 127.0.0.1 answering with the scripted statuses, then the last one forever."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                outer.bodies.append(json.loads(self.rfile.read(length)))
                index = min(len(outer.bodies) - 1, len(outer.statuses) - 1)
                self.send_response(outer.statuses[index])
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> ScriptedWebhook:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def closed_port_url() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield f"http://127.0.0.1:{port}/hook"


class TestWebhookConnector:
    async def test_retries_5xx_then_delivers(self):
        with ScriptedWebhook([503, 502, 200]) as hook:
            result = await WebhookNotifyConnector(hook.url, attempts=4, **FAST).notify(
                "soc", "hello", {"case": "c1"}
            )
        assert result == {"status": "delivered", "http_status": 200, "attempts": 3}
        assert len(hook.bodies) == 3
        assert hook.bodies[0] == {"channel": "soc", "message": "hello", "payload": {"case": "c1"}}

    async def test_gives_up_after_the_attempt_limit(self):
        with ScriptedWebhook([500]) as hook, pytest.raises(ConnectorError) as failure:
            await WebhookNotifyConnector(hook.url, attempts=3, **FAST).notify("soc", "x", {})
        assert len(hook.bodies) == 3
        assert failure.value.details["attempts"] == 3
        assert "HTTP 500" in str(failure.value)

    async def test_client_error_is_not_retried(self):
        with (
            ScriptedWebhook([400]) as hook,
            pytest.raises(ConnectorError, match="refused the message: HTTP 400"),
        ):
            await WebhookNotifyConnector(hook.url, attempts=5, **FAST).notify("soc", "x", {})
        assert len(hook.bodies) == 1

    async def test_transport_errors_are_retried(self, closed_port_url):
        with pytest.raises(ConnectorError) as failure:
            await WebhookNotifyConnector(closed_port_url, attempts=2, **FAST).notify("soc", "x", {})
        assert failure.value.details["attempts"] == 2
        assert "ConnectError" in str(failure.value)

    async def test_failed_delivery_is_recorded_and_fails_the_step(self, db_session):
        with ScriptedWebhook([500]) as hook:
            connectors = ConnectorRegistry({"notify": WebhookNotifyConnector(hook.url, attempts=3, **FAST)})
            pb = await store_playbook(db_session, playbook(
                "page-soc", step("page", "notify", "write_internal", parameters={"message": "incident"})
            ))  # fmt: skip
            execution = await ExecutionService(db_session, connectors=connectors).execute(pb, actor="analyst")
        assert execution.status == "failed"
        assert "webhook failed after 3 attempts" in execution.error
        row = (await db_session.scalars(select(ConnectorActionModel))).one()
        assert (row.connector, row.action, row.status, row.simulated) == (
            "webhook",
            "notify",
            "failed",
            False,
        )
        assert row.result["attempts"] == 3 and row.result["url"] == hook.url


class TestSimulatedConnector:
    async def test_records_what_it_would_do(self, db_session):
        ctx = ActionContext(db_session, ConnectorRegistry(), actor="tester")
        result = await ctx.call(
            "firewall", "block_ip", "192.0.2.7", ip="192.0.2.7", duration_s=60, reason="test"
        )
        await db_session.flush()
        assert result["status"] == "simulated" and result["would"]["ip"] == "192.0.2.7"
        row = (await db_session.scalars(select(ConnectorActionModel))).one()
        assert (row.connector, row.action, row.target, row.simulated) == (
            "simulated",
            "block_ip",
            "192.0.2.7",
            True,
        )
        assert row.params == {"ip": "192.0.2.7", "duration_s": 60, "reason": "test"}

    async def test_external_calls_need_real_mode(self, db_session):
        ctx = ActionContext(db_session, ConnectorRegistry(), actor="tester")
        runtime.set_mode("dry_run")
        try:
            with pytest.raises(Conflict, match="dry_run mode blocks external"):
                await ctx.call("edr", "isolate_host", "h1", host="h1", reason="x")
        finally:
            runtime.reset_mode()
        await db_session.flush()
        assert (await db_session.scalars(select(ConnectorActionModel))).all() == []


class LabelledEDR(SimulatedConnector):
    name = "labelled-edr"


class TestRegistry:
    def test_defaults_are_simulated(self):
        connectors = build_connectors()
        assert all(connectors.get(cap).simulated for cap in ("edr", "firewall", "identity", "pki", "notify"))

    def test_webhook_url_selects_the_real_notify_connector(self, monkeypatch):
        monkeypatch.setenv("AURORA_NOTIFY_WEBHOOK_URL", "http://127.0.0.1:9/hook")
        reset_settings()
        notify = build_connectors().get("notify")
        assert isinstance(notify, WebhookNotifyConnector) and notify.url == "http://127.0.0.1:9/hook"

    def test_setting_plugs_in_a_connector_class(self, monkeypatch):
        monkeypatch.setenv("AURORA_CONNECTORS", json.dumps({"edr": "test_connectors:LabelledEDR"}))
        reset_settings()
        assert build_connectors().get("edr").name == "labelled-edr"
