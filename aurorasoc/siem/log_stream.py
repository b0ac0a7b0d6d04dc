"""The ``aurora:logs`` lane (spec §12): parsed events go on the bus, the detection engine consumes them.

Producers (HTTP ingest, ``aurorasoc ingest --enqueue``) give every event a uuid4 ``id`` before
publishing, so the consumer is idempotent: ``DetectionPipeline`` stores each event under its id and
commits the log rows together with their alerts, and a redelivered message (its consumer died before
acknowledging) finds its events stored and skips them. Any number of ``detection-engine`` consumers
can therefore share the stream without losing or double-counting an event.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError
from redis.exceptions import RedisError

from aurorasoc.core.bus.base import DEAD_LETTER, BusMessage, EventBus
from aurorasoc.core.bus.redis_streams import RedisStreamsBus
from aurorasoc.core.db import get_session_factory
from aurorasoc.core.errors import DomainError
from aurorasoc.core.heap import keep_long_lived
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.rules import load_engine, rules_version
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.parsers import (
    InputLimits,
    LimitExceeded,
    ParseError,
    ParseResult,
    parse_bytes,
    parse_file,
)
from aurorasoc.siem.pipeline import DetectionPipeline
from aurorasoc.siem.repair import Rejected, process_isolated, repair

log = structlog.get_logger(__name__)

LOGS_STREAM = "aurora:logs"
DETECTION_GROUP = "detection-engine"
EVENTS_PER_MESSAGE = 200
SHOWN_ERRORS = 20
RULES_CHECK_SECONDS = 30.0

PipelineFactory = Callable[[], Awaitable[DetectionPipeline]]


def _messages(events: Iterable[NormalizedEvent]) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(events)
    while chunk := list(islice(iterator, EVENTS_PER_MESSAGE)):
        yield [repair(e).model_copy(update={"id": str(uuid.uuid4())}).model_dump(mode="json") for e in chunk]


async def publish_events(bus: EventBus, events: Iterable[NormalizedEvent], source: str) -> int:
    """Publish ``events`` on ``aurora:logs`` in messages of at most 200; returns how many were queued."""
    queued = 0
    for batch in _messages(events):
        await bus.publish(LOGS_STREAM, {"source": source, "events": batch})
        queued += len(batch)
    return queued


@dataclass
class EnqueueResult:
    """Events queued, records rejected, the first ``SHOWN_ERRORS`` parse errors with positions, and
    ``refused``: why the whole input was refused (a decompression bomb, a document over its limit)."""

    accepted: int = 0
    rejected: int = 0
    errors: list[ParseError] = field(default_factory=list)
    refused: str | None = None

    def events(self, items: Iterable[ParseResult], where: str = "") -> Iterator[NormalizedEvent]:
        """The events of ``items``; parse errors are counted (and kept, prefixed with ``where``)."""
        for item in items:
            if isinstance(item, NormalizedEvent):
                yield item
                continue
            self.reject(item, where)

    def reject(self, error: ParseError, where: str = "") -> None:
        self.rejected += 1
        if isinstance(error, LimitExceeded) and self.refused is None:
            self.refused = f"{where}{error.message}"
        if len(self.errors) < SHOWN_ERRORS:
            self.errors.append(ParseError(f"{where}{error.position}", error.message))


def _parse_upload(
    data: bytes, fmt: str, source: str, limits: InputLimits | None
) -> tuple[list[NormalizedEvent], EnqueueResult]:
    result = EnqueueResult()
    return list(result.events(parse_bytes(data, format=fmt, source=source, limits=limits))), result


async def enqueue_bytes(
    bus: EventBus, data: bytes, *, fmt: str, source: str, limits: InputLimits | None = None
) -> EnqueueResult:
    """Parse raw log data (off the event loop: EVTX is CPU work) and queue its events for detection.

    A refused input (``result.refused``) queues nothing.
    """
    events, result = await asyncio.to_thread(_parse_upload, data, fmt, source, limits)
    if result.refused is None:
        result.accepted = await publish_events(bus, events, source)
    return result


async def store_bytes(
    data: bytes, pipeline: PipelineFactory, *, fmt: str, source: str, limits: InputLimits | None = None
) -> EnqueueResult:
    """Parse raw log data and store (and detect on) its events before returning: searchable at once.

    Events the store refuses even alone are counted as rejected, each with its reason.
    """
    events, result = await asyncio.to_thread(_parse_upload, data, fmt, source, limits)
    if result.refused is not None:
        return result
    result.accepted = len(events)
    outcome = await process_isolated(await pipeline(), events, source=source, path="http-ingest")
    for item in outcome.rejected:
        result.reject(ParseError(f"event {item.index + 1}", f"not stored: {item.reason}"))
    result.accepted -= len(outcome.rejected)
    return result


async def enqueue_files(redis_url: str, files: list[Path], *, fmt: str, source: str | None) -> EnqueueResult:
    """``aurorasoc ingest --enqueue``: stream the files' events onto the shared Redis stream."""
    bus = RedisStreamsBus(redis_url)
    result = EnqueueResult()
    try:
        try:
            await bus.client.ping()
        except (RedisError, OSError) as exc:
            raise DomainError(
                f"Redis unreachable at AURORA_REDIS_URL: {exc}", code="redis_unavailable"
            ) from None
        for path in files:
            name = source or path.name
            try:
                items = parse_file(path, format=fmt, source=name)
            except OSError as exc:
                result.reject(ParseError("file", exc.strerror or str(exc)), f"{path}:")
                continue
            result.accepted += await publish_events(bus, result.events(items, f"{path}:"), name)
    finally:
        await bus.close()
    return result


