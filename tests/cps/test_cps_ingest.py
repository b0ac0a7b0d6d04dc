"""Tests for aurorasoc.cps.telemetry: the batched write path of MQTT messages (issue 7).

Messages go through the consumer's real validation (``MQTTEdgeConsumer.accept``) and then
``CPSIngest.handle`` against SQLite; no broker is needed for what happens to the database.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.bus.current import set_bus
from aurorasoc.core.bus.inprocess import InProcessBus
from aurorasoc.core.config import get_settings, reset_settings
from aurorasoc.core.db import get_session_factory
from aurorasoc.core.models import AlertModel, CPSDeviceModel, CPSTelemetryModel
from aurorasoc.core.types import utcnow
from aurorasoc.cps import outbox, telemetry
from aurorasoc.cps.correlation import MIN_SAMPLES, CorrelationEngine
from aurorasoc.cps.device_cache import SEEN_EVERY, DeviceDirectory
from aurorasoc.cps.mqtt import MQTTEdgeConsumer
from aurorasoc.cps.service import CPSService
from aurorasoc.cps.telemetry import BatchResult, CPSIngest, IngestMessage

CONSUMER = MQTTEdgeConsumer(get_settings().mqtt)


def _message(kind: str, device_id: str, body: dict[str, object], at: datetime) -> IngestMessage:
    topic = {"status": "sensors/{}/status", "telemetry": "sensors/{}/telemetry"}[kind].format(device_id)
    message = CONSUMER.accept(f"aurora/{topic}", orjson.dumps(body))
    assert message is not None
    message.received_at = at
    return message


def _reading(device_id: str, value: float, at: datetime) -> IngestMessage:
    return _message("telemetry", device_id, {"metric": "temperature", "value": value, "unit": "C"}, at)


async def _register(session: AsyncSession, *device_ids: str) -> None:
    for device_id in device_ids:
        await CPSService(session).register({"device_id": device_id, "device_type": "pump", "name": device_id,
                                            "firmware_stack": "zephyr"})  # fmt: skip


async def _device(session: AsyncSession, device_id: str) -> CPSDeviceModel:
    device = await CPSService(session).find(device_id)
    assert device is not None
    await session.refresh(device)
    return device


class TestBatch:
    async def test_telemetry_is_stored_unknown_ids_rejected_and_last_seen_is_the_latest(self, any_db_session):
        db_session = any_db_session
        t0 = utcnow()
        await _register(db_session, "pump-1")
        ingest = CPSIngest(db_session, CorrelationEngine(), DeviceDirectory())
        batch = [
            _message("status", "pump-1", {"device_type": "pump"}, t0),
            _reading("pump-1", 20.5, t0 + timedelta(seconds=1)),
            _message("telemetry", "pump-1", {"metric": "rpm", "value": 900, "ts": t0.timestamp()}, t0),
            _reading("stranger", 1.0, t0 + timedelta(seconds=2)),
            _message("status", "ghost", {"device_type": "pump"}, t0),
        ]
        result = await ingest.handle(batch)
        rows = (await db_session.execute(select(CPSTelemetryModel.device_id, CPSTelemetryModel.metric,
                                                CPSTelemetryModel.value))).all()  # fmt: skip
        assert sorted(tuple(r) for r in rows) == [("pump-1", "rpm", 900.0), ("pump-1", "temperature", 20.5)]
        assert [(m.kind, m.device_id) for m in result.rejected] == [
            ("telemetry", "stranger"),
            ("status", "ghost"),
        ]
        device = await _device(db_session, "pump-1")
        assert (device.health, device.last_seen_at) == ("online", t0 + timedelta(seconds=1))
        assert await CPSService(db_session).find("stranger") is None
        assert await CPSService(db_session).find("ghost") is None
        assert [e["event"] for e in result.outbox.events] == ["status", "telemetry", "telemetry"]

    async def test_auto_registration_is_opt_in_and_quarantines(self, db_session, monkeypatch):
        monkeypatch.setenv("AURORA_CPS_AUTO_REGISTER", "true")
        reset_settings()
        result = await CPSIngest(db_session, CorrelationEngine(), DeviceDirectory()).handle(
            [_message("status", "new-1", {"device_type": "pump"}, utcnow())]
        )
        assert result.rejected == []
        device = await _device(db_session, "new-1")
        assert (device.attestation_status, device.trusted) == ("unknown", False)
        assert device.metadata_ == {"auto_registered": True, "quarantined": True}

    async def test_a_device_registered_later_is_seen_at_once_despite_the_cache(self, db_session):
        t0, directory = utcnow(), DeviceDirectory(ttl=3600)
        ingest = CPSIngest(db_session, CorrelationEngine(), directory)
        await ingest.handle([_reading("late-1", 1.0, t0)])  # cached as unknown
        await CPSService(db_session).register({"device_id": "late-1", "device_type": "valve", "name": "v",
                                               "firmware_stack": "zephyr", "zone_id": "zone-a"})  # fmt: skip
        assert (await directory.facts(db_session, ["late-1"]))["late-1"].zone_id == "zone-a"
        await ingest.handle([_reading("late-1", 2.0, t0 + timedelta(seconds=5))])
        device = await _device(db_session, "late-1")
        assert device.last_seen_at == t0 + timedelta(seconds=5)


async def test_telemetry_outlier_still_raises_anomalous_telemetry_with_the_cached_zone(db_session):
    t0 = utcnow()
    await CPSService(db_session).register({"device_id": "tank-9", "device_type": "level", "name": "t",
                                           "firmware_stack": "zephyr", "zone_id": "zone-7"})  # fmt: skip
    ingest = CPSIngest(db_session, CorrelationEngine(), DeviceDirectory())
    normal = [_reading("tank-9", 20.0 + (i % 3) * 0.1, t0 + timedelta(seconds=i)) for i in range(MIN_SAMPLES)]
    await ingest.handle(normal)
    result: BatchResult = await ingest.handle([_reading("tank-9", 95.0, t0 + timedelta(minutes=1))])
    alert = (await db_session.scalars(select(AlertModel))).one()
    assert (alert.title, alert.severity) == ("ANOMALOUS_TELEMETRY: tank-9", "medium")
    assert alert.metadata_["evidence"]["zone_id"] == "zone-7"
    assert alert.metadata_["device_trusted"] is False
    assert "last_anomaly_at" in (await _device(db_session, "tank-9")).metadata_
    assert [e["correlation_type"] for e in result.outbox.events if e["event"] == "correlation"] == [
        "ANOMALOUS_TELEMETRY"
    ]


async def test_a_registration_committed_after_the_cache_refilled_is_still_picked_up(app_db):
    directory = DeviceDirectory(ttl=3600)
    factory = get_session_factory()
    async with factory() as writer, factory() as reader:
        await CPSService(writer).register({"device_id": "slow-1", "device_type": "valve", "name": "v",
                                           "firmware_stack": "zephyr", "zone_id": "zone-b"})  # fmt: skip
        assert await directory.facts(reader, ["slow-1"]) == {}  # flushed, not committed yet
        await reader.rollback()
        await writer.commit()
        assert (await directory.facts(reader, ["slow-1"]))["slow-1"].zone_id == "zone-b"


class _BrokenBus(InProcessBus):
    async def publish(self, stream: str, data: dict[str, Any]) -> str:
        raise ConnectionError("bus down")


async def test_a_publish_failure_after_the_commit_does_not_store_the_batch_twice(app_db):
    async with get_session_factory()() as session:
        await _register(session, "once-1", "once-2")
        await session.commit()
    set_bus(_BrokenBus())
    try:
        consumer = MQTTEdgeConsumer(get_settings().mqtt)
        await consumer.store([_reading("once-1", 3.0, utcnow()), _reading("once-2", 4.0, utcnow())])
    finally:
        set_bus(None)
    async with get_session_factory()() as session:
        rows = (await session.scalars(select(CPSTelemetryModel.device_id))).all()
    assert sorted(rows) == ["once-1", "once-2"]


async def test_a_large_batch_yields_to_the_event_loop_between_chunks(db_session, monkeypatch):
    """The MQTT socket is read on the same loop: a batch's Python work must not hold it throughout."""
    monkeypatch.setattr(telemetry, "YIELD_EVERY", 2)
    await _register(db_session, "pump-1")
    engine, order = CorrelationEngine(), []
    judge = engine.telemetry

    def recorded(*args: Any) -> Any:
        order.append("message")
        return judge(*args)

    monkeypatch.setattr(engine, "telemetry", recorded)
    done = asyncio.Event()

    async def other_work() -> None:
        while not done.is_set():
            order.append("loop")
            await asyncio.sleep(0)

    other = asyncio.create_task(other_work())
    t0 = utcnow()
    batch = [_reading("pump-1", n, t0) for n in range(6)]
    await CPSIngest(db_session, engine, DeviceDirectory()).handle(batch)
    done.set()
    await other
    handled = "".join("m" if step == "message" else "." for step in order).strip(".")
    assert handled.replace(".", "") == "mmmmmm" and "m.m" in handled.replace("..", ".")


