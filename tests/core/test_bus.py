"""Tests for aurorasoc.events: InProcessBus semantics and RedisStreamsBus against a real Redis."""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC
from unittest.mock import AsyncMock

import orjson
import pytest
import redis.asyncio as aioredis
from conftest import require_service
from prometheus_client import REGISTRY

from aurorasoc.core.bus.base import (
    AGENT_DEAD_LETTER,
    AGENT_TASKS_STREAM,
    DEAD_LETTER,
    BusMessage,
    EventBus,
)
from aurorasoc.core.bus.current import get_bus, set_bus
from aurorasoc.core.bus.inprocess import InProcessBus
from aurorasoc.core.bus.redis_streams import RedisStreamsBus
from aurorasoc.core.config import reset_settings

BusFactory = Callable[..., RedisStreamsBus]
Redis = aioredis.Redis


async def wait_until(check: Callable[[], bool | Awaitable[bool]]) -> None:
    """Poll ``check`` (consumers run in background tasks) instead of sleeping blindly."""
    async with asyncio.timeout(5):
        while True:
            result = check()
            if await result if inspect.isawaitable(result) else result:
                return
            await asyncio.sleep(0.01)


def collector(into: list[BusMessage]) -> Callable[[BusMessage], Awaitable[None]]:
    async def handle(message: BusMessage) -> None:
        into.append(message)

    return handle


def failing(into: list[BusMessage], failures: int | None = None) -> Callable[[BusMessage], Awaitable[None]]:
    """A handler that raises on its first ``failures`` calls (always when ``None``)."""

    async def handle(message: BusMessage) -> None:
        into.append(message)
        if failures is None or len(into) <= failures:
            raise RuntimeError("handler failure")

    return handle


def batch_rejecting(poison: str, into: list[list[int]]) -> Callable[[list[BusMessage]], Awaitable[None]]:
    """A batch handler that records each batch's ``n`` values and refuses any batch holding ``poison``."""

    async def handle(messages: list[BusMessage]) -> None:
        into.append([m.data["n"] for m in messages])
        if any(m.data.get("tag") == poison for m in messages):
            raise RuntimeError("poison in batch")

    return handle


def held_first(into: list[list[int]], gate: asyncio.Event) -> Callable[[list[BusMessage]], Awaitable[None]]:
    """A batch handler that records each batch's ``n`` values and holds the first until ``gate``."""

    async def handle(messages: list[BusMessage]) -> None:
        into.append([m.data["n"] for m in messages])
        if len(into) == 1:
            await gate.wait()

    return handle


async def burst(bus: EventBus, stream: str, batches: list[list[int]]) -> None:
    """Message 0 alone, then 1 arriving while 0 is handled, then 2 and 3 while 1 lingers."""
    gate = asyncio.Event()
    bus.subscribe_batch(stream, "g", held_first(batches, gate), batch_size=10, linger=1.0)
    await bus.start()
    await bus.publish(stream, {"n": 0})
    await wait_until(lambda: batches == [[0]])
    await bus.publish(stream, {"n": 1})
    gate.set()
    await asyncio.sleep(0.2)  # the consumer has read 1 and lingers
    for n in (2, 3):
        await bus.publish(stream, {"n": n})
    await wait_until(lambda: sum(map(len, batches)) == 4)


@pytest.fixture
async def inproc() -> AsyncIterator[InProcessBus]:
    bus = InProcessBus(max_deliveries=3, backoff_base=0)
    yield bus
    await bus.close()


