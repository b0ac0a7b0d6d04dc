"""WebSocket channels (spec §11): authenticated, server → client feeds from the event bus.

Each API process reads a channel's stream through its own consumer group
``<group>:<hostname>:<pid>`` (created from ``$`` at start, destroyed at shutdown), so every
replica's sockets see every message. ``register_alert_feed`` is appended to
``app.state.consumers`` and wires the bus to the channel's ``ConnectionManager``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, WebSocket
from starlette.status import WS_1008_POLICY_VIOLATION

from aurorasoc.alerts.events import ALERTS_STREAM
from aurorasoc.api.ws_manager import ConnectionManager
from aurorasoc.core.audit import AUDIT_STREAM
from aurorasoc.core.auth import Principal, resolve_principal
from aurorasoc.core.bus.base import BusMessage, EventBus
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.cps.outbox import CPS_EVENTS_STREAM
from aurorasoc.soar.approvals import APPROVALS_STREAM

router = IndexedRouter()

alerts_manager = ConnectionManager("alerts")
approvals_manager = ConnectionManager("approvals")
cps_manager = ConnectionManager("cps")
thoughts_manager = ConnectionManager("agent-thoughts")
MANAGERS = (alerts_manager, approvals_manager, cps_manager, thoughts_manager)
_THOUGHT_FIELDS = ("agent", "action", "investigation_id", "seq", "event_type", "detail", "timestamp")
_APPROVAL_EVENTS = {
    "requested": "created",
    "approved": "decided",
    "rejected": "decided",
    "expired": "expired",
}
_APPROVAL_FIELDS = ("case_id", "action_type", "target", "risk_level", "status", "expires_at", "requested_by")


def process_group(base: str) -> str:
    """The per-process consumer group of a WebSocket feed (``api-ws-alerts:<host>:<pid>``)."""
    return f"{base}:{socket.gethostname()}:{os.getpid()}"


FEED_BATCH = 500
# In a burst a feed waits this long for more before broadcasting: single POSTs arriving one by one
# made it read and acknowledge every message on its own (two Redis round trips per request in the
# API process). A lone message is broadcast at once; a socket sees a burst at most 50 ms later.
FEED_LINGER_SECONDS = 0.05


def _feed(
    bus: EventBus,
    stream: str,
    group: str,
    manager: ConnectionManager,
    shape: Callable[[dict[str, Any]], dict[str, Any] | None],
) -> None:
    """Broadcast each message of ``stream`` that ``shape`` turns into a channel message, in order.

    A feed reads in batches: one read and one acknowledgement per batch instead of per message
    (per message, the alert feed of an API process cost a third of its CPU under a batch load),
    lingering in a burst so that a stream of single writes is read in batches too."""

    async def _forward(messages: list[BusMessage]) -> None:
        for message in messages:
            if (payload := shape(message.data)) is not None:
                await manager.broadcast(payload)

    bus.subscribe_batch(
        stream, process_group(group), _forward, batch_size=FEED_BATCH, linger=FEED_LINGER_SECONDS
    )


def _as_is(data: dict[str, Any]) -> dict[str, Any]:
    return data


def register_alert_feed(bus: EventBus, manager: ConnectionManager = alerts_manager) -> None:
    """Broadcast every ``aurora:alerts`` message (already in the §11 shape) to ``manager``."""
    _feed(bus, ALERTS_STREAM, "api-ws-alerts", manager, _as_is)


def approval_message(data: dict[str, Any]) -> dict[str, Any] | None:
    """A ``decisions:approvals`` event in the §11 shape; None for events the feed does not carry."""
    event = _APPROVAL_EVENTS.get(str(data.get("type", "")).removeprefix("approval."))
    if event is None:
        return None
    approval = {"id": data.get("approval_id"), **{key: data.get(key) for key in _APPROVAL_FIELDS}}
    return {"event": event, "approval": approval}


def register_approval_feed(bus: EventBus, manager: ConnectionManager = approvals_manager) -> None:
    """Broadcast approval requests and decisions to the ``/ws/approvals`` sockets."""
    _feed(bus, APPROVALS_STREAM, "api-ws-approvals", manager, approval_message)


def register_cps_feed(bus: EventBus, manager: ConnectionManager = cps_manager) -> None:
    """Broadcast ``aurora:cps:events`` (already in the §11 shape) to the ``/ws/cps`` sockets."""
    _feed(bus, CPS_EVENTS_STREAM, "api-ws-cps", manager, _as_is)


def thought_message(data: dict[str, Any]) -> dict[str, Any] | None:
    """An ``agent_step`` of ``aurora:audit`` as a ``/ws/agent-thoughts`` message; None otherwise."""
    if data.get("type") != "agent_step":
        return None
    return {key: data.get(key) for key in _THOUGHT_FIELDS}


def register_thoughts_feed(bus: EventBus, manager: ConnectionManager = thoughts_manager) -> None:
    """Broadcast ``agent_step`` messages of ``aurora:audit`` to the ``/ws/agent-thoughts`` sockets."""
    _feed(bus, AUDIT_STREAM, "api-ws-thoughts", manager, thought_message)


async def close_all() -> None:
    """Close every socket of every channel (API shutdown)."""
    for manager in MANAGERS:
        await manager.close_all()


WS_BEARER_PROTOCOL = "aurorasoc.bearer"


def _protocol_token(websocket: WebSocket) -> str | None:
    """The JWT offered as ``Sec-WebSocket-Protocol: aurorasoc.bearer, <jwt>`` (never in the URL,
    which servers and proxies log)."""
    offered = [str(p) for p in websocket.scope.get("subprotocols", [])]
    if WS_BEARER_PROTOCOL in offered:
        rest = offered[offered.index(WS_BEARER_PROTOCOL) + 1 :]
        return rest[0] if rest else None
    return None


def _chosen_protocol(websocket: WebSocket) -> str | None:
    """Echo ``aurorasoc.bearer`` when offered: a browser drops a socket whose protocol is unanswered."""
    return WS_BEARER_PROTOCOL if WS_BEARER_PROTOCOL in websocket.scope.get("subprotocols", []) else None


async def _authorize(websocket: WebSocket, permission: str) -> Principal | None:
    """Principal per §7.1 (header, API key, cookie, or the ``aurorasoc.bearer`` subprotocol)."""
    try:
        principal = await resolve_principal(websocket.headers, websocket.cookies, _protocol_token(websocket))
    except HTTPException:
        return None
    if principal is None or not principal.can(permission):
        return None
    return principal


async def _serve(websocket: WebSocket, manager: ConnectionManager, permission: str) -> None:
    """Authenticate, join the channel and answer pings until the client leaves.

    Refused sockets are accepted and then closed with 1008, so browsers can read the code
    (a handshake rejection only surfaces as an opaque 1006).
    """
    protocol = _chosen_protocol(websocket)
    if await _authorize(websocket, permission) is None:
        await websocket.accept(subprotocol=protocol)
        await websocket.close(code=WS_1008_POLICY_VIOLATION, reason="Not authorized")
        return
    if await manager.connect(websocket, subprotocol=protocol):
        await manager.listen(websocket)


@router.websocket("/ws/alerts")
async def alerts_feed(websocket: WebSocket) -> None:
    """Live alert changes (created / updated / deduplicated). Permission: ws:alerts"""
    await _serve(websocket, alerts_manager, "ws:alerts")


@router.websocket("/ws/approvals")
async def approvals_feed(websocket: WebSocket) -> None:
    """Approval requests, decisions and expiries. Permission: approvals:read"""
    await _serve(websocket, approvals_manager, "approvals:read")


@router.websocket("/ws/cps")
async def cps_feed(websocket: WebSocket) -> None:
    """Device status, telemetry, attestation and correlation events. Permission: cps:read"""
    await _serve(websocket, cps_manager, "cps:read")


@router.websocket("/ws/agent-thoughts")
async def agent_thoughts_feed(websocket: WebSocket) -> None:
    """Every agent step of running investigations. Permission: ws:agent_thoughts"""
    await _serve(websocket, thoughts_manager, "ws:agent_thoughts")