async def test_last_seen_is_written_in_device_id_order(db_session, monkeypatch):
    """Two consumers sharing a fleet update the same device rows: one lock order, no deadlock."""
    await _register(db_session, "a", "b", "c")
    calls: list[Any] = []
    execute = db_session.execute

    async def spy(statement: Any, params: Any = None, **kwargs: Any) -> Any:
        calls.append(params)
        return await execute(statement, params, **kwargs)

    monkeypatch.setattr(db_session, "execute", spy)
    t0 = utcnow()
    await CPSService(db_session).mark_seen({"c": t0, "a": t0, "b": t0})
    assert [row["b_device_id"] for row in calls[-1]] == ["a", "b", "c"]


async def test_last_seen_is_rewritten_every_seen_every_seconds_not_per_batch(db_session):
    """A device sending every second gets its row rewritten once per ``SEEN_EVERY``; a committed
    write is what counts (a batch that failed before its commit is written again by the next)."""
    await _register(db_session, "s-1")
    t0, directory = utcnow(), DeviceDirectory(ttl=3600)
    ingest = CPSIngest(db_session, CorrelationEngine(), directory)
    first = await ingest.handle([_reading("s-1", 1.0, t0)])
    assert first.seen == {"s-1": t0}
    again = await ingest.handle([_reading("s-1", 1.0, t0 + timedelta(seconds=1))])
    assert again.seen == {"s-1": t0 + timedelta(seconds=1)}  # the first was never committed
    directory.seen_written(again.seen)
    soon = t0 + timedelta(seconds=1 + SEEN_EVERY - 1)
    assert (await ingest.handle([_reading("s-1", 2.0, soon)])).seen == {}
    later = t0 + timedelta(seconds=1 + SEEN_EVERY)
    assert (await ingest.handle([_reading("s-1", 3.0, later)])).seen == {"s-1": later}
    assert (await _device(db_session, "s-1")).last_seen_at == later


