"""Redis Streams event bus (spec §12): durable, shared by every process of a deployment.

Entries carry ``id`` (uuid4 hex), ``timestamp`` (ISO UTC) and ``data`` (JSON). Work groups
start from ``0`` so nothing published before the first consumer is lost; per-process
WebSocket groups (``api-ws-…``) start from ``$`` and are destroyed at shutdown. A failed
handler leaves its entry pending and is retried in place with exponential backoff (each
retry is an ``XCLAIM``, so the delivery count in ``XPENDING`` stays authoritative); after
``max_deliveries`` the entry is dead-lettered and acknowledged. Entries left pending by a
crashed consumer are taken over with ``XAUTOCLAIM`` once idle for ``claim_idle_seconds``.
Streams are named logically (``aurora:alerts``); the Redis keys carry ``AURORA_NAMESPACE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.typing import EncodableT, FieldT

from aurorasoc.core.bus.base import BatchHandler, BusMessage, Handler, dead_letter_stream
from aurorasoc.core.bus.stream_trim import TRIM_INTERVAL_SECONDS, StreamTrimmer
from aurorasoc.core.config import get_settings
from aurorasoc.core.metrics import BUS_PUBLISH_FAILURES
from aurorasoc.core.namespace import redis_key

log = logging.getLogger(__name__)
CLOSE_TIMEOUT_SECONDS = 2.0  # per stage of close(): SIGTERM must end a process within 10 s

DECISION_STREAM_PREFIX = "decisions:"
DECISION_MAXLEN = 1_000_000
PROCESS_GROUP_PREFIX = "api-ws-"
_T = TypeVar("_T")
_TRANSIENT = (RedisConnectionError, RedisTimeoutError, OSError)


@dataclass
class _Subscription:
    stream: str
    group: str
    handler: Handler
    consumer: str
    batch_size: int
    key: str  # the stream's Redis key in this deployment's namespace
    batch: BatchHandler | None = None  # entries read together go to it in one call
    linger: float = 0.0
    burst: bool = False  # the last read found entries

    @property
    def start_id(self) -> str:
        return "$" if self.group.startswith(PROCESS_GROUP_PREFIX) else "0"


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
        self.max_deliveries = _or(max_deliveries, messaging.stream_max_deliveries)
        self.claim_idle_ms = int(_or(claim_idle_seconds, messaging.stream_claim_idle_seconds) * 1000)
        self.block_ms = block_ms
        self.claim_interval = claim_interval
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.publish_retries = publish_retries
        self.publish_retry_delay = publish_retry_delay
        self._subscriptions: list[_Subscription] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False
        self._reading = True  # False once draining: no further entry is read or started
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Create every group now (so later publishes reach ``$`` groups), then consume."""
        if self._running:
            return
        self._running = True
        for sub in self._subscriptions:
            with contextlib.suppress(*_TRANSIENT):  # Redis down: the consumer retries
                await self._ensure_group(sub)
            self._spawn(sub)

    async def drain(self, grace_seconds: float) -> None:
        """Read and start nothing more; wait up to ``grace_seconds`` for the handlers in flight to finish.

        What is still running afterwards is cancelled by :meth:`close`: its entry, never
        acknowledged, stays pending and another consumer claims it (``XAUTOCLAIM``); so do the
        entries read in the same batch but not started.
        """
        self._reading = False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace_seconds)

    async def close(self) -> None:
        """Stop the consumers; bounded, because a redis-py connection cancelled in the middle of a
        blocking read can leave its task (and the pool) stuck instead of finishing."""
        self._running = False
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _done, stuck = await asyncio.wait(self._tasks, timeout=CLOSE_TIMEOUT_SECONDS)
            if stuck:
                # Breaking the sockets ends a read stuck in redis-py; only then are groups destroyed.
                with contextlib.suppress(*_TRANSIENT, RedisError):
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
                except (*_TRANSIENT, RedisError, TimeoutError):
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
        sub = _Subscription(stream, group, handler, name, batch_size, key, batch, linger)
        self._subscriptions.append(sub)
        if self._running:
            self._spawn(sub)

    # -- publishing --------------------------------------------------------------------

    async def publish(self, stream: str, data: dict[str, Any]) -> str:
        """Append to ``stream``; after the retries the message is dropped and counted (§23)."""
        message_id = uuid.uuid4().hex
        for attempt in range(self.publish_retries + 1):
            try:
                await self._xadd(stream, message_id, data)
                return message_id
            except (*_TRANSIENT, RedisError):
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
        except (*_TRANSIENT, RedisError):
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

    def _spawn(self, sub: _Subscription) -> None:
        task = asyncio.create_task(self._consume(sub), name=f"bus:{sub.stream}:{sub.group}")
        self._tasks.append(task)

    async def _ensure_group(self, sub: _Subscription) -> None:
        try:
            await self.client.xgroup_create(sub.key, sub.group, id=sub.start_id, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _consume(self, sub: _Subscription) -> None:
        """Read, handle and claim forever; connection errors back off and reconnect."""
        failures = 0
        next_claim = time.monotonic() + self.claim_interval
        # ``_running`` is checked on every turn: a consumer that outlives ``close()`` (redis-py can
        # swallow a cancellation inside a blocking read) must end, not re-create a destroyed group.
        while self._running and self._reading:
            try:
                if failures:
                    await self._ensure_group(sub)  # Redis may have restarted empty
                if time.monotonic() >= next_claim:
                    await self._claim_idle(sub)
                    next_claim = time.monotonic() + self.claim_interval
                await self._read_new(sub)
                failures = 0
            except asyncio.CancelledError:
                raise
            except (*_TRANSIENT, ResponseError) as exc:
                if not self._running:
                    return
                failures += 1
                delay = min(self.backoff_max, self.backoff_base * 2 ** (failures - 1))
                log.warning("bus consumer %s error (%s); retrying in %.1fs", sub.group, exc, delay)
                await asyncio.sleep(delay)

    async def _read_new(self, sub: _Subscription) -> None:
        """A batch read before :meth:`drain` is in hand and finishes (lingering included); what a
        read returns once draining has begun is left pending for another consumer to claim."""
        entries = await self._read(sub, sub.batch_size, self.block_ms)
        burst, sub.burst = sub.burst, bool(entries)
        if not entries or not self._reading:
            return
        with self._busy():
            if burst and sub.linger and len(entries) < sub.batch_size:
                await asyncio.sleep(sub.linger)
                if self._reading:
                    entries += await self._read(sub, sub.batch_size - len(entries), None)
            if sub.batch is not None and await self._process_batch(sub, sub.batch, entries):
                return
            for entry_id, fields in entries:
                if not self._reading:
                    return  # one by one, only the entry in hand finishes
                await self._process(sub, entry_id, fields, deliveries=1)

    async def _read(
        self, sub: _Subscription, count: int, block: int | None
    ) -> list[tuple[str, dict[str, str]]]:
        """New entries for ``sub`` (one stream key), waiting up to ``block`` ms for the first."""
        response = await self.client.xreadgroup(
            sub.group, sub.consumer, {sub.key: ">"}, count=count, block=block
        )
        return [entry for _stream, entries in response or [] for entry in entries]

    async def _process_batch(
        self, sub: _Subscription, handler: BatchHandler, entries: list[tuple[str, dict[str, str]]]
    ) -> bool:
        """Deliver ``entries`` in one call and acknowledge them in one; False when that failed
        (or one is malformed), so the caller delivers them one by one."""
        try:
            messages = [_to_message(sub.stream, fields, 1) for _entry_id, fields in entries]
            await handler(messages)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(
                "bus batch handler failed on %s (%d messages), delivering them one by one: %s",
                sub.stream,
                len(entries),
                f"{type(exc).__name__}: {exc}"[:2000],
                extra={"group": sub.group, "stream": sub.stream},
            )
            return False
        await self.client.xack(sub.key, sub.group, *(entry_id for entry_id, _fields in entries))
        return True

    async def _claim_idle(self, sub: _Subscription) -> None:
        """Take over entries another (crashed) consumer left pending for too long."""
        start = "0-0"
        while True:
            response = await self.client.xautoclaim(
                sub.key, sub.group, sub.consumer, self.claim_idle_ms, start_id=start, count=sub.batch_size
            )
            start, entries = response[0], response[1]
            for entry_id, fields in entries:
                if not self._reading:
                    return
                if fields:  # trimmed entries come back empty; Redis drops them from the PEL
                    await self._process(sub, entry_id, fields, await self._deliveries(sub, entry_id))
            if start in ("0-0", b"0-0"):
                return

    async def _deliveries(self, sub: _Subscription, entry_id: str) -> int:
        rows = await self.client.xpending_range(sub.key, sub.group, min=entry_id, max=entry_id, count=1)
        return int(rows[0]["times_delivered"]) if rows else 1

    async def _process(
        self, sub: _Subscription, entry_id: str, fields: dict[str, str], deliveries: int
    ) -> None:
        """One entry, counted in flight while it is handled (see :meth:`drain`)."""
        with self._busy():
            await self._deliver(sub, entry_id, fields, deliveries)

    @contextlib.contextmanager
    def _busy(self) -> Iterator[None]:
        """Count a handler in flight: :meth:`drain` waits for it to finish and acknowledge."""
        self._in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _deliver(
        self, sub: _Subscription, entry_id: str, fields: dict[str, str], deliveries: int
    ) -> None:
        """Deliver with in-place retries; dead-letter after ``max_deliveries``, then XACK."""
        try:
            message = _to_message(sub.stream, fields, deliveries)
        except (KeyError, ValueError):
            log.error("malformed bus entry %s on %s", entry_id, sub.stream)
            await self._dead_letter(
                sub, entry_id, fields.get("id", entry_id), {"raw": fields}, "malformed entry"
            )
            return
        error = ""
        while message.deliveries <= self.max_deliveries:
            try:
                await sub.handler(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:2000]
                log.warning(
                    "bus handler failed on %s message %s: %s",
                    sub.stream,
                    message.id,
                    error,
                    extra={"group": sub.group, "stream": sub.stream, "attempt": message.deliveries},
                )
            else:
                await self.client.xack(sub.key, sub.group, entry_id)
                return
            if message.deliveries >= self.max_deliveries:
                break
            await asyncio.sleep(min(self.backoff_max, self.backoff_base * 2 ** (message.deliveries - 1)))
            claimed = await self.client.xclaim(sub.key, sub.group, sub.consumer, 0, [entry_id])
            if not claimed:  # trimmed away or acknowledged elsewhere meanwhile
                return
            message = replace(message, deliveries=await self._deliveries(sub, entry_id))
        await self._dead_letter(sub, entry_id, message.id, message.data, error)

    async def _dead_letter(
        self, sub: _Subscription, entry_id: str, message_id: str, data: Any, error: str
    ) -> None:
        """Raw XADD (no silent drop): if Redis fails here the entry simply stays pending.

        The entry and the log line say which stream and message, and why (the last error).
        """
        log.error("dead-lettering %s message %s (group %s): %s", sub.stream, message_id, sub.group, error)
        payload = {"source_stream": sub.stream, "group": sub.group, "message_id": message_id, "data": data}
        payload["error"] = error
        await self._xadd(dead_letter_stream(sub.stream), uuid.uuid4().hex, payload)
        await self.client.xack(sub.key, sub.group, entry_id)


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _to_message(stream: str, fields: dict[str, str], deliveries: int) -> BusMessage:
    data = orjson.loads(fields["data"])
    if not isinstance(data, dict):
        raise ValueError("bus data must be a JSON object")
    return BusMessage(
        id=fields["id"],
        stream=stream,
        data=data,
        timestamp=datetime.fromisoformat(fields["timestamp"]),
        deliveries=deliveries,
    )
