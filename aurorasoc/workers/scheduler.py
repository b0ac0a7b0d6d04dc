"""BackgroundScheduler (spec §21): the API's periodic jobs, one instance per deployment.

Each loop runs its job, logs and counts a failure instead of dying, and sleeps its period. Jobs
that need the database are skipped while it is unreachable; pipeline writes (alert folding,
scheduled hunts) are skipped in ``dummy`` mode.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aurorasoc.alerts.fold import fold_duplicate_alerts
from aurorasoc.alerts.models import AlertModel
from aurorasoc.cases.models import CaseModel
from aurorasoc.core import runtime
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.config import Settings, get_settings
from aurorasoc.core.db import get_session_factory, probe_database
from aurorasoc.core.metrics import APPROVALS_PENDING, OPEN_ALERTS, OPEN_CASES, SCHEDULER_JOB_FAILURES
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import ApprovalStatus, CaseStatus, RuntimeMode
from aurorasoc.cps.attestation_sweep import deliver, sweep_attestations
from aurorasoc.cps.firmware_rollouts import supervise_rollouts
from aurorasoc.cps.health import refresh_device_health
from aurorasoc.cps.mqtt import active_consumer, publish_challenge
from aurorasoc.cps.retention import purge_cps
from aurorasoc.intel.feeds import refresh_due_feeds
from aurorasoc.siem.retention import purge_expired
from aurorasoc.siem.scheduled_hunts import publish_outcomes, run_due_hunts
from aurorasoc.soar.approvals import expire_due_approvals
from aurorasoc.soar.models import HumanApprovalModel

log = structlog.get_logger(__name__)
RETENTION_PERIOD_SECONDS = 3600.0
_CLOSED_ALERTS = ("resolved", "false_positive")
_CLOSED_CASES = (CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value)


class BackgroundScheduler:
    def __init__(
        self,
        settings: Settings | None = None,
        session_factory: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self._session_factory = session_factory
        self._running = False
        self._tasks: list[asyncio.Task[None]] = []
        self._retention_due = 0.0
        self._feeds_due = 0.0

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self._session_factory or get_session_factory()

    async def start(self) -> None:
        if self._running:
            return
        self._running = True
        loops = (
            self._alert_dedup_loop,
            self._scheduled_hunt_loop,
            self._expired_approval_loop,
            self._metrics_collector_loop,
        )
        self._tasks = [asyncio.create_task(loop(), name=f"scheduler:{loop.__name__}") for loop in loops]

    async def stop(self) -> None:
        self._running = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _every(self, name: str, seconds: int, job: Callable[[], Awaitable[None]]) -> None:
        while self._running:
            try:
                await job()
            except Exception:
                SCHEDULER_JOB_FAILURES.labels(name).inc()
                log.exception("scheduler_job_failed", job=name)
            await asyncio.sleep(seconds)

    async def _alert_dedup_loop(self) -> None:
        await self._every("alert_dedup", self.settings.scheduler.dedup_interval_seconds, self.fold_alerts)

    async def _scheduled_hunt_loop(self) -> None:
        await self._every("scheduled_hunts", self.settings.scheduler.hunt_interval_seconds, self.run_hunts)

    async def _expired_approval_loop(self) -> None:
        seconds = self.settings.scheduler.approval_expiry_interval_seconds
        await self._every("expired_approvals", seconds, self.expire_approvals)

    async def _metrics_collector_loop(self) -> None:
        await self._every("metrics_collector", self.settings.scheduler.metrics_interval_seconds, self.collect)

    @staticmethod
    async def _may_write(pipeline: bool) -> bool:
        if pipeline and runtime.current_mode() is RuntimeMode.DUMMY:
            return False
        return await probe_database()

    async def fold_alerts(self) -> None:
        if await self._may_write(pipeline=True):
            async with self.sessions() as session:
                if folded := await fold_duplicate_alerts(session):
                    log.info("alerts_folded", count=folded)
                await session.commit()

    async def run_hunts(self) -> None:
        if await self._may_write(pipeline=True):
            async with self.sessions() as session:
                outcomes = await run_due_hunts(session, utcnow())
                await session.commit()
            await publish_outcomes(outcomes, get_bus())

    async def refresh_feeds(self) -> None:
        """Threat-intel feeds whose refresh interval has passed (issue 17); run from ``collect``."""
        self._feeds_due = time.monotonic() + self.settings.scheduler.intel_feed_interval_seconds
        if await self._may_write(pipeline=False):
            async with self.sessions() as session:
                if outcomes := await refresh_due_feeds(session, utcnow()):
                    log.info("intel_feeds_refreshed", **outcomes)

    async def expire_approvals(self) -> None:
        if await self._may_write(pipeline=False):
            async with self.sessions() as session:
                service = await expire_due_approvals(session)
                await session.commit()
            await service.publish()

    async def collect(self) -> None:
        """Gauges, device health, hourly retention, attestation sweep (not dummy), due intel feeds."""
        if not await probe_database():
            return
        async with self.sessions() as session:
            await _refresh_gauges(session)
            devices = await refresh_device_health(session, utcnow())
            await supervise_rollouts(session, utcnow())  # rollout auto-advance / auto-pause (§18)
            await session.commit()
            await devices.publish()
            if time.monotonic() >= self._retention_due:
                now = utcnow()
                purged = await purge_expired(session, self.settings, now)
                purged |= await purge_cps(session, self.settings, now)
                await session.commit()
                self._retention_due = time.monotonic() + RETENTION_PERIOD_SECONDS
                log.info("retention_applied", **purged)
            if runtime.current_mode() is not RuntimeMode.DUMMY:
                await _attestation_sweep(session)
        if time.monotonic() >= self._feeds_due:
            await self.refresh_feeds()


async def _attestation_sweep(session: AsyncSession) -> None:
    """Due attestation challenges (spec §18), sent only while the MQTT consumer is connected."""
    consumer = active_consumer()
    connected = consumer is not None and consumer.connected.is_set()
    sweep = await sweep_attestations(session, utcnow(), issue=connected)
    await session.commit()
    await sweep.outbox.publish()
    if sweep.challenges:
        sent = await deliver(session, sweep.challenges, publish_challenge)
        await session.commit()
        log.info("attestation_challenges_sent", sent=sent, due=len(sweep.challenges))


async def _refresh_gauges(session: AsyncSession) -> None:
    for model, gauge, closed in (
        (AlertModel, OPEN_ALERTS, _CLOSED_ALERTS),
        (CaseModel, OPEN_CASES, _CLOSED_CASES),
    ):
        rows = await session.execute(
            select(model.severity, func.count()).where(model.status.not_in(closed)).group_by(model.severity)
        )
        counts = dict(rows.tuples().all())
        for severity in ("critical", "high", "medium", "low", "info"):
            gauge.labels(severity).set(counts.get(severity, 0))
    pending = await session.scalar(
        select(func.count()).where(HumanApprovalModel.status == ApprovalStatus.PENDING.value)
    )
    APPROVALS_PENDING.set(pending or 0)
