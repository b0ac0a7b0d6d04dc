"""How the MQTT consumer reads its socket (issue 20): in chunks, and not at all while its buffer is full.

paho reads one packet per ``loop_read`` and asks the socket for it in three pieces (the command
byte, the length bytes, the body), and aiomqtt calls ``loop_read`` once per readiness event: at a
fleet's 1 msg/s per device that is a loop turn and ~3 ``recv`` calls per message. Here paho's
socket is wrapped in :class:`ChunkedSocket` (one ``recv`` of up to ``CHUNK`` bytes serves every
packet in it) and :class:`SocketReader` replaces aiomqtt's read callback: it hands paho every
packet of the chunk in one turn, at most ``TURN_PACKETS`` before it yields to the loop (the writer
and the rest of the process go on between chunks).

Back-pressure: :meth:`SocketReader.pause` stops reading the socket (the consumer calls it when its
buffer reaches its bound), :meth:`SocketReader.resume` starts again. While paused the broker keeps
the fleet's QoS 1 messages for this session (up to its own queue limit, whose drops the broker
counts in ``$SYS``), rather than this process discarding messages it has acknowledged. Pauses and
their duration are counted on ``/metrics``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import aiomqtt
from paho.mqtt.client import Client as PahoClient
from prometheus_client import Counter

log = logging.getLogger(__name__)
CHUNK = 256 * 1024
TURN_PACKETS = 2000
READER_PAUSES = Counter("mqtt_reader_pauses_total", "Times the MQTT consumer stopped reading: buffer full")
READER_PAUSED = Counter("mqtt_reader_paused_seconds_total", "Seconds the MQTT consumer did not read")


class ChunkedSocket:
    """paho's socket, read ``CHUNK`` bytes at a time; every other call goes to the socket."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._data = b""
        self._pos = 0

    def recv(self, size: int) -> bytes:
        if self._pos >= len(self._data):
            self._data, self._pos = self._sock.recv(CHUNK), 0  # BlockingIOError: nothing to read
            if not self._data:
                return b""  # the peer closed the connection
        out = self._data[self._pos : self._pos + size]
        self._pos += len(out)
        return out

    def pending(self) -> int:
        """Bytes read from the socket (or decrypted by TLS) that paho has not taken yet."""
        tls = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return len(self._data) - self._pos + int(tls)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class SocketReader:
    """Reads for ``client`` (an ``aiomqtt.Client`` not yet connected) on the running loop."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.loop = asyncio.get_running_loop()
        self.paho: PahoClient = client._client
        self.sock: ChunkedSocket | None = None
        self.paused_at: float | None = None
        self._opened = self.paho.on_socket_open
        self.paho.on_socket_open = self._open

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    def _open(self, paho: PahoClient, userdata: Any, sock: Any) -> None:
        """In paho's connect (an executor thread): wrap the socket, then let aiomqtt register it
        and replace its read callback with :meth:`read` (queued after aiomqtt's, so it wins)."""
        self.sock = ChunkedSocket(sock)
        paho._sock = self.sock
        if self._opened is not None:
            self._opened(paho, userdata, self.sock)
        self.loop.call_soon_threadsafe(self._attach)

    def _attach(self) -> None:
        if self.sock is None or self.sock.fileno() < 0:  # closed already
            return
        if self.paused:
            self.loop.remove_reader(self.sock.fileno())
        else:
            self.loop.add_reader(self.sock.fileno(), self.read)

    def read(self) -> None:
        """Every packet paho can decode from the socket's chunk (at most ``TURN_PACKETS``)."""
        sock = self.sock
        try:
            for _ in range(TURN_PACKETS):
                if self.paused or sock is None or self.paho.loop_read() != 0:
                    return
                if not sock.pending():
                    return
            self.loop.call_soon(self.read)  # the rest of the chunk after the loop's other work
        except Exception:  # aiomqtt's callback ends the connection on this too; the supervisor reconnects
            log.exception("mqtt socket read failed; disconnecting")
            self.paho.disconnect()

    def pause(self) -> None:
        if self.paused:
            return
        self.paused_at = time.monotonic()
        READER_PAUSES.inc()
        if self.sock is not None and self.sock.fileno() >= 0:
            self.loop.remove_reader(self.sock.fileno())

    def resume(self) -> None:
        if self.paused_at is None:
            return
        READER_PAUSED.inc(time.monotonic() - self.paused_at)
        self.paused_at = None
        if self.sock is not None and self.sock.fileno() >= 0:
            self.loop.add_reader(self.sock.fileno(), self.read)
            self.loop.call_soon(self.read)  # what was read into the chunk before the pause


def inbox(sink: Callable[[aiomqtt.Message], None]) -> type[asyncio.Queue[aiomqtt.Message]]:
    """aiomqtt's incoming-message queue, replaced by a hand-off to ``sink``.

    aiomqtt's own queue is unbounded and its iterator costs a task and an ``asyncio.wait`` per
    message (three loop turns): under load that queue grew by thousands of messages paho had
    already acknowledged, invisible to every counter and lost at shutdown. Here each message
    reaches the consumer's counted buffer as it is read.
    """

    class Inbox(asyncio.Queue[aiomqtt.Message]):
        def put_nowait(self, item: aiomqtt.Message) -> None:
            sink(item)

    return Inbox