def register_detection_consumer(
    bus: EventBus, pipeline_factory: PipelineFactory, *, batch_size: int = 10, consumer: str | None = None
) -> None:
    """Subscribe the shared ``detection-engine`` group.

    A transient failure (database unreachable) raises, so the bus retries the message; an event the
    store refuses even alone goes to ``aurora:dead_letter`` by itself, with its error text.
    """

    async def _handle(message: BusMessage) -> None:
        context = {"stream": message.stream, "message_id": message.id, "source": message.data.get("source")}
        events, invalid = _validated(message.data.get("events", []))
        outcome = await process_isolated(await pipeline_factory(), events, **context)
        rejected = invalid + outcome.rejected
        for item in rejected:
            await bus.publish(
                DEAD_LETTER,
                {**context, "group": DETECTION_GROUP, "error": item.reason, "event_index": item.index}
                | {"event_id": item.event_id, "data": item.data},
            )
        log.info(
            "log_batch_processed",
            **context,
            events=sum(r.events for r in outcome.results),
            replayed=sum(r.replayed for r in outcome.results),
            alerts_created=sum(r.alerts_created for r in outcome.results),
            repaired=outcome.repaired,
            rejected=len(rejected),
            deliveries=message.deliveries,
        )

    bus.subscribe(LOGS_STREAM, DETECTION_GROUP, _handle, consumer=consumer, batch_size=batch_size)


def _validated(items: list[Any]) -> tuple[list[NormalizedEvent], list[Rejected]]:
    """The message's valid events; one that is not a valid event is rejected alone, with its reason."""
    events: list[NormalizedEvent] = []
    invalid: list[Rejected] = []
    for index, item in enumerate(items):
        try:
            events.append(NormalizedEvent.model_validate(item))
        except ValidationError as exc:
            event_id = item.get("id") if isinstance(item, dict) else None
            invalid.append(Rejected(index, event_id, f"invalid event: {exc}"[:500], item))
    return events, invalid


class ReloadingEngine:
    """The detection engine of one process, rebuilt when the rule set's version changes.

    ``version()`` is asked at most every ``interval`` seconds, so a busy consumer does not query the
    rules table for every message.
    """

    def __init__(
        self,
        build: Callable[[], Awaitable[SigmaEngine]],
        version: Callable[[], Awaitable[object]],
        *,
        interval: float = RULES_CHECK_SECONDS,
    ) -> None:
        self._build = build
        self._version = version
        self.interval = interval
        self._engine: SigmaEngine | None = None
        self._built_version: object = None
        self._next_check = 0.0
        self._lock = asyncio.Lock()

    async def current(self) -> SigmaEngine:
        async with self._lock:
            if self._engine is None or time.monotonic() >= self._next_check:
                version = await self._version()
                if self._engine is None or version != self._built_version:
                    self._engine = await self._build()
                    self._built_version = version
                    keep_long_lived()  # the rules live until the next reload
                    log.info("detection_rules_loaded", rules=len(self._engine.rules), version=str(version))
                self._next_check = time.monotonic() + self.interval
            return self._engine


def stored_rules_pipeline_factory() -> PipelineFactory:
    """Pipelines over the enabled rules in ``detection_rules``, reloaded when they change (§13.3)."""

    async def build() -> SigmaEngine:
        async with get_session_factory()() as session:
            return await load_engine(session)

    async def version() -> object:
        async with get_session_factory()() as session:
            return await rules_version(session)

    engines = ReloadingEngine(build, version)

    async def _factory() -> DetectionPipeline:
        return DetectionPipeline(await engines.current())

    return _factory


def register_embedded_detection(bus: EventBus) -> None:
    """Appended to ``app.state.consumers``: the API's own detection consumer (embedded default)."""
    register_detection_consumer(bus, stored_rules_pipeline_factory())
