"""How the MQTT consumer reads its socket: chunks, every packet of a chunk per turn, and back-pressure.

No broker: paho and the socket are stand-ins; the consumer is real.
"""

from __future__ import annotations

import aiomqtt
import orjson
import pytest

from aurorasoc.core.config import get_settings
from aurorasoc.cps import mqtt
from aurorasoc.cps.mqtt import MQTTEdgeConsumer
from aurorasoc.cps.mqtt_reader import ChunkedSocket, SocketReader


class _Socket:
    """Hands out ``chunks`` one ``recv`` at a time, then has nothing to read."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)
        self.calls = 0

    def recv(self, size: int) -> bytes:
        self.calls += 1
        if not self.chunks:
            raise BlockingIOError
        return self.chunks.pop(0)[:size]

    def fileno(self) -> int:
        return -1


class _Paho:
    """A 'packet' is one byte: what paho's ``loop_read`` takes from the socket per call."""

    def __init__(self, sock: ChunkedSocket) -> None:
        self.sock, self.packets = sock, bytearray()
        self.on_packet = lambda: None

    def loop_read(self) -> int:
        try:
            self.packets += self.sock.recv(1)
        except BlockingIOError:
            return 0
        self.on_packet()
        return 0

    def disconnect(self) -> None:
        raise AssertionError("no read failed")


def test_one_socket_read_serves_every_small_read_paho_makes():
    raw = _Socket(b"\x30\x05hello\x30\x02ok")
    sock = ChunkedSocket(raw)
    assert sock.recv(1) == b"\x30" and sock.pending() == 10
    assert (sock.recv(1), sock.recv(5), sock.recv(1), sock.recv(1), sock.recv(2)) == (
        b"\x05", b"hello", b"\x30", b"\x02", b"ok",
    )  # fmt: skip
    assert raw.calls == 1 and sock.pending() == 0
    with pytest.raises(BlockingIOError):
        sock.recv(1)
    assert ChunkedSocket(_Socket(b"")).recv(1) == b""  # the peer closed


async def _reader(payload: bytes) -> tuple[SocketReader, _Paho]:
    reader = SocketReader(aiomqtt.Client("127.0.0.1", 1))  # never connects
    reader.sock = ChunkedSocket(_Socket(payload))
    paho = _Paho(reader.sock)
    reader.paho = paho  # type: ignore[assignment]
    return reader, paho


async def test_a_turn_hands_paho_every_packet_of_the_chunk_and_stops_while_paused():
    reader, paho = await _reader(b"abcdef")
    reader.read()
    assert paho.packets == b"abcdef"

    reader, paho = await _reader(b"abcdef")
    paho.on_packet = lambda: reader.pause() if len(paho.packets) == 2 else None
    reader.read()
    assert paho.packets == b"ab" and reader.paused
    reader.read()  # a readiness event queued before the pause reads nothing
    assert paho.packets == b"ab"
    reader.resume()
    reader.read()
    assert paho.packets == b"abcdef" and not reader.paused


def _telemetry(consumer: MQTTEdgeConsumer, n: int) -> None:
    message = consumer.accept(f"aurora/sensors/d-{n}/telemetry", orjson.dumps({"metric": "t", "value": n}))
    assert message is not None
    consumer.offer(message)


async def test_a_full_buffer_pauses_reading_instead_of_dropping_and_the_writer_resumes_it(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(mqtt, "QUEUE_BOUND", 4)
    monkeypatch.setattr(mqtt, "RESUME_BELOW", 2)
    monkeypatch.setattr(mqtt, "BATCH_SIZE", 3)
    consumer = MQTTEdgeConsumer(get_settings().mqtt, namespace="aurora")
    consumer.client = None
    consumer.reader = reader = SocketReader(aiomqtt.Client("127.0.0.1", 1))
    for n in range(6):  # the rest of the chunk already read still comes in
        _telemetry(consumer, n)
    assert reader.paused and consumer.stats.pauses == 1
    assert (consumer.queue.qsize(), consumer.stats.dropped) == (6, 0)
    assert len(await consumer.next_batch()) == 3 and reader.paused  # 3 left: not below 2 yet
    assert len(await consumer.next_batch()) == 3 and not reader.paused
    assert consumer.stats.pauses == 1