async def test_past_the_live_budget_events_are_announced_as_one_summary(db_session, monkeypatch):
    monkeypatch.setattr(outbox, "_live", outbox._LiveBudget(2))
    await _register(db_session, "l-1", "l-2")
    t0 = utcnow()
    batch = [_reading(d, float(n), t0) for n in range(3) for d in ("l-1", "l-2")]
    result = await CPSIngest(db_session, CorrelationEngine(), DeviceDirectory()).handle(batch)
    assert [e["event"] for e in result.outbox.events] == ["telemetry", "telemetry"]
    await result.outbox.publish()  # InProcessBus: nothing listens
    assert result.outbox.summarised == {}
    rows = await db_session.scalar(select(func.count()).select_from(CPSTelemetryModel))
    assert rows == 6  # every reading is stored


def test_the_summary_counts_events_by_kind_and_devices():
    box = outbox.CPSOutbox(summarised={"telemetry": 3, "status": 1}, summarised_devices={"a", "b"})
    box._summary()
    assert [(e["event"], e["counts"], e["devices"]) for e in box.events] == [
        ("summary", {"telemetry": 3, "status": 1}, 2)
    ]


async def test_a_status_keeps_the_first_firmware_version_and_flags_another_place_without_orm_rows(
    any_db_session,
):
    db_session = any_db_session
    await CPSService(db_session).register({"device_id": "st-1", "device_type": "pump", "name": "p",
                                           "location": "hall-1"})  # fmt: skip
    t0, directory = utcnow(), DeviceDirectory(ttl=3600)
    ingest = CPSIngest(db_session, CorrelationEngine(), directory)
    first = await ingest.handle(
        [_message("status", "st-1", {"device_type": "pump", "firmware_version": "1.2"}, t0)]
    )
    assert first.findings == [] and first.seen == {"st-1": t0}
    directory.seen_written(first.seen)
    body = {"device_type": "pump", "firmware_version": "9.9", "location": "roof"}
    later = await ingest.handle([_message("status", "st-1", body, t0 + timedelta(seconds=1))])
    assert [f.type.value for f in later.findings] == ["LOCATION_ANOMALY"]
    assert later.seen == {}  # seen a second ago: not rewritten
    device = await _device(db_session, "st-1")
    assert (device.firmware_version, device.last_seen_at) == ("1.2", t0)
