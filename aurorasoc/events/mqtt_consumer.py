"""MQTT edge ingest (spec §12): ``MQTTEdgeConsumer`` and its supervisor ``run_cps_mqtt_consumer``.

The reader validates every message against the topic contract and queues it; anything invalid is
counted (``mqtt_messages_rejected_total{reason}``) and logged, never raised. One writer drains the
queue in batches (up to ``BATCH_SIZE``, or what arrived within ``BATCH_WAIT`` of the oldest) into one
transaction, commits, then publishes the batch's events and alerts and sends any commands. A batch
that fails is retried message by message so one bad row cannot drop its neighbours.

Delivery guarantee, stated plainly: paho acknowledges a QoS 1 message when it is received, before it
is stored, and the session is clean, so a crash loses whatever was received but not committed (the
batch being written plus the queues; ~0.1 s of traffic in steady state) and the broker will not
resend it. A message whose handling raises twice is counted and logged, then dropped; a publish
failure after the commit is logged and not retried, so no row is stored twice. Overload: when this
queue (``QUEUE_BOUND``) is full the reader waits, but aiomqtt keeps reading into its own unbounded
queue, so a sustained overload costs memory and latency, not messages. The supervisor reconnects with
exponential backoff (1 s → 60 s, reset after a successful connection). The consumer is an
``app.state.services`` entry (``start``/``stop``); the running one also publishes outbound commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import aiomqtt
from prometheus_client import Counter, Histogram
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aurorasoc.config.settings import MQTTSettings, get_settings
from aurorasoc.core.db import get_session_factory
from aurorasoc.events.mqtt_topics import (
    InvalidMessage,
    challenge_topic,
    command_topic,
    outbound,
    parse_payload,
    parse_topic,
    subscriptions,
)
from aurorasoc.services.cps_baselines import load_baselines
from aurorasoc.services.cps_correlation import CorrelationEngine
from aurorasoc.services.cps_device_cache import DeviceDirectory
from aurorasoc.services.cps_ingest import BatchResult, CPSIngest, IngestMessage

log = logging.getLogger(__name__)
BATCH_SIZE = 500
BATCH_WAIT = 0.05
QUEUE_BOUND = 20_000
BACKOFF_START, BACKOFF_MAX = 1.0, 60.0
MQTT_RECEIVED = Counter("mqtt_messages_received_total", "MQTT messages received", ["kind"])
MQTT_REJECTED = Counter("mqtt_messages_rejected_total", "MQTT messages dropped as invalid", ["reason"])
MQTT_FAILED = Counter("mqtt_messages_failed_total", "Valid MQTT messages whose handling raised")
MQTT_RECONNECTS = Counter("mqtt_reconnects_total", "MQTT connection losses")
INGEST_LATENCY = Histogram(
    "cps_ingest_latency_seconds",
    "MQTT message received → committed",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
_active: MQTTEdgeConsumer | None = None


def _tls_context(settings: MQTTSettings) -> ssl.SSLContext | None:
    if not settings.tls:
        return None
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    if settings.cert_file:
        context.load_cert_chain(settings.cert_file, settings.key_file or None)
    return context


class MQTTEdgeConsumer:
    def __init__(
        self,
        settings: MQTTSettings,
        *,
        session_factory: async_sessionmaker[AsyncSession] | None = None,
        on_stored: Callable[[Sequence[IngestMessage]], None] | None = None,
        namespace: str | None = None,
    ) -> None:
        self.settings = settings
        self.namespace = namespace or get_settings().namespace
        self.session_factory = session_factory
        self.on_stored = on_stored
        self.engine = CorrelationEngine()
        self.directory = DeviceDirectory()
        self.queue: asyncio.Queue[IngestMessage] = asyncio.Queue(QUEUE_BOUND)
        self.client: aiomqtt.Client | None = None
        self.connected = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def new_client(self) -> aiomqtt.Client:
        s = self.settings
        return aiomqtt.Client(
            s.host,
            s.port,
            identifier=s.client_id,
            tls_context=_tls_context(s),
            keepalive=30,
            clean_session=True,
        )

    async def start(self) -> None:
        global _active
        _active = self
        self._tasks = [
            asyncio.create_task(run_cps_mqtt_consumer(self), name="mqtt-consumer"),
            asyncio.create_task(self._writer(), name="mqtt-writer"),
        ]

    async def _seed_baselines(self) -> None:
        """Warm the correlation baselines from stored telemetry; without the database, start cold."""
        try:
            async with (self.session_factory or get_session_factory())() as session:
                self.engine.seed(await load_baselines(session, datetime.now(UTC)))
        except (OSError, SQLAlchemyError):
            log.warning("cps baselines not loaded; starting from live readings", exc_info=True)

    async def stop(self) -> None:
        global _active
        if _active is self:
            _active = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def consume(self, client: aiomqtt.Client) -> None:
        """Subscribe (QoS 1) and queue every valid message until the connection drops."""
        for topic in subscriptions(self.namespace):
            await client.subscribe(topic, qos=1)
        self.client = client
        self.connected.set()
        try:
            async for message in client.messages:
                if (parsed := self.accept(str(message.topic), message.payload)) is not None:
                    await self.queue.put(parsed)
        finally:
            self.connected.clear()
            self.client = None

    def accept(self, topic: str, payload: Any) -> IngestMessage | None:
        """The validated message, or None after counting and logging why it was dropped."""
        try:
            kind, device_id = parse_topic(topic, self.namespace)
            raw = payload if isinstance(payload, bytes | bytearray) else str(payload).encode()
            body = parse_payload(kind, bytes(raw))
        except InvalidMessage as exc:
            MQTT_REJECTED.labels(exc.reason).inc()
            log.warning("mqtt message rejected", extra={"topic": topic[:200], "reason": str(exc)[:300]})
            return None
        MQTT_RECEIVED.labels(kind).inc()
        return IngestMessage(kind, device_id, body, datetime.now(UTC), time.monotonic())

    async def _writer(self) -> None:
        # Seeded here, not in start(): a day of telemetry must not hold up the API's start-up;
        # messages arriving meanwhile wait in the bounded queue and are judged on the seeded state.
        await self._seed_baselines()
        while True:
            await self.store(await self.next_batch())

    async def next_batch(self) -> list[IngestMessage]:
        """Up to ``BATCH_SIZE`` messages, once the oldest has waited ``BATCH_WAIT`` (or at once if full)."""
        first = await self.queue.get()
        wait = first.received_mono + BATCH_WAIT - time.monotonic()
        if wait > 0 and self.queue.qsize() < BATCH_SIZE - 1:
            await asyncio.sleep(wait)
        batch = [first]
        while len(batch) < BATCH_SIZE and not self.queue.empty():
            batch.append(self.queue.get_nowait())
        return batch

    async def store(self, batch: Sequence[IngestMessage]) -> None:
        """One transaction for the batch; on failure, one per message (bad ones counted, skipped)."""
        try:
            await self._commit(batch)
        except Exception:
            log.warning("mqtt batch failed; retrying message by message", exc_info=True)
            for message in batch:
                try:
                    await self._commit([message])
                except Exception:
                    MQTT_FAILED.inc()
                    log.exception("mqtt message failed", extra={"device_id": message.device_id})

    async def _commit(self, batch: Sequence[IngestMessage]) -> None:
        factory = self.session_factory or get_session_factory()
        async with factory() as session:
            result = await CPSIngest(session, self.engine, self.directory).handle(batch)
            await session.commit()
        done = time.monotonic()
        for message in batch:
            INGEST_LATENCY.observe(done - message.received_mono)
        if result.rejected:
            _reject_unknown(result.rejected)
        if self.on_stored is not None:
            self.on_stored(batch)
        try:
            await self._announce(result)
        except Exception:  # stored already: retrying the batch would store it twice
            log.exception("mqtt batch stored but its events or commands were not published")

    async def _announce(self, result: BatchResult) -> None:
        await result.outbox.publish()
        for device_id, command in result.commands:
            await publish_command(device_id, command)

    async def publish(self, topic: str, data: dict[str, Any]) -> bool:
        client = self.client
        if client is None:
            return False
        try:
            await client.publish(topic, outbound(data), qos=1)
        except aiomqtt.MqttError:
            log.warning("mqtt publish failed", extra={"topic": topic})
            return False
        return True


def _reject_unknown(rejected: Sequence[IngestMessage]) -> None:
    """Count and log messages from device ids that were never registered (not stored)."""
    MQTT_REJECTED.labels("unknown_device").inc(len(rejected))
    ids = sorted({m.device_id for m in rejected})
    log.warning(
        "mqtt messages from unregistered devices rejected",
        extra={"count": len(rejected), "device_ids": ids[:20], "distinct_devices": len(ids)},
    )


async def run_cps_mqtt_consumer(consumer: MQTTEdgeConsumer, *, backoff_start: float = BACKOFF_START) -> None:
    """Keep ``consumer`` connected: reconnect on any MQTT error with 1 s → 60 s backoff."""
    backoff = backoff_start
    while True:
        try:
            async with consumer.new_client() as client:
                log.info(
                    "mqtt connected", extra={"host": consumer.settings.host, "port": consumer.settings.port}
                )
                backoff = backoff_start
                await consumer.consume(client)
        except aiomqtt.MqttError as exc:
            MQTT_RECONNECTS.inc()
            log.warning("mqtt connection lost; retrying in %.0f s: %s", backoff, exc)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, BACKOFF_MAX)


def active_consumer() -> MQTTEdgeConsumer | None:
    return _active


async def publish_command(device_id: str, command: str) -> bool:
    """``aurora/access/<id>/command``; False when no consumer is connected."""
    return bool(
        _active and await _active.publish(command_topic(device_id, _active.namespace), {"command": command})
    )


async def publish_challenge(device_id: str, nonce: str) -> bool:
    """``aurora/attestation/<id>/request``; False when no consumer is connected."""
    return bool(
        _active and await _active.publish(challenge_topic(device_id, _active.namespace), {"nonce": nonce})
    )
