"""Redis Streams event bus (spec §12): durable, shared by every process of a deployment.

Entries carry ``id`` (uuid4 hex), ``timestamp`` (ISO UTC) and ``data`` (JSON). Work groups
start from ``0`` so nothing published before the first consumer is lost; per-process
WebSocket groups (``api-ws-…``) start from ``$`` and are destroyed at shutdown. A failed
handler leaves its entry pending and is retried in place with exponential backoff (each
retry is an ``XCLAIM``, so the delivery count in ``XPENDING`` stays authoritative); after
``max_deliveries`` the entry is dead-lettered and acknowledged. Entries left pending by a
crashed consumer are taken over with ``XAUTOCLAIM`` once idle for ``claim_idle_seconds``.
Streams are named logically (``aurora:alerts``); the Redis keys carry ``AURORA_NAMESPACE``.
This module publishes and runs the lifecycle; ``redis_consumer`` is one group's consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from aurorasoc.core.bus.base import BatchHandler, BusMessage, Handler
from aurorasoc.core.bus.redis_consumer import (
    PROCESS_GROUP_PREFIX,
    TRANSIENT,
    Flow,
    Policy,
    StreamConsumer,
    Subscription,
)
from aurorasoc.core.bus.stream_trim import TRIM_INTERVAL_SECONDS, StreamTrimmer
from aurorasoc.core.config import get_settings
from aurorasoc.core.metrics import BUS_PUBLISH_FAILURES
from aurorasoc.core.namespace import redis_key

log = logging.getLogger(__name__)
CLOSE_TIMEOUT_SECONDS = 2.0  # per stage of close(): SIGTERM must end a process within 10 s

DECISION_STREAM_PREFIX = "decisions:"
DECISION_MAXLEN = 1_000_000
_T = TypeVar("_T")


def _durable(group: str) -> bool:
    """A per-process fan-out group (``api-ws-*``) never holds a stream's entries back."""
    return not group.startswith(PROCESS_GROUP_PREFIX)


