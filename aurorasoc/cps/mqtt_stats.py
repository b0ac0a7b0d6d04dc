"""Where every MQTT message went (issue 20): received, stored, rejected, dropped, failed.

``pauses`` counts the times a consumer stopped reading because its buffer was full (the broker
held the messages meanwhile). Each :class:`~aurorasoc.cps.mqtt.MQTTEdgeConsumer` counts into its own
:class:`IngestStats` and into the Prometheus counters (``/metrics`` of its process). So that the
System status page sees the whole fleet when the consumers run as ``worker --role mqtt`` processes,
every consumer also writes its totals to the Redis hash ``aurora:mqtt:consumers`` (namespaced, one
field per client id) every ``REPORT_SECONDS``; :func:`fleet_ingest` sums the fresh ones. The broker's
own ``$SYS/broker/publish/messages/dropped`` (Mosquitto, every ``sys_interval``) is kept beside them:
messages the broker discarded because a subscriber fell behind never reach any product counter.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import orjson
from prometheus_client import Counter, Gauge

from aurorasoc.core.namespace import redis_key
from aurorasoc.core.redis import get_redis

BROKER_DROPPED_TOPIC = "$SYS/broker/publish/messages/dropped"
CONSUMERS_KEY = "aurora:mqtt:consumers"
REPORT_SECONDS = 5.0
FRESH_SECONDS = 60.0
MQTT_RECEIVED = Counter("mqtt_messages_received_total", "MQTT messages received", ["kind"])
MQTT_STORED = Counter("mqtt_messages_stored_total", "Valid MQTT messages committed to the database")
MQTT_REJECTED = Counter("mqtt_messages_rejected_total", "MQTT messages dropped as invalid", ["reason"])
MQTT_DROPPED = Counter(
    "mqtt_messages_dropped_total", "Valid MQTT messages dropped: the ingest buffer was full"
)
MQTT_FAILED = Counter("mqtt_messages_failed_total", "Valid MQTT messages whose handling raised")
BROKER_DROPPED = Gauge(
    "mqtt_broker_dropped_messages", "The broker's $SYS publish/messages/dropped (-1 unknown)"
)


@functools.cache
def _received(kind: str) -> Counter:
    """The ``kind`` child of ``mqtt_messages_received_total``, built once."""
    return MQTT_RECEIVED.labels(kind)


@dataclass
class IngestStats:
    """One consumer's totals since it started."""

    client_id: str
    received: int = 0
    stored: int = 0
    rejected: int = 0
    dropped: int = 0
    failed: int = 0
    pauses: int = 0
    broker_dropped: int | None = None
    updated_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self._unpublished: dict[str, int] = {}  # received per kind, not yet on /metrics

    def receive(self, kind: str) -> None:
        """Counted here at once; on ``/metrics`` at the next :meth:`publish` (each batch): a
        Prometheus increment per message (a lock each) was a visible share of the consumer's CPU."""
        self.received += 1
        self._unpublished[kind] = self._unpublished.get(kind, 0) + 1

    def publish(self) -> None:
        """The received counts so far onto ``/metrics``."""
        pending, self._unpublished = self._unpublished, {}
        for kind, count in pending.items():
            _received(kind).inc(count)

    def reject(self, reason: str, count: int = 1) -> None:
        self.rejected += count
        MQTT_REJECTED.labels(reason).inc(count)

    def drop(self) -> None:
        self.dropped += 1
        MQTT_DROPPED.inc()

    def pause(self) -> None:
        self.pauses += 1

    def store(self, count: int) -> None:
        self.stored += count
        MQTT_STORED.inc(count)

    def fail(self) -> None:
        self.failed += 1
        MQTT_FAILED.inc()

    def broker(self, payload: bytes) -> None:
        """The broker's ``$SYS`` dropped counter (an integer as text)."""
        try:
            self.broker_dropped = int(payload.decode().strip())
        except (UnicodeDecodeError, ValueError):
            return
        BROKER_DROPPED.set(self.broker_dropped)

    async def report(self) -> None:
        """Publish the totals for the System status of every API process (needs Redis)."""
        self.publish()
        client = await get_redis()
        if client is not None:
            self.updated_at = time.time()
            row = orjson.dumps(asdict(self)).decode()
            await cast("Awaitable[int]", client.hset(redis_key(CONSUMERS_KEY), self.client_id, row))


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Fleet totals; ``lost`` is what was received or offered but never stored or rejected."""
    totals = {
        key: sum(int(r.get(key) or 0) for r in rows)
        for key in ("received", "stored", "rejected", "dropped", "failed")
    }
    brokers = [int(r["broker_dropped"]) for r in rows if r.get("broker_dropped") is not None]
    return {"consumers": len(rows), **totals, "broker_dropped": max(brokers) if brokers else None}


async def fleet_ingest(local: IngestStats | None) -> dict[str, Any] | None:
    """The fresh totals of every consumer of this namespace, or this process's alone without Redis."""
    rows: list[dict[str, Any]] = []
    client = await get_redis()
    if client is not None:
        try:
            raw = await cast("Awaitable[dict[bytes, bytes]]", client.hgetall(redis_key(CONSUMERS_KEY)))
        except Exception:  # Redis down: the dependency block already says so
            raw = {}
        now = time.time()
        rows = [
            row
            for value in raw.values()
            if now - (row := orjson.loads(value)).get("updated_at", 0) < FRESH_SECONDS
        ]
    if local is not None and all(row.get("client_id") != local.client_id for row in rows):
        rows.append(asdict(local))
    return summarise(rows) if rows else None
