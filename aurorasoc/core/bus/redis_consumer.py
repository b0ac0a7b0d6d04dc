"""One consumer group's side of the Redis Streams bus (spec §12): read, hand to the handler,
acknowledge, retry in place, take over what a crashed consumer left, dead-letter.

``RedisStreamsBus`` owns the connection, publishing and the lifecycle; it runs one
``StreamConsumer`` per subscription. They share a ``Flow``: whether consumers may run and read, and
how many handlers are in flight, which is what a drain waits for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from aurorasoc.core.bus.base import (
    BatchHandler,
    BusMessage,
    Handler,
    batch_failed,
    dead_letter_stream,
    handler_failed,
)

log = logging.getLogger(__name__)

PROCESS_GROUP_PREFIX = "api-ws-"
TRANSIENT = (RedisConnectionError, RedisTimeoutError, OSError)
Entries = list[tuple[str, dict[str, str]]]
DeadLetterWriter = Callable[[str, dict[str, Any]], Awaitable[None]]  # (dead-letter stream, entry data)


@dataclass
class Subscription:
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


@dataclass(frozen=True)
class Policy:
    """How a consumer waits, retries and gives up; every interval injectable so tests run fast."""

    max_deliveries: int
    claim_idle_ms: int
    block_ms: int
    claim_interval: float
    backoff_base: float
    backoff_max: float

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))


class Flow:
    """Shared by a bus's consumers: ``running`` until closed, ``reading`` until drained, and the
    handlers in flight (``idle`` is set when there are none)."""

    def __init__(self) -> None:
        self.running = False
        self.reading = True
        self._in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()

    @property
    def open(self) -> bool:
        return self.running and self.reading

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """Count a handler in flight: a drain waits for it to finish and acknowledge."""
        self._in_flight += 1
        self.idle.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self.idle.set()


class StreamConsumer:
    """The consumer of one subscription."""

    def __init__(
        self,
        sub: Subscription,
        client: aioredis.Redis,
        policy: Policy,
        flow: Flow,
        write_dead_letter: DeadLetterWriter,
    ) -> None:
        self.sub, self.client, self.policy, self.flow = sub, client, policy, flow
        self._write_dead_letter = write_dead_letter

    async def ensure_group(self) -> None:
        try:
            await self.client.xgroup_create(self.sub.key, self.sub.group, id=self.sub.start_id, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run(self) -> None:
        """Read, handle and claim until closed or drained; connection errors back off and reconnect."""
        failures = 0
        next_claim = time.monotonic() + self.policy.claim_interval
        # The flow is checked on every turn: a consumer that outlives ``close()`` (redis-py can
        # swallow a cancellation inside a blocking read) must end, not re-create a destroyed group.
        while self.flow.open:
            try:
                if failures:
                    await self.ensure_group()  # Redis may have restarted empty
                if time.monotonic() >= next_claim:
                    await self._claim_idle()
                    next_claim = time.monotonic() + self.policy.claim_interval
                await self._read_new()
                failures = 0
            except asyncio.CancelledError:
                raise
            except (*TRANSIENT, ResponseError) as exc:
                if not self.flow.running:
                    return
                failures += 1
                delay = self.policy.backoff(failures)
                log.warning("bus consumer %s error (%s); retrying in %.1fs", self.sub.group, exc, delay)
                await asyncio.sleep(delay)

    async def _read_new(self) -> None:
        """A batch read before the drain is in hand and finishes (lingering included); what a read
        returns once draining has begun is left pending for another consumer to claim."""
        sub, flow = self.sub, self.flow
        entries = await self._read(sub.batch_size, self.policy.block_ms)
        burst, sub.burst = sub.burst, bool(entries)
        if not entries or not flow.reading:
            return
        with flow.busy():
            if burst and sub.linger and len(entries) < sub.batch_size:
                await asyncio.sleep(sub.linger)
                if flow.reading:
                    entries += await self._read(sub.batch_size - len(entries), None)
            if sub.batch is not None and await self._process_batch(sub.batch, entries):
                return
            for entry_id, fields in entries:
                if not flow.reading:
                    return  # one by one, only the entry in hand finishes
                await self._process(entry_id, fields, deliveries=1)

    async def _read(self, count: int, block: int | None) -> Entries:
        """New entries, waiting up to ``block`` ms for the first."""
        sub = self.sub
        response = await self.client.xreadgroup(
            sub.group, sub.consumer, {sub.key: ">"}, count=count, block=block
        )
        return [entry for _stream, entries in response or [] for entry in entries]

    async def _process_batch(self, handler: BatchHandler, entries: Entries) -> bool:
        """Deliver ``entries`` in one call and acknowledge them in one; False when that failed
        (or one is malformed), so the caller delivers them one by one."""
        sub = self.sub
        try:
            messages = [to_message(sub.stream, fields, 1) for _entry_id, fields in entries]
            await handler(messages)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            batch_failed(log, exc, sub.stream, sub.group, len(entries))
            return False
        await self.client.xack(sub.key, sub.group, *(entry_id for entry_id, _fields in entries))
        return True

    async def _claim_idle(self) -> None:
        """Take over entries another (crashed) consumer left pending for too long."""
        sub, start = self.sub, "0-0"
        while True:
            response = await self.client.xautoclaim(
                sub.key,
                sub.group,
                sub.consumer,
                self.policy.claim_idle_ms,
                start_id=start,
                count=sub.batch_size,
            )
            start, entries = response[0], response[1]
            for entry_id, fields in entries:
                if not self.flow.reading:
                    return
                if fields:  # trimmed entries come back empty; Redis drops them from the PEL
                    await self._process(entry_id, fields, await self._deliveries(entry_id))
            if start in ("0-0", b"0-0"):
                return

    async def _deliveries(self, entry_id: str) -> int:
        sub = self.sub
        rows = await self.client.xpending_range(sub.key, sub.group, min=entry_id, max=entry_id, count=1)
        return int(rows[0]["times_delivered"]) if rows else 1

    async def _process(self, entry_id: str, fields: dict[str, str], deliveries: int) -> None:
        """One entry, counted in flight while it is handled."""
        with self.flow.busy():
            await self._deliver(entry_id, fields, deliveries)

    async def _deliver(self, entry_id: str, fields: dict[str, str], deliveries: int) -> None:
        """Deliver with in-place retries; dead-letter after ``max_deliveries``, then XACK."""
        sub, policy = self.sub, self.policy
        try:
            message = to_message(sub.stream, fields, deliveries)
        except (KeyError, ValueError):
            log.error("malformed bus entry %s on %s", entry_id, sub.stream)
            await self._dead_letter(entry_id, fields.get("id", entry_id), {"raw": fields}, "malformed entry")
            return
        error = ""
        while message.deliveries <= policy.max_deliveries:
            try:
                await sub.handler(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = handler_failed(log, exc, message, sub.group, message.deliveries)
            else:
                await self.client.xack(sub.key, sub.group, entry_id)
                return
            if message.deliveries >= policy.max_deliveries:
                break
            await asyncio.sleep(policy.backoff(message.deliveries))
            claimed = await self.client.xclaim(sub.key, sub.group, sub.consumer, 0, [entry_id])
            if not claimed:  # trimmed away or acknowledged elsewhere meanwhile
                return
            message = replace(message, deliveries=await self._deliveries(entry_id))
        await self._dead_letter(entry_id, message.id, message.data, error)

    async def _dead_letter(self, entry_id: str, message_id: str, data: Any, error: str) -> None:
        """Raw XADD (no silent drop): if Redis fails here the entry simply stays pending.

        The entry and the log line say which stream and message, and why (the last error).
        """
        sub = self.sub
        log.error("dead-lettering %s message %s (group %s): %s", sub.stream, message_id, sub.group, error)
        payload = {"source_stream": sub.stream, "group": sub.group, "message_id": message_id, "data": data}
        payload["error"] = error
        await self._write_dead_letter(dead_letter_stream(sub.stream), payload)
        await self.client.xack(sub.key, sub.group, entry_id)


def to_message(stream: str, fields: dict[str, str], deliveries: int) -> BusMessage:
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
