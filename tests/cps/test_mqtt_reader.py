"""How the MQTT consumer reads its socket: chunks, every packet of a chunk per turn, and back-pressure.

No broker: paho and the socket are stand-ins; the consumer is real.
"""

from __future__ import annotations

import aiomqtt
import orjson
import pytest

from aurorasoc.core.config import get_settings
from aurorasoc.cps import mqtt_buffer
from aurorasoc.cps.mqtt import MQTTEdgeConsumer
from aurorasoc.cps.mqtt_reader import ChunkedSocket, SocketReader, inbox


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

    def close(self) -> None:
        self.chunks = []


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
    monkeypatch.setattr(mqtt_buffer, "QUEUE_BOUND", 4)
    monkeypatch.setattr(mqtt_buffer, "RESUME_BELOW", 2)
    monkeypatch.setattr(mqtt_buffer, "BATCH_SIZE", 3)
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


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _publish(topic: str, payload: bytes, *, qos: int = 1, mid: int = 1, v5: bool = True) -> bytes:
    """A PUBLISH packet as the broker sends it (v5: with an empty property block)."""
    name = topic.encode()
    body = len(name).to_bytes(2, "big") + name + (mid.to_bytes(2, "big") if qos else b"")
    body += (b"\x00" if v5 else b"") + payload
    return bytes([0x30 | qos << 1]) + _varint(len(body)) + body


async def _decoding_reader(
    *chunks: bytes, v5: bool = True
) -> tuple[SocketReader, list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """A reader on a real (unconnected) paho client; returns it, what it decoded itself and what
    paho decoded (through the consumer's inbox, as in production)."""
    mine: list[tuple[str, bytes]] = []
    pahos: list[tuple[str, bytes]] = []
    version = aiomqtt.ProtocolVersion.V5 if v5 else aiomqtt.ProtocolVersion.V311
    client = aiomqtt.Client(
        "127.0.0.1", 1, protocol=version,
        queue_type=inbox(lambda m: pahos.append((str(m.topic), bytes(m.payload)))),  # type: ignore[arg-type]
    )  # fmt: skip
    reader = SocketReader(client, lambda topic, payload: mine.append((topic, payload)))
    reader.sock = ChunkedSocket(_Socket(*chunks))
    reader.paho._sock = reader.sock
    return reader, mine, pahos


def _sent(reader: SocketReader) -> list[bytes]:
    return [bytes(p["packet"]) for p in reader.paho._out_packet]


@pytest.mark.parametrize("v5", [True, False])
async def test_publishes_are_decoded_here_and_their_pubacks_sent_in_one_write(v5: bool):
    a = _publish("aurora/sensors/a/telemetry", b'{"v":1}', mid=7, v5=v5)
    b = _publish("$SYS/broker/publish/messages/dropped", b"3", qos=0, v5=v5)
    c = _publish("aurora/sensors/c/telemetry", b'{"v":3}', mid=300, v5=v5)
    reader, mine, pahos = await _decoding_reader(a + b + c, v5=v5)
    reader.read()
    assert mine == [("aurora/sensors/a/telemetry", b'{"v":1}'),
                    ("$SYS/broker/publish/messages/dropped", b"3"),
                    ("aurora/sensors/c/telemetry", b'{"v":3}')]  # fmt: skip
    assert pahos == [] and _sent(reader) == [b"\x40\x02\x00\x07\x40\x02\x01\x2c"]


async def test_a_packet_split_across_reads_and_other_packets_are_pahos_with_acks_in_order():
    a = _publish("aurora/sensors/a/telemetry", b'{"v":1}', mid=1)
    c = _publish("aurora/sensors/c/telemetry", b'{"v":3}', mid=3)
    d = _publish("aurora/sensors/d/telemetry", b'{"v":4}', mid=4)
    pingresp = b"\xd0\x00"
    reader, mine, pahos = await _decoding_reader(a + pingresp + c[:9], c[9:] + d)
    reader.read()
    assert [t for t, _ in mine] == ["aurora/sensors/a/telemetry", "aurora/sensors/d/telemetry"]
    assert pahos == [("aurora/sensors/c/telemetry", b'{"v":3}')]
    assert _sent(reader) == [b"\x40\x02\x00\x01", b"\x40\x02\x00\x03", b"\x40\x02\x00\x04"]


async def test_a_pause_stops_decoding_at_once_and_resume_goes_on_from_there():
    packets = [_publish(f"aurora/sensors/d{n}/telemetry", b"{}", mid=n + 1) for n in range(4)]
    reader, mine, _ = await _decoding_reader(b"".join(packets))
    reader.sink = lambda topic, payload: (mine.append((topic, payload)), len(mine) == 2 and reader.pause())
    reader.read()
    assert len(mine) == 2 and reader.paused and _sent(reader) == [b"\x40\x02\x00\x01\x40\x02\x00\x02"]
    reader.resume()
    reader.read()
    assert len(mine) == 4 and _sent(reader)[-1] == b"\x40\x02\x00\x03\x40\x02\x00\x04"


async def test_a_topic_alias_or_a_qos_2_publish_is_left_to_paho():
    alias = b"\x32" + _varint(7) + b"\x00\x00\x00\x01\x03\x23\x00\x01"[:7]  # empty topic, alias property
    qos2 = _publish("aurora/sensors/x/telemetry", b"{}", qos=2)
    for packet in (alias, qos2):
        sock = ChunkedSocket(_Socket(packet))
        assert sock.fill() and sock.take_publishes(lambda t, p: True, bytearray(), 10, True) == 0
        assert sock.pending() == len(packet)
