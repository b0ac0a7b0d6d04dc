"""Streams are trimmed by what their consumer groups acknowledged, not by length (issue 15)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
import redis.asyncio as aioredis
from conftest import require_service
from prometheus_client import REGISTRY

from aurorasoc.core.bus import stream_trim
from aurorasoc.core.bus.base import BusMessage
from aurorasoc.core.bus.redis_streams import RedisStreamsBus
from aurorasoc.core.bus.stream_trim import stream_id, trim_floor


def group(name: str, last: str, pending: int = 0, lag: int | None = 0) -> dict[str, object]:
    return {"name": name, "last-delivered-id": last, "pending": pending, "lag": lag}


class TestTrimFloor:
    def test_no_durable_group_means_no_floor(self) -> None:
        assert trim_floor([], {}) is None

    def test_the_slowest_group_sets_the_floor(self) -> None:
        groups = [group("fast", "1700-9"), group("slow", "1600-2"), group("mid", "1650-0")]
        assert trim_floor(groups, {}) == "1600-2"

    def test_a_pending_entry_holds_the_floor_below_what_was_delivered(self) -> None:
        groups = [group("a", "1700-9", pending=3), group("b", "1690-0")]
        assert trim_floor(groups, {"a": "1500-4"}) == "1500-4"

    def test_ids_compare_as_numbers_not_text(self) -> None:
        assert stream_id("999-0") < stream_id("1000-0")
        assert trim_floor([group("a", "1000-0"), group("b", "999-12")], {}) == "999-12"


@pytest.fixture
async def redis() -> AsyncIterator[tuple[str, aioredis.Redis, str]]:
    url = require_service("redis")
    client = aioredis.from_url(url, decode_responses=True)
    name = f"test:trim:{uuid.uuid4().hex}"
    yield url, client, name
    await client.delete(name)
    await client.aclose()


async def consume(bus: RedisStreamsBus, stream: str, group_name: str, count: int) -> list[BusMessage]:
    """Acknowledge the first ``count`` entries through the bus's own consumer, then stop it."""
    got: list[BusMessage] = []
    done = asyncio.Event()

    async def handle(message: BusMessage) -> None:
        if len(got) >= count:
            await asyncio.Event().wait()  # hold the rest unread: never acknowledged
        got.append(message)
        if len(got) == count:
            done.set()

    bus.subscribe(stream, group_name, handle, batch_size=1)
    await bus.start()
    await asyncio.wait_for(done.wait(), 10)
    await bus.close()
    return got


@pytest.mark.integration
class TestRedisTrimming:
    async def test_unread_entries_survive_and_acknowledged_ones_go(
        self, redis: tuple[str, aioredis.Redis, str]
    ) -> None:
        url, raw, name = redis
        await raw.xgroup_create(name, "correlation", id="0", mkstream=True)
        publisher = RedisStreamsBus(url, trim_interval=0, maxlen=100_000)
        try:
            for n in range(1_000):
                await publisher.publish(name, {"n": n})
            assert await raw.xlen(name) == 1_000  # nobody read anything: nothing is trimmed
            await consume(RedisStreamsBus(url, block_ms=50), name, "correlation", 700)
            await publisher.publish(name, {"n": 1_000})
        finally:
            await publisher.close()
        remaining = await raw.xrange(name)
        numbers = [orjson.loads(fields["data"])["n"] for _, fields in remaining]
        # approximate MINID trimming removes whole nodes (100 entries): never an unread entry
        assert set(range(700, 1_001)) <= set(numbers)
        assert len(remaining) <= 301 + 100
        backlog = REGISTRY.get_sample_value("bus_stream_backlog", {"stream": name})
        assert backlog is not None and backlog >= 300

    async def test_a_fan_out_group_never_holds_entries_back(
        self, redis: tuple[str, aioredis.Redis, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        url, raw, name = redis
        monkeypatch.setattr(stream_trim, "UNREAD_KEEP", 200)
        await raw.xgroup_create(name, "api-ws-dead-process", id="$", mkstream=True)
        publisher = RedisStreamsBus(url, trim_interval=0)
        try:
            for n in range(1_000):
                await publisher.publish(name, {"n": n})
        finally:
            await publisher.close()
        assert 200 <= await raw.xlen(name) < 400
