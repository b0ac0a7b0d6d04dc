"""Tests for aurorasoc.api.ws: the /api/v1/ws/alerts channel and its ConnectionManager.

The channel tests drive the real app (lifespan, bus, auth against the temp SQLite DB) through
Starlette's TestClient, whose WebSocket sessions run in the app's event loop; so they are
plain synchronous tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest
import redis
from conftest import require_service
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.types import Message
from starlette.websockets import WebSocketState

from aurorasoc.alerts.events import ALERTS_STREAM, publish_alert_event
from aurorasoc.api import ws, ws_manager
from aurorasoc.api.main import create_app
from aurorasoc.api.ws_manager import ConnectionManager
from aurorasoc.core import runtime
from aurorasoc.core.auth import create_token
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.bus.inprocess import InProcessBus
from aurorasoc.core.bus.redis_streams import RedisStreamsBus
from aurorasoc.core.config import reset_settings
from aurorasoc.core.metrics import WS_CONNECTIONS
from aurorasoc.core.models import AlertModel, Base, HumanApprovalModel
from aurorasoc.core.vocabulary import Role
from aurorasoc.soar.approvals import APPROVALS_STREAM, approval_event

PATH = "/api/v1/ws/alerts"
USERS = (Role.VIEWER, Role.ANALYST, Role.API_SERVICE)


async def _create_schema_and_users() -> None:
    from aurorasoc.access.users import UserService
    from aurorasoc.core.db import dispose_engine, get_engine, session_scope

    async with get_engine().begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with session_scope() as session:
        for role in USERS:  # SSO-provisioned rows: no password hashing, so setup stays fast
            await UserService(session).create(role.value, None, role, auth_provider="oidc")
    await dispose_engine()  # the engine belongs to this loop; the app makes its own


@contextlib.contextmanager
def serve_app() -> Iterator[TestClient]:
    """The real app with its lifespan running, over a temp SQLite DB holding one user per role."""
    asyncio.run(_create_schema_and_users())
    runtime.reset_mode()
    try:
        with TestClient(create_app()) as test_client:
            yield test_client
    finally:
        runtime.reset_mode()


@pytest.fixture
def client() -> Iterator[TestClient]:
    with serve_app() as test_client:
        yield test_client


def sample_alert() -> AlertModel:
    """An alert as the service would publish it after commit (not persisted: the feed is DB-free)."""
    return AlertModel(
        id=uuid.uuid4(),
        title="Brute force on vpn-gw",
        severity="high",
        status="new",
        source="network",
        iocs=["10.0.0.5"],
        mitre_techniques=["T1110.001"],
        occurrence_count=1,
    )


def token(role: Role) -> str:
    return create_token(role.value, role)


def bearer(jwt: str) -> list[str]:
    """A JWT offered as ``Sec-WebSocket-Protocol: aurorasoc.bearer, <jwt>`` (never in the URL)."""
    return [ws.WS_BEARER_PROTOCOL, jwt]


def receive(session: WebSocketTestSession, timeout: float = 3.0) -> Message:
    """Next server message, failing instead of hanging (TestClient's own receive never times out)."""

    async def _next() -> Message:
        with anyio.fail_after(timeout):
            return await session._send_rx.receive()  # the session's server → client queue

    message: Message = session.portal.call(_next)
    return message


def receive_json(session: WebSocketTestSession) -> Any:
    message = receive(session)
    assert message["type"] == "websocket.send", message
    return json.loads(message["text"])


def assert_closed(session: WebSocketTestSession, code: int) -> Message:
    message = receive(session)
    assert message["type"] == "websocket.close"
    assert message["code"] == code
    return message


def ping_pong(session: WebSocketTestSession) -> None:
    session.send_json({"type": "ping"})
    assert receive_json(session) == {"type": "pong"}


class TestAlertsChannelAuth:
    def test_no_credentials_closes_1008(self, client: TestClient) -> None:
        with client.websocket_connect(PATH) as session:
            assert_closed(session, 1008)

    def test_invalid_token_closes_1008(self, client: TestClient) -> None:
        with client.websocket_connect(PATH, subprotocols=bearer("not.a.real.token")) as session:
            assert_closed(session, 1008)

    def test_missing_ws_alerts_permission_closes_1008(self, client: TestClient) -> None:
        with client.websocket_connect(PATH, subprotocols=bearer(token(Role.API_SERVICE))) as session:
            assert_closed(session, 1008)

    def test_unknown_user_closes_1008(self, client: TestClient) -> None:
        ghost = create_token("ghost-user", Role.ADMIN)
        with client.websocket_connect(PATH, subprotocols=bearer(ghost)) as session:
            assert_closed(session, 1008)

    def test_viewer_subprotocol_token_is_accepted(self, client: TestClient) -> None:
        with client.websocket_connect(PATH, subprotocols=bearer(token(Role.VIEWER))) as session:
            ping_pong(session)

    def test_bearer_header_is_accepted(self, client: TestClient) -> None:
        headers = {"Authorization": f"Bearer {token(Role.ANALYST)}"}
        with client.websocket_connect(PATH, headers=headers) as session:
            ping_pong(session)

    def test_cookie_is_accepted(self, client: TestClient) -> None:
        client.cookies.set("access_token", token(Role.VIEWER))
        with client.websocket_connect(PATH) as session:
            ping_pong(session)


class TestAlertsChannelFeed:
    def test_other_client_messages_are_ignored(self, client: TestClient) -> None:
        with client.websocket_connect(PATH, subprotocols=bearer(token(Role.VIEWER))) as session:
            session.send_text("hello")
            session.send_json({"type": "subscribe"})
            ping_pong(session)  # still open, and the pong is the first reply

    def test_published_alert_event_reaches_every_socket(self, client: TestClient) -> None:
        alert = sample_alert()
        protocols = bearer(token(Role.VIEWER))
        with (
            client.websocket_connect(PATH, subprotocols=protocols) as first,
            client.websocket_connect(PATH, subprotocols=protocols) as second,
        ):
            ping_pong(first)
            ping_pong(second)  # both registered before the event is published
            first.portal.call(publish_alert_event, alert, "created")
            for session in (first, second):
                event = receive_json(session)
                assert event["event"] == "created"
                assert event["id"] == str(alert.id)
                assert (event["title"], event["severity"], event["iocs"]) == (
                    "Brute force on vpn-gw",
                    "high",
                    ["10.0.0.5"],
                )
                assert set(event) >= {"status", "source", "mitre_techniques", "case_id", "timestamp"}

    @pytest.mark.integration
    def test_feed_works_over_redis_streams(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With ``AURORA_REDIS_URL`` the per-process group reads ``aurora:alerts`` from Redis."""
        url = require_service("redis")
        monkeypatch.setenv("AURORA_REDIS_URL", url)
        reset_settings()
        alert = sample_alert()
        inspector = redis.Redis.from_url(url, decode_responses=True)
        try:
            with (
                serve_app() as client,
                client.websocket_connect(PATH, subprotocols=bearer(token(Role.VIEWER))) as ws_,
            ):
                assert isinstance(get_bus(), RedisStreamsBus)
                ping_pong(ws_)
                ws_.portal.call(publish_alert_event, alert, "updated")
                event = receive_json(ws_)
            groups = {g["name"] for g in inspector.xinfo_groups(ALERTS_STREAM)}
        finally:
            inspector.delete(ALERTS_STREAM)
            inspector.close()
        assert (event["event"], event["id"]) == ("updated", str(alert.id))
        assert ws.process_group("api-ws-alerts") not in groups  # destroyed at shutdown

    def test_posted_alert_is_broadcast(self, client: TestClient) -> None:
        headers = {"Authorization": f"Bearer {token(Role.ANALYST)}"}
        body = {"title": "Suspicious PowerShell", "severity": "critical", "source": "endpoint"}
        with client.websocket_connect(PATH, subprotocols=bearer(token(Role.VIEWER))) as session:
            ping_pong(session)
            response = client.post("/api/v1/alerts", json=body, headers=headers)
            assert response.status_code == 201, response.text
            event = receive_json(session)
        assert event["event"] == "created"
        assert event["id"] == response.json()["id"]
        assert event["title"] == "Suspicious PowerShell"

    def test_server_pings_idle_clients(self, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(ws.alerts_manager, "ping_interval", 0.05)
        with client.websocket_connect(PATH, subprotocols=bearer(token(Role.VIEWER))) as session:
            assert receive_json(session) == {"type": "ping"}

    def test_connection_cap_closes_1013(self, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(ws_manager, "MAX_CONNECTIONS", 2)
        protocols = bearer(token(Role.VIEWER))
        with (
            client.websocket_connect(PATH, subprotocols=protocols) as first,
            client.websocket_connect(PATH, subprotocols=protocols) as second,
        ):
            ping_pong(first)
            ping_pong(second)
            with client.websocket_connect(PATH, subprotocols=protocols) as third:
                closed = assert_closed(third, 1013)
                assert closed["reason"] == "Max connections reached"
            ping_pong(first)  # the existing sockets are unaffected


class FakeSocket:
    """The slice of Starlette's WebSocket the manager uses; ``broken`` sockets fail to send."""

    def __init__(self, *, broken: bool = False) -> None:
        self.broken = broken
        self.sent: list[dict[str, Any]] = []
        self.closed: tuple[int, str | None] | None = None
        self.application_state = WebSocketState.CONNECTING

    async def accept(self, subprotocol: str | None = None) -> None:
        self.application_state = WebSocketState.CONNECTED

    async def send_json(self, data: dict[str, Any]) -> None:
        if self.broken:
            raise RuntimeError("connection reset")
        self.sent.append(data)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = (code, reason)
        self.application_state = WebSocketState.DISCONNECTED


def gauge(channel: str) -> float:
    return WS_CONNECTIONS.labels(channel)._value.get()  # type: ignore[no-any-return]


class TestConnectionManager:
    async def test_broadcast_reaches_all_and_drops_failed_sockets(self) -> None:
        manager = ConnectionManager("test-broadcast")
        healthy, broken = FakeSocket(), FakeSocket(broken=True)
        for socket in (healthy, broken):
            assert await manager.connect(socket)  # type: ignore[arg-type]
        assert gauge("test-broadcast") == 2
        await manager.broadcast({"event": "created"})
        assert healthy.sent == [{"event": "created"}]
        assert manager.count == 1 and broken.closed is not None
        assert gauge("test-broadcast") == 1
        await manager.close_all()

    async def test_close_all_closes_every_socket(self) -> None:
        manager = ConnectionManager("test-shutdown")
        sockets = [FakeSocket(), FakeSocket()]
        for socket in sockets:
            await manager.connect(socket)  # type: ignore[arg-type]
        await manager.close_all()
        assert [s.closed for s in sockets] == [(1001, "Server shutting down")] * 2
        assert manager.count == 0 and gauge("test-shutdown") == 0

    async def test_register_alert_feed_subscribes_a_per_process_group(self) -> None:
        bus = InProcessBus(max_deliveries=1, backoff_base=0)
        manager = ConnectionManager("test-feed")
        socket = FakeSocket()
        await manager.connect(socket)  # type: ignore[arg-type]
        ws.register_alert_feed(bus, manager)
        await bus.start()
        await bus.publish(ALERTS_STREAM, {"event": "updated", "id": "a-1"})
        group = ws.process_group("api-ws-alerts")
        await bus.join(ALERTS_STREAM, group)
        await bus.close()
        await manager.close_all()
        assert group.startswith("api-ws-alerts:") and group.endswith(f":{os.getpid()}")
        assert socket.sent == [{"event": "updated", "id": "a-1"}]


class TestApprovalsChannel:
    APPROVALS = "/api/v1/ws/approvals"

    def test_needs_approvals_read(self, client: TestClient) -> None:
        with client.websocket_connect(self.APPROVALS, subprotocols=bearer(token(Role.VIEWER))) as session:
            assert_closed(session, 1008)

    def test_requests_and_decisions_are_forwarded_in_the_channel_shape(self, client: TestClient) -> None:
        approval = HumanApprovalModel(
            id=uuid.uuid4(), action_type="isolate_host", target="pc-1", risk_level="high", status="pending",
            requested_by="playbook:malware-response", expires_at=datetime(2026, 11, 24, 12, 30, tzinfo=UTC),
        )  # fmt: skip
        with client.websocket_connect(self.APPROVALS, subprotocols=bearer(token(Role.ANALYST))) as session:
            ping_pong(session)
            session.portal.call(get_bus().publish, APPROVALS_STREAM, approval_event(approval, "requested"))
            approval.status = "approved"
            session.portal.call(get_bus().publish, APPROVALS_STREAM, approval_event(approval, "approved"))
            created, decided = receive_json(session), receive_json(session)
        assert created == {
            "event": "created",
            "approval": {
                "id": str(approval.id), "case_id": None, "action_type": "isolate_host", "target": "pc-1",
                "risk_level": "high", "status": "pending", "expires_at": "2026-11-24T12:30:00+00:00",
                "requested_by": "playbook:malware-response",
            },
        }  # fmt: skip
        assert (decided["event"], decided["approval"]["status"]) == ("decided", "approved")
