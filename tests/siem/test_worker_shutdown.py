"""`aurorasoc worker` given SIGTERM mid-batch (spec §28, issue 15): it stops within 10 s, leaves
what it did not finish unacknowledged, and another worker stores every event exactly once.

The batch is held mid-write for as long as the test wants by a lock on the event table.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from conftest import SERVICE_URLS, require_service
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from test_serve_shedding import STOP_WITHIN_SECONDS, table_locked
from test_worker_lane import consumer_pending, start_worker, until

from aurorasoc.core import migrate
from aurorasoc.core.bus.base import DEAD_LETTER
from aurorasoc.core.bus.redis_streams import RedisStreamsBus
from aurorasoc.core.models import SiemLogModel
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.siem.log_stream import DETECTION_GROUP, LOGS_STREAM, publish_events

pytestmark = [pytest.mark.integration, pytest.mark.slow]
EVENTS = [
    NormalizedEvent(
        source="shutdown-test", format="line", host=f"host-{n % 7}", raw=f"line {n}", message=f"line {n}"
    )
    for n in range(1000)
]


@pytest.fixture
def lane_db(scratch_pg_url: str) -> str:
    migrate.upgrade(scratch_pg_url)
    return scratch_pg_url


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(require_service("redis"), decode_responses=True)
    await client.delete(LOGS_STREAM, DEAD_LETTER)
    yield client
    await client.delete(LOGS_STREAM, DEAD_LETTER)
    await client.aclose()


async def test_a_worker_stopped_mid_batch_leaves_its_entries_to_another(
    lane_db: str, redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    bus = RedisStreamsBus(SERVICE_URLS["redis"])
    assert await publish_events(bus, EVENTS, "shutdown-test") == len(EVENTS)
    await bus.close()
    env = {
        **os.environ,
        "AURORA_DATA_DIR": str(tmp_path / "worker"),
        "AURORA_DATABASE_URL": lane_db,
        "AURORA_REDIS_URL": SERVICE_URLS["redis"],
        "AURORA_STREAM_CLAIM_IDLE_SECONDS": "1",
        "AURORA_LOG_LEVEL": "INFO",
    }
    engine = create_async_engine(lane_db)

    async def stored() -> int:
        async with engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(SiemLogModel)) or 0)

    first = start_worker("first", env, tmp_path / "first.log")
    second = None
    try:
        async with table_locked(lane_db, "siem_logs") as queries_waiting:

            async def mid_batch() -> bool:
                return await queries_waiting() >= 1 and await consumer_pending(redis_client, "first") >= 1

            await until(mid_batch, 120, "the first worker to be writing a batch")
            started = time.monotonic()
            first.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(first.wait, 30)
            elapsed = time.monotonic() - started
            assert await queries_waiting() == 0  # its write was cancelled, not left behind
        log = (tmp_path / "first.log").read_text()
        assert elapsed < STOP_WITHIN_SECONDS, f"stopped after {elapsed:.1f}s: {log[-3000:]}"
        assert code == 0, log[-3000:]
        held = await consumer_pending(redis_client, "first")
        assert held >= 1 and await stored() == 0  # unacknowledged, and its transaction rolled back

        second = start_worker("second", env, tmp_path / "second.log")

        async def drained() -> bool:
            summary = await redis_client.xpending(LOGS_STREAM, DETECTION_GROUP)
            return summary["pending"] == 0 and await stored() == len(EVENTS)

        await until(drained, 120, "the second worker to claim the first one's entries and finish")
        group = (await redis_client.xinfo_groups(LOGS_STREAM))[0]
        assert (group["pending"], group["lag"]) == (0, 0)
        assert await stored() == len(EVENTS)  # every event once: none lost, none stored twice
        assert await redis_client.xlen(DEAD_LETTER) == 0
        second.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(second.wait, 30) == 0
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(5)
        await engine.dispose()