class TestInProcessBus:
    async def test_every_group_gets_every_message(self, inproc: InProcessBus) -> None:
        first: list[BusMessage] = []
        second: list[BusMessage] = []
        inproc.subscribe("s", "g1", collector(first))
        inproc.subscribe("s", "g2", collector(second))
        await inproc.start()
        ids = [await inproc.publish("s", {"n": n}) for n in range(3)]
        await inproc.join("s", "g1")
        await inproc.join("s", "g2")
        assert [m.id for m in first] == ids
        assert [m.id for m in second] == ids
        assert [m.data["n"] for m in first] == [0, 1, 2]

    async def test_consumers_of_one_group_share_messages(self, inproc: InProcessBus) -> None:
        a: list[BusMessage] = []
        b: list[BusMessage] = []
        inproc.subscribe("s", "workers", collector(a))
        inproc.subscribe("s", "workers", collector(b))
        await inproc.start()
        ids = [await inproc.publish("s", {"n": n}) for n in range(20)]
        await inproc.join("s", "workers")
        handled = [m.id for m in a + b]
        assert sorted(handled) == sorted(ids)  # each message handled exactly once

    async def test_batch_subscribers_get_the_waiting_messages_together(self, inproc: InProcessBus) -> None:
        batches: list[list[int]] = []
        inproc.subscribe_batch("s", "g", batch_rejecting("none", batches), batch_size=3)
        for n in range(5):
            await inproc.publish("s", {"n": n})
        await inproc.start()
        await inproc.join("s", "g")
        assert batches == [[0, 1, 2], [3, 4]]

    async def test_in_a_burst_a_batch_lingers_to_fill(self, inproc: InProcessBus) -> None:
        batches: list[list[int]] = []
        await burst(inproc, "s", batches)
        assert batches == [[0], [1, 2, 3]]

    async def test_a_lone_message_is_handled_at_once_however_long_the_linger(
        self, inproc: InProcessBus
    ) -> None:
        batches: list[list[int]] = []
        inproc.subscribe_batch("s", "g", batch_rejecting("none", batches), batch_size=10, linger=60)
        await inproc.start()
        for n in range(2):
            await inproc.publish("s", {"n": n})
            await asyncio.wait_for(inproc.join("s", "g"), timeout=10)
        assert batches == [[0], [1]]

    async def test_a_failed_batch_is_delivered_one_by_one_and_only_the_bad_one_dead_letters(
        self, inproc: InProcessBus
    ) -> None:
        batches: list[list[int]] = []
        dead: list[BusMessage] = []
        inproc.subscribe_batch("aurora:alerts", "g", batch_rejecting("bad", batches), batch_size=10)
        inproc.subscribe(DEAD_LETTER, "ops", collector(dead))
        for n in range(3):
            await inproc.publish("aurora:alerts", {"n": n, "tag": "bad" if n == 1 else "good"})
        await inproc.start()
        await inproc.join("aurora:alerts", "g")
        await inproc.join(DEAD_LETTER, "ops")
        assert batches == [[0, 1, 2], [0], [1], [1], [1], [2]]  # the bad one: max_deliveries times
        assert [d.data["data"]["n"] for d in dead] == [1]

    async def test_retry_sees_increasing_delivery_counts(self, inproc: InProcessBus) -> None:
        calls: list[BusMessage] = []
        inproc.subscribe("s", "g", failing(calls, failures=2))
        await inproc.start()
        await inproc.publish("s", {"x": 1})
        await inproc.join("s", "g")
        assert [m.deliveries for m in calls] == [1, 2, 3]

    async def test_always_failing_handler_dead_letters(self, inproc: InProcessBus) -> None:
        calls: list[BusMessage] = []
        dead: list[BusMessage] = []
        inproc.subscribe("aurora:alerts", "g", failing(calls))
        inproc.subscribe(DEAD_LETTER, "ops", collector(dead))
        await inproc.start()
        message_id = await inproc.publish("aurora:alerts", {"x": 1})
        await inproc.join("aurora:alerts", "g")
        await inproc.join(DEAD_LETTER, "ops")
        assert len(calls) == inproc.max_deliveries
        assert len(dead) == 1
        assert dead[0].data["source_stream"] == "aurora:alerts"
        assert dead[0].data["message_id"] == message_id
        assert dead[0].data["data"] == {"x": 1}

    async def test_agent_tasks_dead_letter_to_agent_stream(self, inproc: InProcessBus) -> None:
        agent_dead: list[BusMessage] = []
        general_dead: list[BusMessage] = []
        inproc.subscribe(AGENT_TASKS_STREAM, "aurora-agents", failing([]))
        inproc.subscribe(AGENT_DEAD_LETTER, "ops", collector(agent_dead))
        inproc.subscribe(DEAD_LETTER, "ops", collector(general_dead))
        await inproc.start()
        await inproc.publish(AGENT_TASKS_STREAM, {"task": "triage"})
        await inproc.join(AGENT_TASKS_STREAM, "aurora-agents")
        await inproc.join(AGENT_DEAD_LETTER, "ops")
        assert [m.data["data"] for m in agent_dead] == [{"task": "triage"}]
        assert general_dead == []

    async def test_close_cancels_consumers(self) -> None:
        bus = InProcessBus(max_deliveries=1, backoff_base=0)
        started = asyncio.Event()

        async def hang(message: BusMessage) -> None:
            started.set()
            await asyncio.Event().wait()

        bus.subscribe("s", "g", hang)
        await bus.start()
        tasks = list(bus._tasks)
        await bus.publish("s", {})
        await asyncio.wait_for(started.wait(), 1)
        await bus.close()
        assert tasks and all(task.cancelled() for task in tasks)
        assert bus._tasks == []

    async def test_close_stops_a_consumer_whose_handler_swallowed_the_cancel(self) -> None:
        """What Python 3.11's ``wait_for`` does when the cancel lands as its work completes: the
        handler returns normally. The consumer must still stop, not wait for the next message."""
        bus = InProcessBus(max_deliveries=1, backoff_base=0)
        started = asyncio.Event()

        async def swallow(message: BusMessage) -> None:
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                return  # the cancellation is lost here

        bus.subscribe("s", "g", swallow)
        await bus.start()
        consumers = list(bus._tasks)
        await bus.publish("s", {})
        await asyncio.wait_for(started.wait(), 1)
        closing = asyncio.create_task(bus.close())
        await asyncio.wait({closing}, timeout=5)
        assert closing.done(), "close() is still waiting for the consumer"
        assert all(task.done() for task in consumers) and bus._tasks == []


