"""How the MQTT consumer reads its socket (issue 20): in chunks, PUBLISH packets decoded here, and not
at all while its buffer is full.

paho reads one packet per ``loop_read``, asks the socket for it in three pieces, builds an
``MQTTMessage`` and (MQTT v5) a ``Properties`` object, runs its topic matcher, and aiomqtt wraps it
once more; then paho sends one PUBACK (one ``send``) per message. At a fleet's thousands of
messages a second that was most of the consumer's CPU. Here paho's socket is wrapped in
:class:`ChunkedSocket` (one ``recv`` of up to ``CHUNK`` bytes) and :class:`SocketReader` replaces
aiomqtt's read callback: every complete QoS 0/1 PUBLISH at the head of the chunk is decoded by
:meth:`ChunkedSocket.take_publishes` and handed to the consumer's ``sink(topic, payload)``; the PUBACKs of the
turn go out as one write through paho's own send queue, after their messages are in the buffer
(the same at-least-once point as paho's: acknowledged once held). Every other packet (CONNACK,
SUBACK, PINGRESP, a QoS 2 or topic-alias PUBLISH, a packet split across two chunks) is paho's, so
its protocol state stays its own. At most ``TURN_PACKETS`` packets are taken before the reader
yields to the loop (the writer and the rest of the process go on between turns).

Back-pressure: :meth:`SocketReader.pause` stops reading the socket (the consumer calls it when its
buffer reaches its bound), :meth:`SocketReader.resume` starts again. While paused the broker keeps
the fleet's QoS 1 messages for this session (up to its own queue limit, whose drops the broker
counts in ``$SYS``), rather than this process discarding messages it has acknowledged. Pauses and
their duration are counted on ``/metrics``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from typing import Any

import aiomqtt
from paho.mqtt.client import PUBACK, MQTTv5, time_func
from paho.mqtt.client import Client as PahoClient
from prometheus_client import Counter

log = logging.getLogger(__name__)
CHUNK = 256 * 1024
TURN_PACKETS = 2000
READER_PAUSES = Counter("mqtt_reader_pauses_total", "Times the MQTT consumer stopped reading: buffer full")
READER_PAUSED = Counter("mqtt_reader_paused_seconds_total", "Seconds the MQTT consumer did not read")
Sink = Callable[[str, bytes], None]
Take = Callable[[str, bytes], bool]  # False: stop taking (the reader paused)


def _varint(data: bytes, i: int, end: int) -> tuple[int, int] | None:
    """MQTT's variable byte integer at ``data[i]``: (value, next index), None if cut off or too long."""
    value, shift = 0, 0
    while i < end and shift <= 21:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7
    return None


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

    def fill(self) -> bool:
        """True when bytes are buffered, reading a chunk if none are; False when the socket has
        nothing now or was closed (paho's next ``recv`` meets the same and handles it)."""
        if self._pos < len(self._data):
            return True
        try:
            data = self._sock.recv(CHUNK)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False
        self._data, self._pos = data, 0
        return bool(data)

    def pending(self) -> int:
        """Bytes read from the socket (or decrypted by TLS) that paho has not taken yet."""
        tls = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return len(self._data) - self._pos + int(tls)

    def take_publishes(
        self, sink: Callable[[str, bytes], bool], acks: bytearray, limit: int, v5: bool
    ) -> int:
        """Decode the complete QoS 0/1 PUBLISH packets at the head of the chunk (at most
        ``limit``, until ``sink`` returns False) into ``sink``, appending a PUBACK per QoS 1 message
        to ``acks``; stop at anything else, which is left for paho. Returns the number taken."""
        data, pos, end, taken = self._data, self._pos, len(self._data), 0
        while taken < limit and pos < end:
            header = data[pos]
            qos = (header >> 1) & 3
            length = _varint(data, pos + 1, end)
            if header & 0xF0 != 0x30 or qos > 1 or length is None or length[1] + length[0] > end:
                break
            start, stop = length[1], length[1] + length[0]
            topic_end = start + 2 + (data[start] << 8 | data[start + 1]) if stop - start >= 2 else stop + 1
            body = topic_end + 2 * qos
            props = _varint(data, body, stop) if v5 else (0, body)
            if topic_end == start + 2 or props is None or props[1] + props[0] > stop:
                break  # a topic alias, or malformed: paho's to handle (or refuse)
            try:
                topic = data[start + 2 : topic_end].decode()
            except UnicodeDecodeError:
                break
            if qos:
                acks += b"\x40\x02" + data[topic_end:body]
            pos, taken = stop, taken + 1
            self._pos = pos
            if not sink(topic, data[props[1] + props[0] : stop]):
                break
        return taken

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class SocketReader:
    """Reads for ``client`` (an ``aiomqtt.Client`` not yet connected) on the running loop."""

    def __init__(self, client: aiomqtt.Client, sink: Sink | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.paho: PahoClient = client._client
        self.sink = sink
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
        """Every packet of the socket's chunk (at most ``TURN_PACKETS``), then this turn's PUBACKs."""
        acks = bytearray()
        try:
            if self._turn(acks):
                self.loop.call_soon(self.read)  # the rest of the chunk after the loop's other work
        except Exception:  # aiomqtt's callback ends the connection on this too; the supervisor reconnects
            log.exception("mqtt socket read failed; disconnecting")
            self.paho.disconnect()
        finally:
            self._acknowledge(acks)

    def _turn(self, acks: bytearray) -> bool:
        """Read one turn; True when more is buffered than the turn took."""
        sock, paho, budget = self.sock, self.paho, TURN_PACKETS
        v5 = self.sink is not None and paho.protocol == MQTTv5
        while budget > 0:
            if self.paused or sock is None:
                return False
            if self.sink is not None and not paho._in_packet["command"] and sock.fill():
                taken = sock.take_publishes(self._take, acks, budget, v5)
                if taken:
                    budget -= taken
                    paho._last_bytes_received = time_func()  # paho's keepalive clock
                    continue
            self._acknowledge(acks)  # before paho's own PUBACKs: QoS 1 acknowledgements go in order
            budget -= 1
            if paho.loop_read() != 0 or not sock.pending():
                return False
        return True

    def _acknowledge(self, acks: bytearray) -> None:
        """The PUBACKs gathered so far, as one write through paho's send queue."""
        if acks and self.sock is not None:
            self.paho._packet_queue(PUBACK, bytes(acks), 0, 0)
        acks.clear()

    def _take(self, topic: str, payload: bytes) -> bool:
        """One decoded PUBLISH to the sink; False once that paused the reader."""
        if self.sink is not None:
            self.sink(topic, payload)
        return not self.paused

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
    already acknowledged, invisible to every counter and lost at shutdown. Here each message paho
    decodes itself (see the module docstring) reaches the consumer's counted buffer as it is read.
    """

    class Inbox(asyncio.Queue[aiomqtt.Message]):
        def put_nowait(self, item: aiomqtt.Message) -> None:
            sink(item)

    return Inbox
