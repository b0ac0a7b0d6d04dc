"""The simulated fleet of ``bench/cps.py``: N devices @ 1 msg/s over raw MQTT 3.1.1 connections, QoS 1.

A publisher that lags its schedule stamps its messages late and offers less than the fleet, so it
would hide the consumer's latency and load: with aiomqtt (a task, a future and a paho packet per
message) 2,000 devices took ~25 % of a core and 10,000 more than the machine had. Here each
connection is an asyncio protocol writing pre-built PUBLISH packets, one write per slice of the
second, and counting the broker's PUBACKs: a message counts as sent once the broker acknowledged it
(the broker then owns its delivery). Open loop: the offered rate does not wait for PUBACKs.
Each device: a ``status`` first, telemetry every second (its own phase), a heartbeat every 30 s.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import orjson

HEARTBEAT_EVERY = 30
SLICES = 20
ACK_TIMEOUT = 120.0
STATUS = orjson.dumps({"device_type": "bench_sensor", "firmware_version": "1.0.0"})


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(text: str) -> bytes:
    raw = text.encode()
    return len(raw).to_bytes(2, "big") + raw


def _connect(client_id: str) -> bytes:
    """CONNECT, MQTT 3.1.1, clean session, no keepalive (the run is short and never idle)."""
    body = _string("MQTT") + b"\x04\x02\x00\x00" + _string(client_id)
    return b"\x10" + _varint(len(body)) + body


class _Connection(asyncio.Protocol):
    """One publisher connection: CONNACK, then PUBACKs counted as they come."""

    def __init__(self) -> None:
        self.connected = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.acked = 0
        self.mid = 0
        self.all_acked = asyncio.Event()
        self.sent = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buf = self.buffer + data
        pos = 0
        while len(buf) - pos >= 2 and len(buf) - pos >= 2 + buf[pos + 1]:  # both replies are < 128 bytes
            kind, size = buf[pos] & 0xF0, buf[pos + 1]
            if kind == 0x20 and not self.connected.done():
                self.connected.set_result(buf[pos + 3])  # the CONNACK return code
            elif kind == 0x40:
                self.acked += 1
            pos += 2 + size
        self.buffer = buf[pos:]
        if self.acked >= self.sent:
            self.all_acked.set()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.connected.done():
            self.connected.set_exception(exc or ConnectionError("closed before CONNACK"))
        self.all_acked.set()

    def publish(self, packets: list[tuple[str, bytes]]) -> None:
        """QoS 1 PUBLISHes of ``(topic, payload)`` in one write."""
        out = bytearray()
        for topic, payload in packets:
            self.mid = self.mid % 65535 + 1
            body = _string(topic) + self.mid.to_bytes(2, "big") + payload
            out += b"\x32" + _varint(len(body)) + body
        self.sent += len(packets)
        self.all_acked.clear()
        assert self.transport is not None
        self.transport.write(bytes(out))


def _messages(ns: str, ids: list[str], first: int, tick: int) -> list[tuple[str, bytes]]:
    out = []
    for n, device_id in enumerate(ids, start=first):
        if tick == 0 or (tick + n) % HEARTBEAT_EVERY == 0:
            out.append((f"{ns}/sensors/{device_id}/status", STATUS))
        payload = {"metric": "temperature", "value": 20.0 + (tick % 7) * 0.1, "ts": time.time()}
        out.append((f"{ns}/sensors/{device_id}/telemetry", orjson.dumps(payload)))
    return out


async def publish(host: str, port: int, ns: str, ids: list[str], seconds: float) -> int:
    """Run ``ids``' devices for ``seconds`` on one connection; the messages the broker acknowledged."""
    loop = asyncio.get_running_loop()
    transport, conn = await loop.create_connection(_Connection, host, port)
    transport.write(_connect(f"bench-pub-{uuid.uuid4().hex[:8]}"))
    if await asyncio.wait_for(conn.connected, 30) != 0:
        raise ConnectionError("the broker refused the publisher")
    start, tick, step = loop.time(), 0, max(1, len(ids) // SLICES)
    while loop.time() - start < seconds:
        for first in range(0, len(ids), step):
            await asyncio.sleep(max(0.0, start + tick + first / len(ids) - loop.time()))
            conn.publish(_messages(ns, ids[first : first + step], first, tick))
        tick += 1
        await asyncio.sleep(max(0.0, start + tick - loop.time()))
    try:
        await asyncio.wait_for(conn.all_acked.wait(), ACK_TIMEOUT)
    finally:
        transport.write(b"\xe0\x00")  # DISCONNECT
        transport.close()
    return min(conn.acked, conn.sent)


def publisher_process(
    host: str, port: int, ns: str, groups: list[list[str]], seconds: float, out: Any
) -> None:
    """Every group on its own connection, in this process; puts ``{"sent", "cpu"}`` on ``out``."""

    async def _all() -> list[int]:
        return await asyncio.gather(*(publish(host, port, ns, ids, seconds) for ids in groups))

    sent = asyncio.run(_all())
    out.put({"sent": sum(sent), "cpu": time.process_time()})