class RedisStreamsBus:
    """``EventBus`` over Redis Streams; every interval is injectable so tests run fast."""

    def __init__(
        self,
        url: str | None = None,
        *,
        client: aioredis.Redis | None = None,
        maxlen: int | None = None,
        max_deliveries: int | None = None,
        claim_idle_seconds: float | None = None,
        block_ms: int = 5000,
        claim_interval: float = 30.0,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        publish_retries: int = 3,
        publish_retry_delay: float = 0.1,
        namespace: str | None = None,
        trim_interval: float = TRIM_INTERVAL_SECONDS,
    ) -> None:

        messaging = get_settings().messaging
        self.namespace = namespace or get_settings().namespace
        self._owns_client = client is None
        self.client: aioredis.Redis = client or aioredis.from_url(  # type: ignore[no-untyped-call]
            url or messaging.redis_url,
            decode_responses=True,
            socket_connect_timeout=2,
            socket_timeout=block_ms / 1000 + 10,  # must outlast a blocking XREADGROUP
            health_check_interval=30,
        )
        self.maxlen = _or(maxlen, messaging.stream_maxlen)
        self._trimmer = StreamTrimmer(self.maxlen, durable=_durable, interval=trim_interval)
        self.policy = Policy(
            max_deliveries=_or(max_deliveries, messaging.stream_max_deliveries),
            claim_idle_ms=int(_or(claim_idle_seconds, messaging.stream_claim_idle_seconds) * 1000),
            block_ms=block_ms,
            claim_interval=claim_interval,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
        )
        self.publish_retries = publish_retries
        self.publish_retry_delay = publish_retry_delay
        self._subscriptions: list[Subscription] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._flow = Flow()  # running until closed, reading until drained, handlers in flight

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Create every group now (so later publishes reach ``$`` groups), then consume."""
        if self._flow.running:
            return
        self._flow.running = True
        for sub in self._subscriptions:
            with contextlib.suppress(*TRANSIENT):  # Redis down: the consumer retries
                await self._consumer(sub).ensure_group()
            self._spawn(sub)

    async def drain(self, grace_seconds: float) -> None:
        """Read and start nothing more; wait up to ``grace_seconds`` for the handlers in flight to finish.

        What is still running afterwards is cancelled by :meth:`close`: its entry, never
        acknowledged, stays pending and another consumer claims it (``XAUTOCLAIM``); so do the
        entries read in the same batch but not started.
        """
        self._flow.reading = False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._flow.idle.wait(), grace_seconds)

    async def close(self) -> None:
        """Stop the consumers; bounded, because a redis-py connection cancelled in the middle of a
        blocking read can leave its task (and the pool) stuck instead of finishing."""
        self._flow.running = False
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _done, stuck = await asyncio.wait(self._tasks, timeout=CLOSE_TIMEOUT_SECONDS)
            if stuck:
                # Breaking the sockets ends a read stuck in redis-py; only then are groups destroyed.
                with contextlib.suppress(*TRANSIENT, RedisError):
                    await self.client.connection_pool.disconnect()
                _done, stuck = await asyncio.wait(stuck, timeout=CLOSE_TIMEOUT_SECONDS)
            if stuck:
                log.warning("%d bus consumer(s) did not stop within %.0fs", len(stuck), CLOSE_TIMEOUT_SECONDS)
        self._tasks.clear()
        for sub in self._subscriptions:
            if sub.start_id == "$":
                try:
                    await asyncio.wait_for(
                        self.client.xgroup_destroy(sub.key, sub.group), CLOSE_TIMEOUT_SECONDS
                    )
                except (*TRANSIENT, RedisError, TimeoutError):
                    log.warning("could not destroy consumer group %s", sub.group)
        if self._owns_client:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.client.aclose(), CLOSE_TIMEOUT_SECONDS)

    def subscribe(
        self,
        stream: str,
        group: str,
        handler: Handler,
        *,
        consumer: str | None = None,
        batch_size: int = 10,
    ) -> None:
        self._add(stream, group, handler, consumer, batch_size)

    def subscribe_batch(
        self,
        stream: str,
        group: str,
        handler: BatchHandler,
        *,
        consumer: str | None = None,
        batch_size: int = 100,
        linger: float = 0.0,
    ) -> None:
        """Like :meth:`subscribe`, but the entries of one read reach ``handler`` together and are
        acknowledged together; retries, claims and dead-lettering take them one by one. In a
        burst (the last read found entries) a read that does not fill the batch reads again after
        ``linger`` seconds."""

        async def alone(message: BusMessage) -> None:
            await handler([message])

        self._add(stream, group, alone, consumer, batch_size, handler, linger)

    def _add(
        self,
        stream: str,
        group: str,
        handler: Handler,
        consumer: str | None,
        batch_size: int,
        batch: BatchHandler | None = None,
        linger: float = 0.0,
    ) -> None:
        name = consumer or f"{socket.gethostname()}:{os.getpid()}:{len(self._subscriptions)}"
        key = redis_key(stream, self.namespace)
        sub = Subscription(stream, group, handler, name, batch_size, key, batch, linger)
        self._subscriptions.append(sub)
        if self._flow.running:
            self._spawn(sub)

    # -- publishing --------------------------------------------------------------------

    async def publish(self, stream: str, data: dict[str, Any]) -> str:
        """Append to ``stream``; after the retries the message is dropped and counted (§23)."""
        message_id = uuid.uuid4().hex
        for attempt in range(self.publish_retries + 1):
            try:
                await self._xadd(stream, message_id, data)
                return message_id
            except (*TRANSIENT, RedisError):
                if attempt < self.publish_retries:
                    await asyncio.sleep(self.publish_retry_delay * 2**attempt)
        BUS_PUBLISH_FAILURES.labels(stream).inc()
        log.error("bus publish dropped after retries", extra={"stream": stream, "message_id": message_id})
        return message_id

    async def publish_many(self, stream: str, items: list[dict[str, Any]]) -> None:
        """Append many entries in one pipelined round trip (fleet telemetry events); a failure
        falls back to :meth:`publish` one by one, with its retries and counting."""
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for data in items:
                    pipe.xadd(redis_key(stream, self.namespace), self._fields(uuid.uuid4().hex, data),
                              maxlen=self._maxlen(stream), approximate=True)  # fmt: skip
                await pipe.execute()
        except (*TRANSIENT, RedisError):
            for data in items:
                await self.publish(stream, data)
            return
        await self._trimmed(stream)

    def _maxlen(self, stream: str) -> int:
        return DECISION_MAXLEN if stream.startswith(DECISION_STREAM_PREFIX) else self.maxlen

    async def _trimmed(self, stream: str) -> None:
        """Entries every durable group has acknowledged go (decision streams keep their history)."""
        if not stream.startswith(DECISION_STREAM_PREFIX) and self._trimmer.due(stream):
            await self._trimmer.trim_quietly(self.client, stream, redis_key(stream, self.namespace))

    @staticmethod
    def _fields(message_id: str, data: dict[str, Any]) -> dict[FieldT, EncodableT]:
        return {
            "id": message_id,
            "timestamp": datetime.now(UTC).isoformat(),
            "data": orjson.dumps(data).decode(),
        }

    async def _xadd(self, stream: str, message_id: str, data: dict[str, Any]) -> None:
        key = redis_key(stream, self.namespace)
        await self.client.xadd(
            key, self._fields(message_id, data), maxlen=self._maxlen(stream), approximate=True
        )
        await self._trimmed(stream)

    # -- consuming ---------------------------------------------------------------------

    def _spawn(self, sub: Subscription) -> None:
        task = asyncio.create_task(self._consumer(sub).run(), name=f"bus:{sub.stream}:{sub.group}")
        self._tasks.append(task)

    def _consumer(self, sub: Subscription) -> StreamConsumer:
        return StreamConsumer(sub, self.client, self.policy, self._flow, self._write_dead_letter)

    async def _write_dead_letter(self, stream: str, data: dict[str, Any]) -> None:
        await self._xadd(stream, uuid.uuid4().hex, data)


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value
