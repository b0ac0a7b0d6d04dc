"""The MQTT consumer's path from paho's callback to the writer, without a broker (and but for the
last test, without a database).

Every message paho reads (and acknowledges) must land in the bounded, counted buffer at once; a
backlog is stored in one turn; SQLite's "database is locked" retries the batch whole rather than
message by message (each of which would wait out the busy timeout again).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence

import aiomqtt
import orjson
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from aurorasoc.core.config import get_settings
from aurorasoc.core.db import session_scope
from aurorasoc.cps.mqtt import BUSY_RETRIES, MQTTEdgeConsumer
from aurorasoc.cps.mqtt_reader import inbox
from aurorasoc.cps.service import CPSService
from aurorasoc.cps.telemetry import IngestMessage


def _message(n: int, device: str = "d-1") -> aiomqtt.Message:
    body = orjson.dumps({"metric": "t", "value": n})
    return aiomqtt.Message(
        f"aurora/sensors/{device}/telemetry", body, qos=1, retain=False, mid=n, properties=None
    )


def _consumer() -> MQTTEdgeConsumer:
    return MQTTEdgeConsumer(get_settings().mqtt, namespace="aurora")


def test_what_paho_reads_reaches_the_counted_buffer_and_nothing_waits_in_aiomqtts_queue():
    consumer = _consumer()
    queue = inbox(consumer.receive)(maxsize=0)  # as aiomqtt builds it
    for n in range(3):
        queue.put_nowait(_message(n))
    queue.put_nowait(aiomqtt.Message("aurora/sensors/bad id!/telemetry", b"{}", 1, False, 9, None))
    assert queue.qsize() == 0
    assert consumer.queue.qsize() == 3
    assert (consumer.stats.received, consumer.stats.rejected) == (4, 1)


async def test_a_backlog_is_taken_in_one_batch_beyond_the_usual_size():
    consumer = _consumer()
    for n in range(1200):
        consumer.receive(_message(n, device=f"d-{n}"))
    batch = await consumer.next_batch()
    assert len(batch) == 1200 and consumer.queue.empty()


def _locked() -> OperationalError:
    return OperationalError("INSERT INTO cps_telemetry …", {}, Exception("database is locked"))


async def test_a_busy_sqlite_writer_retries_the_batch_whole(monkeypatch: pytest.MonkeyPatch):
    consumer = _consumer()
    calls: list[int] = []

    async def commit(batch: Sequence[IngestMessage]) -> None:
        calls.append(len(batch))
        if len(calls) <= BUSY_RETRIES:
            raise _locked()

    monkeypatch.setattr(consumer, "_commit", commit)
    batch = [
        m
        for n in range(10)
        if (m := consumer.accept(f"aurora/sensors/d-{n}/telemetry", b'{"metric":"t","value":1}'))
    ]
    await consumer.store(batch)
    assert calls == [10] * (BUSY_RETRIES + 1)
    assert consumer.stats.failed == 0


async def test_any_other_failure_is_retried_message_by_message_and_counted(monkeypatch: pytest.MonkeyPatch):
    consumer = _consumer()
    calls: list[int] = []

    async def commit(batch: Sequence[IngestMessage]) -> None:
        calls.append(len(batch))
        if len(batch) > 1 or batch[0].device_id == "d-3":
            raise ValueError("a bad row")

    monkeypatch.setattr(consumer, "_commit", commit)
    batch = [
        m
        for n in range(5)
        if (m := consumer.accept(f"aurora/sensors/d-{n}/telemetry", b'{"metric":"t","value":1}'))
    ]
    await consumer.store(batch)
    assert calls == [5, 1, 1, 1, 1, 1]
    assert consumer.stats.failed == 1


async def test_what_arrives_while_sqlites_writer_is_awaited_is_stored_in_the_same_batch(app_db):
    """Another process holds SQLite's writer (as a SIEM batch does): the batch waiting for it takes
    in the messages that arrived meanwhile and stores them in its one transaction."""
    url = make_url(get_settings().database_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("SQLite's single writer")
    async with session_scope() as session:
        await CPSService(session).register({"device_id": "held-1", "device_type": "pump", "name": "p"})
    batches: list[int] = []
    consumer = MQTTEdgeConsumer(
        get_settings().mqtt, namespace="aurora", on_stored=lambda b: batches.append(len(b))
    )

    def reading(n: int) -> IngestMessage:
        message = consumer.accept(
            "aurora/sensors/held-1/telemetry", orjson.dumps({"metric": "t", "value": n})
        )
        assert message is not None
        return message

    blocker = sqlite3.connect(str(url.database), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        task = asyncio.create_task(consumer.store([reading(0)]))
        await asyncio.sleep(0.3)
        for n in range(1, 4):
            consumer.offer(reading(n))
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    await asyncio.wait_for(task, 15)
    assert batches == [4] and consumer.queue.empty() and consumer.stats.stored == 4
