"""WebSocket connection management: one ``ConnectionManager`` per channel (spec §11).

The manager owns the sockets of one channel: it enforces the connection cap, broadcasts
bus messages, keeps idle connections alive with a server ping and answers client pings.
A socket whose send fails is dropped at once, so one dead client never stalls the feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from aurorasoc.core.metrics import WS_CONNECTIONS

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 500
PING_INTERVAL_SECONDS = 30.0
SEND_TIMEOUT_SECONDS = 5.0
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_GOING_AWAY = 1001
PING = {"type": "ping"}
PONG = {"type": "pong"}


class ConnectionManager:
    """The open sockets of one channel (``alerts``, ``agent_thoughts`` …)."""

    def __init__(self, channel: str, *, ping_interval: float = PING_INTERVAL_SECONDS) -> None:
        self.channel = channel
        self.ping_interval = ping_interval
        self._connections: set[WebSocket] = set()
        self._ping_task: asyncio.Task[None] | None = None

    @property
    def count(self) -> int:
        return len(self._connections)

    async def connect(self, websocket: WebSocket, subprotocol: str | None = None) -> bool:
        """Accept the socket; over the cap it is accepted and closed with 1013 (``False``).

        Accepting before closing lets browser clients read the close code and back off.
        ``MAX_CONNECTIONS`` is read at call time so it can be tuned (and patched in tests).
        """
        await websocket.accept(subprotocol=subprotocol)
        if len(self._connections) >= MAX_CONNECTIONS:
            await websocket.close(code=CLOSE_TRY_AGAIN_LATER, reason="Max connections reached")
            return False
        self._connections.add(websocket)
        self._update_gauge()
        if self._live_ping_task() is None:
            self._ping_task = asyncio.create_task(self._ping_loop(), name=f"ws-ping:{self.channel}")
        return True

    def disconnect(self, websocket: WebSocket) -> None:
        if websocket in self._connections:
            self._connections.discard(websocket)
            self._update_gauge()

    async def listen(self, websocket: WebSocket) -> None:
        """Read client messages until the socket closes; ``{"type":"ping"}`` gets a pong.

        Anything else is ignored: the channels are server → client only, and ignoring stray
        frames is kinder to client libraries with their own keep-alive than closing 1003.
        """
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if _is_ping(message.get("text")):
                    await websocket.send_json(PONG)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # closed under us (client gone, or close_all() at shutdown)
        finally:
            self.disconnect(websocket)

    async def broadcast(self, message: dict[str, Any]) -> None:
        """Send to every socket concurrently; sockets that fail or stall are dropped."""
        sockets = list(self._connections)
        if not sockets:
            return
        results = await asyncio.gather(*(self._send(ws, message) for ws in sockets))
        for websocket, delivered in zip(sockets, results, strict=True):
            if not delivered:
                self.disconnect(websocket)
                with contextlib.suppress(Exception):
                    await websocket.close(code=CLOSE_GOING_AWAY)

    async def close_all(self) -> None:
        """Close every socket (server shutdown) and stop the ping loop."""
        task = self._live_ping_task()
        self._ping_task = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        sockets = list(self._connections)
        self._connections.clear()
        self._update_gauge()
        for websocket in sockets:
            with contextlib.suppress(Exception):
                await websocket.close(code=CLOSE_GOING_AWAY, reason="Server shutting down")

    async def _send(self, websocket: WebSocket, message: dict[str, Any]) -> bool:
        if websocket.application_state != WebSocketState.CONNECTED:
            return False
        try:
            await asyncio.wait_for(websocket.send_json(message), SEND_TIMEOUT_SECONDS)
        except Exception:  # any transport failure means the client is gone for us
            log.debug("dropping websocket after failed send", extra={"channel": self.channel})
            return False
        return True

    def _live_ping_task(self) -> asyncio.Task[None] | None:
        """The ping task if it still runs on this loop (a test client may have left another loop)."""
        task = self._ping_task
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            return None
        return task

    async def _ping_loop(self) -> None:
        while self._connections:
            await asyncio.sleep(self.ping_interval)
            await self.broadcast(PING)

    def _update_gauge(self) -> None:
        WS_CONNECTIONS.labels(self.channel).set(len(self._connections))


def _is_ping(text: str | None) -> bool:
    if not text:
        return False
    try:
        message = json.loads(text)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("type") == "ping"
