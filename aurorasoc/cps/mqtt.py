"""MQTT edge ingest (spec §12): ``MQTTEdgeConsumer`` and its supervisor ``run_cps_mqtt_consumer``.

The receive side (:class:`~aurorasoc.cps.mqtt_buffer.IngestBuffer`) validates, counts and buffers
each message as :class:`~aurorasoc.cps.mqtt_reader.SocketReader` decodes it, pausing the reader
when the buffer is full. One writer stores the buffer in batches, each in one transaction, commits
(``stored``), then announces the batch's events and alerts and sends any commands in the
background. A failed batch is retried message by message (after ``BUSY_RETRIES`` whole retries
when SQLite only answered "database is locked"). Counts go to ``/metrics`` and, through Redis, to
the System status of every API process (:mod:`mqtt_stats`), next to the broker's own
``$SYS/broker/publish/messages/dropped``.

Fleet scale (issue 20): MQTT v5 with a persistent session (``clean_start=False``, expiry
``SESSION_EXPIRY_SECONDS``) under a stable client id, so the broker keeps QoS 1 messages across a
reconnect, and ``Receive Maximum`` ``RECEIVE_MAXIMUM`` (with MQTT 3.1.1 Mosquitto allows 20
unacknowledged deliveries per client: 20 per round trip, ~50 msg/s on a loaded machine). At the
protocol's maximum, 65,535, the broker keeps what we have not acknowledged as in flight, not in its
per-client queue (``max_queued_messages``, 1,000 by default, whose overflow it drops): at 1,000 a
reader held up for one second at 2,000 msg/s lost messages at the broker. Every
subscription is a shared one (``$share/<namespace>-<MQTT_SHARE_GROUP>/…``), so several
``aurorasoc worker --role mqtt`` processes (and the API's consumer, if enabled) split the fleet
without duplicates. Each process
keeps its own correlation state, so per-device statistics see the share of a device's messages that
reached that process. paho acknowledges a QoS 1 message when it is received, before it is stored:
a crash loses what was received but not committed (~0.1 s of traffic). A message whose handling
raises twice is counted (``failed``) and logged; a publish failure after the commit is logged and
not retried, so no row is stored twice. The supervisor reconnects with exponential backoff
(1 s → 60 s, reset after a successful connection) and logs the host and port it failed to reach.
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
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from prometheus_client import Counter, Histogram
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aurorasoc.core.config import MQTTSettings, get_settings
from aurorasoc.core.db import get_session_factory, is_sqlite_busy, take_sqlite_writer
from aurorasoc.core.namespace import DEFAULT
from aurorasoc.cps.baselines import load_baselines
from aurorasoc.cps.correlation import CorrelationEngine
from aurorasoc.cps.device_cache import DeviceDirectory
from aurorasoc.cps.mqtt_buffer import IngestBuffer
from aurorasoc.cps.mqtt_reader import SocketReader, inbox
from aurorasoc.cps.mqtt_stats import BROKER_DROPPED_TOPIC, REPORT_SECONDS, IngestStats
from aurorasoc.cps.mqtt_topics import (
    challenge_topic,
    command_topic,
    outbound,
    subscriptions,
)
from aurorasoc.cps.telemetry import BatchResult, CPSIngest, IngestMessage

log = logging.getLogger(__name__)
BUSY_RETRIES = 3
BACKOFF_START, BACKOFF_MAX = 1.0, 60.0
MAX_INFLIGHT = 1000  # our own unacknowledged publishes (commands, challenges)
RECEIVE_MAXIMUM = 65_535
DRAIN_TIMEOUT_SECONDS = 10.0
MAX_ANNOUNCING = 4  # batches whose events are being published while the writer goes on
SESSION_EXPIRY_SECONDS = 3600
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


class MQTTEdgeConsumer(IngestBuffer):
    def __init__(
        self,
        settings: MQTTSettings,
        *,
        session_factory: async_sessionmaker[AsyncSession] | None = None,
        on_stored: Callable[[Sequence[IngestMessage]], None] | None = None,
        namespace: str | None = None,
        client_id: str | None = None,
    ) -> None:
        self.settings = settings
        ns = namespace or get_settings().namespace
        own = client_id or settings.client_id
        self.client_id = own if ns == DEFAULT else f"{ns}-{own}"
        super().__init__(ns, IngestStats(self.client_id))
        self.session_factory = session_factory
        self.on_stored = on_stored
        self.engine = CorrelationEngine()
        self.directory = DeviceDirectory()
        self.client: aiomqtt.Client | None = None
        self.connected = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._announcing: set[asyncio.Task[None]] = set()
        self._growing: list[IngestMessage] | None = None  # the batch a whole-batch attempt may add to

    def new_client(self) -> aiomqtt.Client:
        s = self.settings
        connect = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        connect.SessionExpiryInterval = SESSION_EXPIRY_SECONDS  # the broker keeps our QoS 1 messages
        connect.ReceiveMaximum = RECEIVE_MAXIMUM  # unacked QoS 1 deliveries the broker may send us
        client = aiomqtt.Client(
            s.host,
            s.port,
            identifier=self.client_id,
            tls_context=_tls_context(s),
            keepalive=30,
            protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=False,
            properties=connect,
            max_inflight_messages=MAX_INFLIGHT,
            queue_type=inbox(self.receive),
        )
        self.reader = SocketReader(client, self.handle)
        return client

    @property
    def share_group(self) -> str | None:
        group = self.settings.share_group
        return f"{self.namespace}-{group}" if group else None

    def topics(self) -> list[str]:
        """The inbound filters, as ``$share/<group>/…`` when a share group is set."""
        group = self.share_group
        return [f"$share/{group}/{topic}" if group else topic for topic in subscriptions(self.namespace)]

    async def start(self) -> None:
        global _active
        _active = self
        self._tasks = [
            asyncio.create_task(run_cps_mqtt_consumer(self), name="mqtt-consumer"),
            asyncio.create_task(self._writer(), name="mqtt-writer"),
            asyncio.create_task(self._reporter(), name="mqtt-stats"),
        ]

    async def _seed_baselines(self) -> None:
        """Warm the correlation baselines from stored telemetry; without the database, start cold."""
        try:
            async with (self.session_factory or get_session_factory())() as session:
                self.engine.seed(await load_baselines(session, datetime.now(UTC)))
        except (OSError, SQLAlchemyError):
            log.warning("cps baselines not loaded; starting from live readings", exc_info=True)

    async def _reporter(self) -> None:
        while True:
            await asyncio.sleep(REPORT_SECONDS)
            try:
                await self.stats.report()
            except Exception:  # Redis down: /metrics still has the counts
                log.debug("mqtt stats not reported", exc_info=True)

    async def stop(self) -> None:
        global _active
        if _active is self:
            _active = None
        client = self.client
        if client is not None and self.share_group:  # leave the group: the others take the load
            with contextlib.suppress(aiomqtt.MqttError, asyncio.TimeoutError):
                await asyncio.wait_for(client.unsubscribe(self.topics()), 5)
        await _cancel(self._tasks[:1])  # the receiver first
        # What was received is stored before the writer goes (a cancelled commit can hang aiosqlite).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._drained(), DRAIN_TIMEOUT_SECONDS)
        await _cancel(self._tasks[1:])
        self._tasks = []

    async def _drained(self) -> None:
        await self._idle.wait()
        if self._announcing:
            await asyncio.wait(set(self._announcing))

    async def consume(self, client: aiomqtt.Client) -> None:
        """Subscribe (QoS 1) and stay until the connection drops; the inbox hands every message to
        :meth:`receive` as paho reads it."""
        await client.subscribe([(topic, 1) for topic in self.topics()])
        with contextlib.suppress(aiomqtt.MqttError):  # not every broker publishes $SYS
            await client.subscribe(BROKER_DROPPED_TOPIC, qos=0)
        self.client = client
        self.connected.set()
        try:
            async for _ in client.messages:  # never yields (the inbox keeps nothing); ends with the link
                pass
        finally:
            self.connected.clear()
            self.client = None

    async def _writer(self) -> None:
        # Seeded here, not in start(): a day of telemetry must not hold up the API's start-up;
        # messages arriving meanwhile wait in the bounded queue and are judged on the seeded state.
        await self._seed_baselines()
        while True:
            await self.store(await self.next_batch())
            if self.queue.empty():
                self._idle.set()

    async def store(self, batch: list[IngestMessage]) -> None:
        """One transaction for the batch; on failure, one per message (bad ones counted, skipped).

        SQLite's "database is locked" (another process kept the writer past the busy timeout) says
        nothing about the rows: the batch is retried whole, up to ``BUSY_RETRIES`` times, first.
        A whole-batch attempt takes SQLite's writer first and then what arrived while it waited
        (the SIEM's transactions hold it for hundreds of ms): those messages are stored now, not
        after one more wait.
        """
        self._growing = batch
        try:
            for attempt in range(BUSY_RETRIES + 1):
                try:
                    await self._commit(batch)
                    return
                except Exception as exc:
                    error = exc
                    if not is_sqlite_busy(exc) or attempt == BUSY_RETRIES:
                        break
                    log.warning(
                        "mqtt batch found SQLite's writer busy; retrying it", extra={"size": len(batch)}
                    )
        finally:
            self._growing = None
        log.warning("mqtt batch failed; retrying message by message", exc_info=error)
        for message in batch:
            try:
                await self._commit([message])
            except Exception:
                self.stats.fail()
                log.exception("mqtt message failed", extra={"device_id": message.device_id})

    async def _commit(self, batch: Sequence[IngestMessage]) -> None:
        factory = self.session_factory or get_session_factory()
        async with factory() as session:
            if batch is self._growing:
                await take_sqlite_writer(session)  # a no-op on PostgreSQL
                self._take_more(batch)
            result = await CPSIngest(session, self.engine, self.directory).handle(batch)
            await session.commit()
        self.directory.seen_written(result.seen)
        done = time.monotonic()
        for message in batch:
            INGEST_LATENCY.observe(done - message.received_mono)
        self.stats.store(len(batch) - len(result.rejected))
        if result.rejected:
            self._reject_unknown(result.rejected)
        if self.on_stored is not None:
            self.on_stored(batch)
        # Announced in the background: the next batch's commit need not wait for Redis round trips.
        task = asyncio.create_task(self._announce(result), name="mqtt-announce")
        self._announcing.add(task)
        task.add_done_callback(self._announcing.discard)
        if len(self._announcing) > MAX_ANNOUNCING:
            await asyncio.wait(set(self._announcing), return_when=asyncio.FIRST_COMPLETED)

    def _reject_unknown(self, rejected: Sequence[IngestMessage]) -> None:
        """Count and log messages from device ids that were never registered (not stored)."""
        self.stats.reject("unknown_device", len(rejected))
        ids = sorted({m.device_id for m in rejected})
        log.warning(
            "mqtt messages from unregistered devices rejected",
            extra={"count": len(rejected), "device_ids": ids[:20], "distinct_devices": len(ids)},
        )

    async def _announce(self, result: BatchResult) -> None:
        try:
            await result.outbox.publish()
            for device_id, command in result.commands:
                await publish_command(device_id, command)
        except Exception:  # stored already: retrying the batch would store it twice
            log.exception("mqtt batch stored but its events or commands were not published")

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
            s = consumer.settings
            log.warning(
                "mqtt broker %s:%s (tls=%s) unreachable or connection lost; retrying in %.0f s: %s",
                s.host, s.port, "on" if s.tls else "off", backoff, exc,
            )  # fmt: skip
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, BACKOFF_MAX)


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


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
