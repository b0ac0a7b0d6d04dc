"""The MQTT consumer's receive side (issue 20): validate, count, buffer, and hand out batches.

:class:`IngestBuffer` is what :class:`~aurorasoc.cps.mqtt.MQTTEdgeConsumer` does as each message is
read: anything invalid is counted (``rejected``) and logged, never raised; valid messages go into a
bounded buffer. At ``QUEUE_BOUND`` the reader pauses (the broker keeps our QoS 1 messages, in
flight) until the writer has taken the buffer below ``RESUME_BELOW``; only past ``QUEUE_LIMIT`` (a
reader that could not stop) is a message dropped and counted. The writer takes batches: what
arrived within ``BATCH_WAIT`` of the oldest, or the backlog up to ``BATCH_SIZE``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import aiomqtt

from aurorasoc.cps.mqtt_reader import SocketReader
from aurorasoc.cps.mqtt_stats import BROKER_DROPPED_TOPIC, IngestStats
from aurorasoc.cps.mqtt_topics import InvalidMessage, TopicParser, parse_payload
from aurorasoc.cps.telemetry import IngestMessage

log = logging.getLogger("aurorasoc.cps.mqtt")
# ~1 s of a 2,000-device fleet: enough to catch up after a wait for the database, small enough that
# handling one batch (synchronous Python between awaits) keeps the socket read often.
BATCH_SIZE = 2000
BATCH_WAIT = 0.05
QUEUE_BOUND = 20_000  # the reader pauses here …
RESUME_BELOW = QUEUE_BOUND // 2  # … and reads again once the writer has taken the buffer below this
QUEUE_LIMIT = QUEUE_BOUND + 10_000  # past one socket chunk's messages: only a reader that cannot pause
REPORT_EVERY_DROPS = 1000


class IngestBuffer:
    def __init__(self, namespace: str, stats: IngestStats) -> None:
        self.namespace = namespace
        self.stats = stats
        self.topic_parser = TopicParser(namespace)
        self.queue: asyncio.Queue[IngestMessage] = asyncio.Queue()  # bounded by offer()
        self.reader: SocketReader | None = None
        self._idle = asyncio.Event()  # set: nothing received is waiting to be stored
        self._idle.set()

    def receive(self, message: aiomqtt.Message) -> None:
        """A message paho decoded itself (see :mod:`mqtt_reader`), in its read callback."""
        payload = message.payload
        raw = bytes(payload) if isinstance(payload, bytes | bytearray) else str(payload).encode()
        self.handle(str(message.topic), raw)

    def handle(self, topic: str, payload: bytes) -> None:
        """Validate and buffer one message as it is read; never raises, never waits."""
        try:
            parsed = self.accept(topic, payload)
        except Exception:  # a bug here must not break the connection (the message is acknowledged)
            self.stats.fail()
            log.exception("mqtt message could not be handled", extra={"topic": topic[:200]})
            return
        if parsed is not None:
            self.offer(parsed)

    def offer(self, message: IngestMessage) -> None:
        """Into the buffer, never awaited; at ``QUEUE_BOUND`` the reader pauses (the broker keeps the
        rest), past ``QUEUE_LIMIT`` the message is dropped and counted."""
        if self.queue.qsize() >= QUEUE_LIMIT:
            self._drop(message)
            return
        self.queue.put_nowait(message)
        self._idle.clear()
        reader = self.reader
        if reader is not None and not reader.paused and self.queue.qsize() >= QUEUE_BOUND:
            self.stats.pause()
            reader.pause()
            log.warning("mqtt ingest buffer full: reading paused (the writer cannot keep up)",
                        extra={"bound": QUEUE_BOUND, "pauses": self.stats.pauses})  # fmt: skip

    def _drop(self, message: IngestMessage) -> None:
        self.stats.drop()
        if self.stats.dropped % REPORT_EVERY_DROPS == 1:
            log.error(
                "mqtt ingest buffer full: messages dropped (the writer cannot keep up)",
                extra={
                    "dropped_total": self.stats.dropped,
                    "bound": QUEUE_LIMIT,
                    "device_id": message.device_id,
                },
            )

    def accept(self, topic: str, payload: bytes) -> IngestMessage | None:
        """The validated message, or None after counting and logging why it was dropped."""
        if topic == BROKER_DROPPED_TOPIC:
            self.stats.broker(payload)
            return None
        try:
            kind, device_id = self.topic_parser.parse(topic)
            body = parse_payload(kind, payload)
        except InvalidMessage as exc:
            self.stats.received += 1
            self.stats.reject(exc.reason)
            log.warning("mqtt message rejected", extra={"topic": topic[:200], "reason": str(exc)[:300]})
            return None
        self.stats.receive(kind)
        return IngestMessage(kind, device_id, body, datetime.now(UTC), time.monotonic())

    async def next_batch(self) -> list[IngestMessage]:
        """Up to ``BATCH_SIZE`` messages, once the oldest has waited ``BATCH_WAIT`` (or at once if full)."""
        first = await self.queue.get()
        wait = first.received_mono + BATCH_WAIT - time.monotonic()
        if wait > 0 and self.queue.qsize() < BATCH_SIZE - 1:
            await asyncio.sleep(wait)
        batch = [first]
        self._take_more(batch)
        return batch

    def _take_more(self, batch: list[IngestMessage]) -> None:
        """What is buffered, up to ``BATCH_SIZE``, into ``batch``; reading resumes once it is low."""
        while len(batch) < BATCH_SIZE and not self.queue.empty():
            batch.append(self.queue.get_nowait())
        self.stats.publish()
        if self.reader is not None and self.reader.paused and self.queue.qsize() < RESUME_BELOW:
            self.reader.resume()
