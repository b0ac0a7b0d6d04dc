"""BackgroundScheduler: the guide's task test, resilient loops, and each job against a real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from unittest.mock import AsyncMock, patch

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select, text

from aurorasoc.core import runtime
from aurorasoc.core.bus.base import AGENT_TASKS_STREAM, BusMessage
from aurorasoc.core.bus.current import set_bus
from aurorasoc.core.bus.inprocess import InProcessBus
from aurorasoc.core.config import reset_settings
from aurorasoc.core.db import get_session_factory, session_scope
from aurorasoc.core.models import (
    AlertIOCModel,
    AlertModel,
    CaseModel,
    CPSDeviceModel,
    CPSTelemetryModel,
    HumanApprovalModel,
    IOCModel,
    RevokedTokenModel,
    SiemHuntModel,
    SiemLogModel,
)
from aurorasoc.core.vocabulary import RuntimeMode
from aurorasoc.workers.scheduler import BackgroundScheduler


async def test_scheduler_creates_tasks():
    """start() spawns all 4 background loops."""
    scheduler = BackgroundScheduler()
    with patch.object(scheduler, "_alert_dedup_loop", new=AsyncMock()):  # noqa: SIM117 (the guide's text)
        with patch.object(scheduler, "_scheduled_hunt_loop", new=AsyncMock()):
            with patch.object(scheduler, "_expired_approval_loop", new=AsyncMock()):
                with patch.object(scheduler, "_metrics_collector_loop", new=AsyncMock()):
                    await scheduler.start()
                    assert scheduler._running is True
                    assert len(scheduler._tasks) == 4
                    await scheduler.stop()


async def test_a_failing_job_is_logged_and_the_loop_keeps_running(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AURORA_DEDUP_INTERVAL_SECONDS", "1")
    reset_settings()
    scheduler = BackgroundScheduler()
    calls = 0

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database hiccup")

    before = REGISTRY.get_sample_value("scheduler_job_failures_total", {"job": "alert_dedup"}) or 0
    with patch.object(scheduler, "fold_alerts", new=flaky):
        task = asyncio.create_task(scheduler._alert_dedup_loop())
        scheduler._running = True
        for _ in range(60):
            if calls >= 2:
                break
            await asyncio.sleep(0.05)
        scheduler._running = False
        task.cancel()
    after = REGISTRY.get_sample_value("scheduler_job_failures_total", {"job": "alert_dedup"})
    assert calls >= 2 and after == before + 1


async def test_start_twice_is_a_no_op_and_stop_ends_every_loop(app_db) -> None:
    scheduler = BackgroundScheduler()
    await scheduler.start()
    tasks = list(scheduler._tasks)
    await scheduler.start()
    assert scheduler._tasks == tasks
    await scheduler.stop()
    assert scheduler._running is False and all(t.done() for t in tasks) and scheduler._tasks == []


def alert(n: int, first_seen: datetime, occurrences: int = 1, **extra) -> AlertModel:  # type: ignore[no-untyped-def]
    return AlertModel(
        title="Brute force", severity="high", source="windows", dedup_hash="same-hash",
        occurrence_count=occurrences, first_seen_at=first_seen,
        last_seen_at=first_seen + timedelta(minutes=n),
        **extra,
    )  # fmt: skip


async def test_fold_keeps_the_earliest_alert_and_moves_counts_case_and_iocs(app_db) -> None:
    now = datetime.now(UTC)  # taken when the test runs, never at import
    async with session_scope() as session:
        # A database restored without the partial unique index can hold open duplicates.
        await session.execute(text("DROP INDEX uq_alerts_open_dedup_hash"))
        case, ioc = CaseModel(title="c", severity="high"), IOCModel(type="ipv4", value="203.0.113.7")
        session.add_all([case, ioc])
        await session.flush()
        keep = alert(0, now - timedelta(hours=2), occurrences=3)
        later = alert(1, now - timedelta(hours=1), occurrences=2, case_id=case.id)
        session.add_all([keep, later])
        await session.flush()
        session.add(AlertIOCModel(alert_id=later.id, ioc_id=ioc.id))
    await BackgroundScheduler().fold_alerts()
    async with get_session_factory()() as session:
        kept, folded = await session.get(AlertModel, keep.id), await session.get(AlertModel, later.id)
        links = (await session.scalars(select(AlertIOCModel.alert_id))).all()
    assert kept is not None and folded is not None
    assert (kept.occurrence_count, kept.case_id, kept.status) == (5, case.id, "new")
    assert kept.last_seen_at == later.last_seen_at
    assert (folded.status, folded.resolution, folded.duplicate_of) == ("resolved", "duplicate", keep.id)
    assert keep.id in links


async def test_due_hunts_raise_an_alert_and_queue_a_hunter_task_once_per_period(app_db) -> None:
    now = datetime.now(UTC)  # taken when the test runs, never at import
    async with session_scope() as session:
        session.add_all(
            SiemLogModel(
                timestamp=now,
                received_at=now,
                source="fw",
                format="json",
                host="web01",
                message=f"denied outbound to 198.51.100.{i}",
                fields={},
            )
            for i in range(3)
        )
        hunt = SiemHuntModel(name="outbound denies", query="denied", created_by="alice", schedule_minutes=30,
                             alert_on_hits=True, dispatch_agent=True, filters={"range": "24h"})  # fmt: skip
        idle = SiemHuntModel(name="manual only", query="denied", created_by="alice")
        session.add_all([hunt, idle])
    bus, tasks = InProcessBus(), []

    async def collect(message: BusMessage) -> None:
        tasks.append(message.data)

    bus.subscribe(AGENT_TASKS_STREAM, "test", collect)
    await bus.start()
    set_bus(bus)
    try:
        scheduler = BackgroundScheduler()
        await scheduler.run_hunts()
        await scheduler.run_hunts()  # not due again for 30 minutes
        await bus.join(AGENT_TASKS_STREAM, "test")
    finally:
        await bus.close()
        set_bus(None)
    async with get_session_factory()() as session:
        alerts = (await session.scalars(select(AlertModel))).all()
        ran = await session.get(SiemHuntModel, hunt.id)
        untouched = await session.get(SiemHuntModel, idle.id)
    assert [(a.title, a.source, a.occurrence_count) for a in alerts] == [
        ("Hunt matched: outbound denies", "hunt", 1)
    ]
    assert alerts[0].affected_assets == ["host:web01"] and len(alerts[0].metadata_["log_ids"]) == 3
    assert [(t["agent"], t["hunt_id"]) for t in tasks] == [("threat_hunter", str(hunt.id))]
    assert ran is not None and (ran.last_hit_count, ran.total_hits) == (3, 3)
    assert untouched is not None and untouched.last_run_at is None


async def test_hunts_and_folding_pause_in_dummy_mode(app_db) -> None:
    async with session_scope() as session:
        session.add(SiemHuntModel(name="h", query="x", created_by="a", schedule_minutes=5))
    runtime.set_mode(RuntimeMode.DUMMY)
    try:
        await BackgroundScheduler().run_hunts()
    finally:
        runtime.reset_mode()
    async with get_session_factory()() as session:
        assert (await session.scalar(select(SiemHuntModel.last_run_at))) is None


async def test_expired_approvals_are_expired(app_db) -> None:
    now = datetime.now(UTC)  # taken when the test runs, never at import
    async with session_scope() as session:
        common = {"action_type": "block_ip", "requested_by": "engine", "ttl_seconds": 60}
        late = HumanApprovalModel(**common, expires_at=now - timedelta(minutes=1))
        fresh = HumanApprovalModel(**common, expires_at=now + timedelta(minutes=10))
        session.add_all([late, fresh])
    await BackgroundScheduler().expire_approvals()
    async with get_session_factory()() as session:
        statuses = {a.id: a.status for a in (await session.scalars(select(HumanApprovalModel))).all()}
    assert statuses == {late.id: "expired", fresh.id: "pending"}


async def test_collector_refreshes_gauges_and_applies_retention(app_db) -> None:
    now = datetime.now(UTC)  # taken when the test runs, never at import
    async with session_scope() as session:
        session.add_all(
            [
                # stored 45 days ago: expired; a years-old event imported today: kept
                SiemLogModel(
                    timestamp=now, received_at=now - timedelta(days=45), source="s", format="json", fields={}
                ),
                SiemLogModel(
                    timestamp=now - timedelta(days=2000),
                    received_at=now,
                    source="s",
                    format="json",
                    fields={},
                ),
                RevokedTokenModel(jti="gone", expires_at=now - timedelta(hours=1)),
                CPSTelemetryModel(
                    device_id="d", metric="temp", value=1.0, timestamp=now - timedelta(days=31)
                ),
                CPSTelemetryModel(
                    device_id="d", metric="temp", value=2.0, timestamp=now - timedelta(days=29)
                ),
                RevokedTokenModel(jti="kept", expires_at=now + timedelta(hours=1)),
                AlertModel(title="a", severity="critical", source="x", dedup_hash="h1"),
                CaseModel(title="c", severity="high"),
            ]
        )
    await BackgroundScheduler().collect()
    async with get_session_factory()() as session:
        logs = await session.scalar(select(func.count()).select_from(SiemLogModel))
        tokens = (await session.scalars(select(RevokedTokenModel.jti))).all()
        telemetry = (await session.scalars(select(CPSTelemetryModel.value))).all()
    assert logs == 1 and tokens == ["kept"]  # default retention: 30 days after storage
    assert telemetry == [2.0]  # AURORA_TELEMETRY_RETENTION_DAYS=30
    assert REGISTRY.get_sample_value("alerts_open", {"severity": "critical"}) == 1
    assert REGISTRY.get_sample_value("cases_open", {"severity": "high"}) == 1
    assert REGISTRY.get_sample_value("approvals_pending") == 0


async def test_collector_moves_silent_devices_offline_with_a_critical_alert(app_db) -> None:
    now = datetime.now(UTC)  # taken when the test runs, never at import
    async with session_scope() as session:
        session.add(
            CPSDeviceModel(
                device_id="plc-7",
                name="plc-7",
                device_type="plc",
                health="online",
                metadata_={},
                last_seen_at=now - timedelta(hours=3),
            )
        )
    await BackgroundScheduler().collect()
    async with get_session_factory()() as session:
        device = await session.scalar(select(CPSDeviceModel).where(CPSDeviceModel.device_id == "plc-7"))
        alerts = (await session.scalars(select(AlertModel))).all()
    assert device is not None and device.health == "offline"
    assert [(a.severity, a.source) for a in alerts] == [("critical", "cps")]
