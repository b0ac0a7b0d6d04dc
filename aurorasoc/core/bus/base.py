"""The event bus interface (spec §12) and the process-wide bus."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol


@dataclass
class BusMessage:
    id: str
    stream: str
    data: dict[str, Any]
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    deliveries: int = 1


Handler = Callable[[BusMessage], Awaitable[None]]
# Handles the entries read together in one call (one transaction for all of them, say). When it
# raises, each entry is delivered again alone (a one-message batch) under the usual retries and
# dead-lettering, so one bad entry never takes its batch with it.
BatchHandler = Callable[[list[BusMessage]], Awaitable[None]]

AGENT_TASKS_STREAM = "aurora:agent:tasks"
AGENT_DEAD_LETTER = "aurora:agent:dead_letter"
DEAD_LETTER = "aurora:dead_letter"


def dead_letter_stream(stream: str) -> str:
    """Where a message goes after its last failed delivery (agent tasks have their own stream)."""
    return AGENT_DEAD_LETTER if stream == AGENT_TASKS_STREAM else DEAD_LETTER


class EventBus(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, stream: str, data: dict[str, Any]) -> str: ...

    async def publish_many(self, stream: str, items: list[dict[str, Any]]) -> None: ...

    def subscribe(
        self,
        stream: str,
        group: str,
        handler: Handler,
        *,
        consumer: str | None = None,
        batch_size: int = 10,
    ) -> None: ...

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
        """``handler`` gets the messages waiting, up to ``batch_size``. During a burst (messages
        kept arriving while the last batch was handled) a batch that is not full waits ``linger``
        seconds for more: a handler whose cost is mostly per call (one transaction) then handles a
        stream of single messages in a few larger batches instead of one call each."""
        ...


def _error_text(exc: Exception) -> str:
    """Bounded: an exception can hold a whole batch's data."""
    return f"{type(exc).__name__}: {exc}"[:2000]


def handler_failed(log: logging.Logger, exc: Exception, message: BusMessage, group: str, attempt: int) -> str:
    """Log a handler's failure with its stream, message and attempt; the error text a dead-letter
    entry carries."""
    error = _error_text(exc)
    log.warning(
        "bus handler failed on %s message %s: %s",
        message.stream,
        message.id,
        error,
        extra={"group": group, "stream": message.stream, "attempt": attempt},
    )
    return error


def batch_failed(log: logging.Logger, exc: Exception, stream: str, group: str, count: int) -> None:
    """Log a batch handler's failure; its messages are then delivered one by one."""
    log.warning(
        "bus batch handler failed on %s (%d messages), delivering them one by one: %s",
        stream,
        count,
        _error_text(exc),
        extra={"group": group, "stream": stream},
    )
