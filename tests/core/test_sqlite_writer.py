"""``take_sqlite_writer``: a latency-sensitive writer (MQTT telemetry) takes SQLite's writer as soon
as the current holder commits, instead of sleeping through the holder's next transactions.

Two engines on one file stand for two processes (each has its own connections and locks).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from aurorasoc.core.db import BUSY_TIMEOUT_MS, DatabaseBusy, create_engine_from_settings, take_sqlite_writer


@pytest.fixture
async def engines(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'writer.db'}"
    first, second = create_engine_from_settings(url=url), create_engine_from_settings(url=url)
    async with first.begin() as conn:
        await conn.execute(text("CREATE TABLE rows (n INTEGER)"))
    yield first, second
    await first.dispose()
    await second.dispose()


async def _in_write_transaction(session: AsyncSession) -> bool:
    raw = await (await session.connection()).get_raw_connection()
    return bool(raw.driver_connection.in_transaction)


async def test_the_waiting_writer_gets_the_turn_the_holder_gives_up(engines):
    first, second = engines
    async with AsyncSession(first) as holder, AsyncSession(second) as telemetry:
        await take_sqlite_writer(holder)
        await holder.execute(text("INSERT INTO rows VALUES (1)"))
        with pytest.raises(DatabaseBusy):
            await take_sqlite_writer(telemetry, queue_seconds=0.05)
        waiting = asyncio.create_task(take_sqlite_writer(telemetry))
        await asyncio.sleep(0)
        await holder.commit()
        await waiting
        assert await _in_write_transaction(telemetry)
        await telemetry.execute(text("INSERT INTO rows VALUES (2)"))
        await telemetry.commit()
        assert (await telemetry.execute(text("PRAGMA busy_timeout"))).scalar() == BUSY_TIMEOUT_MS
        assert (await telemetry.execute(text("SELECT count(*) FROM rows"))).scalar() == 2


async def test_a_transaction_that_already_writes_keeps_its_lock(engines):
    first, _ = engines
    async with AsyncSession(first) as session:
        await session.execute(text("INSERT INTO rows VALUES (1)"))  # the driver's implicit BEGIN
        await take_sqlite_writer(session)  # no second BEGIN
        await session.commit()
        assert (await session.execute(text("SELECT count(*) FROM rows"))).scalar() == 1
