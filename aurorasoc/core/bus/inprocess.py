"""In-process event bus: the embedded default when no Redis is configured.

Each (stream, group) pair has its own bounded queue, so every group sees every message and
consumers inside one group compete for it. Failed handlers are retried with exponential
backoff; after ``max_deliveries`` the message goes to the dead-letter stream. Nothing survives
a restart, which is the documented trade-off of the embedded mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from aurorasoc.core.bus.base import (
    BatchHandler,
    BusMessage,
    Handler,
    batch_failed,
    dead_letter_stream,
    handler_failed,
)
from aurorasoc.core.config import get_settings

log = logging.getLogger(__name__)

# True inside consumer tasks. A handler that publishes (the alert pipeline publishes to the stream it
# consumes) must never wait for room in a queue: it would wait on itself, and every request that
# publishes would then wait behind it - the whole server stalls once 10,000 messages are pending.
_IN_HANDLER: ContextVar[bool] = ContextVar("aurora_bus_in_handler", default=False)


@dataclass
class _Subscription:
    group: str
    handler: Handler  # one message (a batch subscription's handler, given a batch of one)
    queue: asyncio.Queue[BusMessage]
    batch: BatchHandler | None = None
    batch_size: int = 1
    linger: float = 0.0


class InProcessBus:
    def __init__(
        self, *, maxsize: int = 10_000, max_deliveries: int | None = None, backoff_base: float = 1.0
    ) -> None:
        if max_deliveries is None:
            max_deliveries = get_settings().messaging.stream_max_deliveries
        self.max_deliveries = max_deliveries
        self.backoff_base = backoff_base
        self._maxsize = maxsize  # back-pressure on producers outside the bus; queues are unbounded
        self._queues: dict[str, dict[str, asyncio.Queue[BusMessage]]] = defaultdict(dict)
        self._subscriptions: list[_Subscription] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False
        self._room = asyncio.Condition()  # a consumer took a message: waiting producers look again

    async def start(self) -> None:
        if self._running:
            return
        self._running = True
        for sub in self._subscriptions:
            self._spawn(sub)

    async def close(self) -> None:
        self._running = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def publish(self, stream: str, data: dict[str, Any]) -> str:
        message = BusMessage(id=uuid.uuid4().hex, stream=stream, data=data)
        queues = list(self._queues.get(stream, {}).values())
        if not _IN_HANDLER.get() and any(q.qsize() >= self._maxsize for q in queues):
            async with self._room:  # a producer waits until its consumers catch up
                await self._room.wait_for(lambda: all(q.qsize() < self._maxsize for q in queues))
        for queue in queues:
            queue.put_nowait(message)
        return message.id

    async def publish_many(self, stream: str, items: list[dict[str, Any]]) -> None:
        for data in items:
            await self.publish(stream, data)

    def subscribe(
        self,
        stream: str,
        group: str,
        handler: Handler,
        *,
        consumer: str | None = None,
        batch_size: int = 10,
    ) -> None:
        self._add(_Subscription(group, handler, self._queues[stream].setdefault(group, asyncio.Queue())))

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
        """The messages waiting (up to ``batch_size``, lingering in a burst as the protocol says)
        reach ``handler`` together; when it raises, each is delivered again alone, with the usual
        retries and dead-lettering."""

        async def alone(message: BusMessage) -> None:
            await handler([message])

        queue = self._queues[stream].setdefault(group, asyncio.Queue())
        self._add(_Subscription(group, alone, queue, handler, batch_size, linger))

    def _add(self, sub: _Subscription) -> None:
        self._subscriptions.append(sub)
        if self._running:
            self._spawn(sub)

    def pending(self, stream: str, group: str) -> int:
        queue = self._queues.get(stream, {}).get(group)
        return queue.qsize() if queue else 0

    async def join(self, stream: str, group: str) -> None:
        """Wait until every message queued for ``group`` has been handled (tests, shutdown)."""
        queue = self._queues.get(stream, {}).get(group)
        if queue is not None:
            await queue.join()

    def _spawn(self, sub: _Subscription) -> None:
        self._tasks.append(asyncio.create_task(self._consume(sub), name=f"bus:{sub.group}"))

    async def _consume(self, sub: _Subscription) -> None:
        _IN_HANDLER.set(True)  # this task's own context only
        burst = False  # messages arrived while the last batch was handled
        while True:
            messages = [await sub.queue.get()]
            try:
                _take_waiting(sub, messages)
                if burst and sub.linger and len(messages) < sub.batch_size:
                    await asyncio.sleep(sub.linger)
                    _take_waiting(sub, messages)
                async with self._room:
                    self._room.notify_all()
                if not await self._deliver_batch(sub, messages):
                    for message in messages:
                        await self._deliver(sub.group, sub.handler, message)
            finally:
                burst = not sub.queue.empty()  # before task_done: join() wakes no publisher yet
                for _ in messages:
                    sub.queue.task_done()
            _raise_if_cancelling()

    @staticmethod
    async def _deliver_batch(sub: _Subscription, messages: list[BusMessage]) -> bool:
        """One call for the whole batch; False (deliver one by one) when there is no batch
        handler or it raised."""
        if sub.batch is None:
            return False
        try:
            await sub.batch(messages)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            batch_failed(log, exc, messages[0].stream, sub.group, len(messages))
            return False
        return True

    async def _deliver(self, group: str, handler: Handler, message: BusMessage) -> None:
        error = ""
        for attempt in range(1, self.max_deliveries + 1):
            try:
                await handler(replace(message, deliveries=attempt))
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = handler_failed(log, exc, message, group, attempt)
                if attempt < self.max_deliveries:
                    await asyncio.sleep(self.backoff_base * 2 ** (attempt - 1))
        log.error("dead-lettering %s message %s (group %s): %s", message.stream, message.id, group, error)
        await self.publish(
            dead_letter_stream(message.stream),
            {"source_stream": message.stream, "group": group, "message_id": message.id, "data": message.data}
            | {"error": error},
        )


def _take_waiting(sub: _Subscription, messages: list[BusMessage]) -> None:
    while len(messages) < sub.batch_size and not sub.queue.empty():
        messages.append(sub.queue.get_nowait())


def _raise_if_cancelling() -> None:
    """Stop a consumer whose cancellation a handler swallowed.

    ``close`` cancels each consumer once and waits for it. On Python 3.11, ``asyncio.wait_for``
    loses a cancellation that arrives just as the awaited work finishes (fixed in 3.12). An agent
    task ending during shutdown then sent the consumer back to ``queue.get()``, and ``close``
    waited forever: the integration lane hung for 15 minutes in the MQTT consumer tests.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