class TestGetBus:
    def test_redis_url_selects_redis_streams(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AURORA_REDIS_URL", "redis://127.0.0.1:6379/15")
        reset_settings()
        set_bus(None)
        try:
            assert isinstance(get_bus(), RedisStreamsBus)
        finally:
            set_bus(None)

    def test_no_redis_url_selects_in_process(self) -> None:
        set_bus(None)
        try:
            assert isinstance(get_bus(), InProcessBus)
        finally:
            set_bus(None)


class TestRedisPublishFailure:
    async def test_publish_drops_and_counts_when_redis_is_down(self) -> None:
        bus = RedisStreamsBus("redis://127.0.0.1:1/15", publish_retry_delay=0)
        stream = f"test:{uuid.uuid4().hex}"
        try:
            message_id = await bus.publish(stream, {"x": 1})
        finally:
            await bus.close()
        assert uuid.UUID(hex=message_id)
        assert REGISTRY.get_sample_value("bus_publish_failures_total", {"stream": stream}) == 1.0


# -- RedisStreamsBus against a real Redis ------------------------------------------------------


@pytest.fixture
async def redis_url() -> str:
    return require_service("redis")


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[Redis]:
    """A plain client for inspecting and cleaning up the test's keys."""
    client = aioredis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def stream(raw: Redis) -> AsyncIterator[str]:
    """A unique stream name; the stream and its dead letters are removed afterwards."""
    name = f"test:{uuid.uuid4().hex}"
    yield name
    await raw.delete(name)
    for entry_id, fields in await raw.xrange(DEAD_LETTER):
        if orjson.loads(fields["data"]).get("source_stream") == name:
            await raw.xdel(DEAD_LETTER, entry_id)
    if await raw.xlen(DEAD_LETTER) == 0:
        await raw.delete(DEAD_LETTER)


@pytest.fixture
async def make_bus(redis_url: str, stream: str) -> AsyncIterator[BusFactory]:
    """Fast buses: short blocking reads, claim scans and no backoff.

    Depends on ``stream`` so the buses close before the stream is deleted under them.
    """
    buses: list[RedisStreamsBus] = []

    def factory(**overrides: object) -> RedisStreamsBus:
        options: dict[str, object] = {
            "block_ms": 50,
            "claim_interval": 0.05,
            "backoff_base": 0,
            "max_deliveries": 3,
            "claim_idle_seconds": 0.2,
        }
        options.update(overrides)
        bus = RedisStreamsBus(redis_url, **options)  # type: ignore[arg-type]
        buses.append(bus)
        return bus

    yield factory
    for bus in buses:
        await bus.close()


async def pending_count(raw: Redis, stream: str, group: str) -> int:
    return int((await raw.xpending(stream, group))["pending"])


async def settled(raw: Redis, stream: str, group: str) -> None:
    """Wait until ``group`` has acknowledged everything it read."""

    async def nothing_pending() -> bool:
        return await pending_count(raw, stream, group) == 0

    await wait_until(nothing_pending)


@pytest.mark.integration
class TestRedisStreamsBus:
    async def test_round_trip_carries_the_envelope_fields(
        self, make_bus: BusFactory, raw: Redis, stream: str
    ) -> None:
        bus = make_bus()
        got: list[BusMessage] = []
        bus.subscribe(stream, "workers", collector(got))
        await bus.start()
        data = {"title": "x", "nested": {"iocs": ["10.0.0.5"]}, "count": 2}
        message_id = await bus.publish(stream, data)
        await wait_until(lambda: len(got) == 1)
        message = got[0]
        assert (message.id, message.stream, message.data, message.deliveries) == (message_id, stream, data, 1)
        assert message.timestamp.tzinfo is not None and message.timestamp.utcoffset() == UTC.utcoffset(None)
        [(_, fields)] = await raw.xrange(stream)
        assert set(fields) == {"id", "timestamp", "data"}
        assert orjson.loads(fields["data"]) == data

    async def test_two_groups_both_receive(self, make_bus: BusFactory, stream: str) -> None:
        bus = make_bus()
        first: list[BusMessage] = []
        second: list[BusMessage] = []
        bus.subscribe(stream, "alert-pipeline", collector(first))
        bus.subscribe(stream, "reporting", collector(second))
        await bus.start()
        ids = [await bus.publish(stream, {"n": n}) for n in range(3)]
        await wait_until(lambda: len(first) == 3 and len(second) == 3)
        assert [m.id for m in first] == ids and [m.id for m in second] == ids

    async def test_work_group_sees_messages_published_before_start(
        self, make_bus: BusFactory, stream: str
    ) -> None:
        publisher = make_bus()
        early = await publisher.publish(stream, {"early": True})
        bus = make_bus()
        got: list[BusMessage] = []
        bus.subscribe(stream, "workers", collector(got))
        await bus.start()
        await wait_until(lambda: len(got) == 1)
        assert got[0].id == early

    async def test_ack_leaves_nothing_pending(self, make_bus: BusFactory, raw: Redis, stream: str) -> None:
        bus = make_bus()
        got: list[BusMessage] = []
        bus.subscribe(stream, "workers", collector(got))
        await bus.start()
        for n in range(5):
            await bus.publish(stream, {"n": n})
        await wait_until(lambda: len(got) == 5)
        await settled(raw, stream, "workers")
        assert len(got) == 5  # acknowledged entries are never delivered again

    async def test_batch_is_read_and_acknowledged_together(
        self, make_bus: BusFactory, raw: Redis, stream: str
    ) -> None:
        for n in range(4):
            await make_bus().publish(stream, {"n": n})
        bus = make_bus()
        batches: list[list[int]] = []
        bus.subscribe_batch(stream, "workers", batch_rejecting("none", batches), batch_size=10)
        await bus.start()
        await wait_until(lambda: sum(map(len, batches)) == 4)
        await settled(raw, stream, "workers")
        assert batches == [[0, 1, 2, 3]]

    async def test_in_a_burst_a_read_lingers_to_fill_the_batch(
        self, make_bus: BusFactory, raw: Redis, stream: str
    ) -> None:
        batches: list[list[int]] = []
        await burst(make_bus(), stream, batches)
        await settled(raw, stream, "g")
        assert batches == [[0], [1, 2, 3]]

    async def test_a_failed_batch_is_retried_one_by_one_and_only_the_bad_one_dead_letters(
        self, make_bus: BusFactory, raw: Redis, stream: str
    ) -> None:
        for n in range(3):
            await make_bus().publish(stream, {"n": n, "tag": "bad" if n == 1 else "good"})
        bus = make_bus(max_deliveries=2)
        batches: list[list[int]] = []
        bus.subscribe_batch(stream, "workers", batch_rejecting("bad", batches), batch_size=10)
        await bus.start()
        await wait_until(lambda: len(batches) == 5)
        await settled(raw, stream, "workers")
        assert batches == [[0, 1, 2], [0], [1], [1], [2]]
        entries = [orjson.loads(f["data"]) for _, f in await raw.xrange(DEAD_LETTER)]
        assert [e["data"]["n"] for e in entries if e["source_stream"] == stream] == [1]

    async def test_failing_handler_dead_letters_after_max_deliveries(
        self, make_bus: BusFactory, raw: Redis, stream: str
    ) -> None:
        bus = make_bus(max_deliveries=3)
        calls: list[BusMessage] = []
        bus.subscribe(stream, "workers", failing(calls))
        await bus.start()
        message_id = await bus.publish(stream, {"x": 1})
        await wait_until(lambda: len(calls) == 3)

        await settled(raw, stream, "workers")
        entries = [orjson.loads(f["data"]) for _, f in await raw.xrange(DEAD_LETTER)]
        [dead] = [e for e in entries if e["source_stream"] == stream]
        assert dead["message_id"] == message_id and dead["data"] == {"x": 1} and dead["group"] == "workers"
        assert [m.deliveries for m in calls] == [1, 2, 3]

    async def test_retry_then_success_acks(self, make_bus: BusFactory, raw: Redis, stream: str) -> None:
        bus = make_bus(max_deliveries=5)
        calls: list[BusMessage] = []
        bus.subscribe(stream, "workers", failing(calls, failures=2))
        await bus.start()
        await bus.publish(stream, {"x": 1})
        await wait_until(lambda: len(calls) == 3)
        assert [m.deliveries for m in calls] == [1, 2, 3]
        await settled(raw, stream, "workers")

    async def test_entry_left_pending_by_crashed_consumer_is_reclaimed(
        self, make_bus: BusFactory, raw: Redis, stream: str
    ) -> None:
        await raw.xgroup_create(stream, "workers", id="0", mkstream=True)
        message_id = await make_bus().publish(stream, {"job": 7})
        taken = await raw.xreadgroup("workers", "crashed", {stream: ">"}, count=1)
        assert taken and await pending_count(raw, stream, "workers") == 1  # read, never acknowledged
        rescuer = make_bus(claim_idle_seconds=0.2)
        got: list[BusMessage] = []
        rescuer.subscribe(stream, "workers", collector(got), consumer="rescuer")
        await rescuer.start()
        await wait_until(lambda: len(got) == 1)
        assert got[0].id == message_id and got[0].data == {"job": 7}
        assert got[0].deliveries == 2  # XAUTOCLAIM counts as the second delivery
        await settled(raw, stream, "workers")

    async def test_maxlen_trims_approximately(self, make_bus: BusFactory, raw: Redis, stream: str) -> None:
        bus = make_bus(maxlen=100)
        for n in range(1000):
            await bus.publish(stream, {"n": n})
        length = await raw.xlen(stream)
        assert 100 <= length < 300

    async def test_decision_streams_keep_their_history(self, make_bus: BusFactory, raw: Redis) -> None:
        name = f"decisions:test-{uuid.uuid4().hex}"
        bus = make_bus(maxlen=10)
        try:
            for n in range(250):
                await bus.publish(name, {"n": n})
            assert await raw.xlen(name) == 250
        finally:
            await raw.delete(name)

    async def test_process_group_starts_at_now_and_is_destroyed_at_close(
        self, make_bus: BusFactory, raw: Redis, stream: str
    ) -> None:
        await make_bus().publish(stream, {"old": True})
        bus = make_bus()
        got: list[BusMessage] = []
        group = f"api-ws-test:{uuid.uuid4().hex}"
        bus.subscribe(stream, group, collector(got))
        await bus.start()
        fresh = await bus.publish(stream, {"new": True})
        await wait_until(lambda: len(got) == 1)
        assert got[0].id == fresh
        await bus.close()
        assert group not in {g["name"] for g in await raw.xinfo_groups(stream)}

    async def test_consumer_recovers_when_its_group_disappears(
        self, make_bus: BusFactory, raw: Redis, stream: str
    ) -> None:
        bus = make_bus()
        got: list[BusMessage] = []
        bus.subscribe(stream, "workers", collector(got))
        await bus.start()
        await raw.xgroup_destroy(stream, "workers")
        message_id = await bus.publish(stream, {"after": "loss"})
        await wait_until(lambda: any(m.id == message_id for m in got))


class TestInProcessBackPressure:
    async def test_a_handler_publishing_to_its_own_full_stream_does_not_stall(self) -> None:
        """The alert pipeline publishes to the stream it consumes: with the queue full, a blocking
        put would wait on itself and stall every producer behind it."""
        bus = InProcessBus(maxsize=5, max_deliveries=1)
        handled: list[int] = []

        async def republish(message: BusMessage) -> None:
            handled.append(message.data["n"])
            if message.data["n"] < 100:  # two follow-ups per message: more than the handler frees
                await bus.publish("loop", {"n": message.data["n"] + 100})
                await bus.publish("loop", {"n": message.data["n"] + 200})

        bus.subscribe("loop", "g", republish)
        for n in range(5):  # fill the queue before anyone consumes
            await bus.publish("loop", {"n": n})
        await bus.start()
        try:
            await asyncio.wait_for(bus.join("loop", "g"), timeout=10)
        finally:
            await bus.close()
        assert sorted(handled) == [*range(5), *range(100, 105), *range(200, 205)]

    async def test_an_outside_producer_waits_for_room(self) -> None:
        bus = InProcessBus(maxsize=2, max_deliveries=1)
        bus.subscribe("s", "g", AsyncMock())
        await bus.publish("s", {"n": 1})
        await bus.publish("s", {"n": 2})
        third = asyncio.create_task(bus.publish("s", {"n": 3}))
        await asyncio.sleep(0.05)
        assert not third.done() and bus.pending("s", "g") == 2  # back-pressure: nobody consumes yet
        await bus.start()
        try:
            await asyncio.wait_for(third, timeout=10)
            await asyncio.wait_for(bus.join("s", "g"), timeout=10)
        finally:
            await bus.close()
        assert bus.pending("s", "g") == 0


@pytest.mark.integration
class TestRedisStreamsDrain:
    """Shutdown (spec §28): stop reading, let the entry in hand finish for a grace period, leave the
    rest unacknowledged for another consumer."""

    async def test_the_entry_in_hand_finishes_and_no_other_starts(
        self, make_bus: BusFactory, raw: Redis, stream: str
    ) -> None:
        bus = make_bus(claim_interval=60)
        for n in range(3):
            await bus.publish(stream, {"n": n})  # before start: the first read takes all three
        started, release = asyncio.Event(), asyncio.Event()
        handled: list[int] = []

        async def handle(message: BusMessage) -> None:
            started.set()
            await release.wait()
            handled.append(message.data["n"])

        bus.subscribe(stream, "workers", handle, batch_size=3)
        await bus.start()
        await wait_until(started.is_set)
        draining = asyncio.create_task(bus.drain(30))
        release.set()
        await asyncio.wait_for(draining, 10)
        await bus.close()
        assert handled == [0]
        assert await pending_count(raw, stream, "workers") == 2  # read, never started: another's to claim

    async def test_a_batch_in_hand_finishes_and_is_acknowledged(
        self, make_bus: BusFactory, raw: Redis, stream: str
    ) -> None:
        bus = make_bus(claim_interval=60)
        for n in range(3):
            await bus.publish(stream, {"n": n})
        started, release = asyncio.Event(), asyncio.Event()
        handled: list[list[int]] = []

        async def handle(messages: list[BusMessage]) -> None:
            started.set()
            await release.wait()
            handled.append([m.data["n"] for m in messages])

        bus.subscribe_batch(stream, "workers", handle, batch_size=3)
        await bus.start()
        await wait_until(started.is_set)
        draining = asyncio.create_task(bus.drain(30))
        await asyncio.sleep(0.05)
        assert not draining.done()  # the batch is in flight: drain waits for it
        release.set()
        await asyncio.wait_for(draining, 10)
        await bus.close()
        assert handled == [[0, 1, 2]]
        assert await pending_count(raw, stream, "workers") == 0

    async def test_past_the_grace_period_the_entry_is_cancelled_and_stays_pending(
        self, make_bus: BusFactory, raw: Redis, stream: str
    ) -> None:
        bus = make_bus(claim_interval=60)
        await bus.publish(stream, {"n": 0})
        started, cancelled = asyncio.Event(), asyncio.Event()

        async def handle(_message: BusMessage) -> None:
            started.set()
            try:
                await asyncio.Event().wait()  # a handler that would never finish
            except asyncio.CancelledError:
                cancelled.set()
                raise

        bus.subscribe(stream, "workers", handle)
        await bus.start()
        await wait_until(started.is_set)
        await asyncio.wait_for(bus.drain(0.05), 10)  # gives up after the grace period
        assert not cancelled.is_set()
        await bus.close()
        assert cancelled.is_set()
        assert await pending_count(raw, stream, "workers") == 1  # unacknowledged: redelivered elsewhere
