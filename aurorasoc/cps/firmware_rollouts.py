"""Staged firmware rollouts (spec §18): 5 % → 25 % → 50 % → 100 %, paused when the fleet degrades.

The devices a stage covers are the first ``ceil(n * stage / 100)`` of the rollout's target list,
so each stage is a superset of the last and needs no extra storage. Delivery of each newly
covered batch goes through the ``firmware`` connector via :class:`ActionContext` (recorded in
``connector_actions``, simulated by default) and therefore only in ``real`` mode. When a stage
starts every covered device's boot count is noted in its ``metadata.firmware_rollout`` so the
"boot count rose by more than 5 during the stage" rule has a baseline.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.actor import Actor
from aurorasoc.core.audit import AuditService
from aurorasoc.core.errors import Conflict, InvalidInput, NotFound
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import DeviceHealth
from aurorasoc.cps.firmware import FirmwareService
from aurorasoc.cps.health import health_of
from aurorasoc.cps.models import (
    AttestationRecordModel,
    CPSDeviceModel,
    FirmwareBundleModel,
    FirmwareRolloutModel,
)
from aurorasoc.soar.actions import ActionContext
from aurorasoc.soar.connectors.base import ConnectorError
from aurorasoc.soar.connectors.registry import ConnectorRegistry, build_connectors

NEXT_STAGE = {0: 5, 5: 25, 25: 50, 50: 100}
HOLD = {
    5: timedelta(hours=1),
    25: timedelta(hours=2),
    50: timedelta(hours=4),
}  # stable time before auto-advance
HEARTBEAT_LOSS_RATIO = 0.10
BOOT_COUNT_RISE_LIMIT = 5
SYSTEM_ACTOR = "system"
ALLOWED: dict[str, tuple[str, ...]] = {
    "draft": ("start",),
    "running": ("advance", "pause", "rollback"),
    "paused": ("start", "rollback"),
    "completed": ("rollback",),
    "rolled_back": (),
}

RolloutAction = Literal["start", "advance", "pause", "rollback"]


def covered(targets: list[str], stage: int) -> list[str]:
    """The target devices a stage has reached (a prefix of the target list)."""
    return targets[: math.ceil(len(targets) * stage / 100)]


def check_transition(status: str, action: str) -> None:
    allowed = ALLOWED.get(status, ())
    if action not in allowed:
        raise Conflict(f"cannot {action} a {status} rollout", code="invalid_transition",
                       status=status, allowed=list(allowed))  # fmt: skip


class RolloutService:
    """Rollout lifecycle. :meth:`open` and :meth:`act` are the audited, committed units of work;
    the transition methods flush only (the supervisor batches them)."""

    def __init__(self, session: AsyncSession, connectors: ConnectorRegistry | None = None) -> None:
        self.session = session
        self.connectors = connectors or build_connectors()

    @property
    def delivery_simulated(self) -> bool:
        return bool(getattr(self.connectors.get("firmware"), "simulated", False))

    async def create(
        self, bundle_id: uuid.UUID, targets: list[str] | None, actor: str
    ) -> FirmwareRolloutModel:
        bundle = await FirmwareService(self.session).get(bundle_id)
        device_type = bundle.target_device_type
        known = await self._device_ids(device_type)
        if targets is None:
            targets = known
        elif unknown := sorted(set(targets) - set(known)):
            raise InvalidInput(f"not registered {device_type} devices: {', '.join(unknown)}")
        if not targets:
            raise InvalidInput(f"no {device_type} devices to roll out to")
        rollout = FirmwareRolloutModel(bundle_id=bundle.id, target_devices=list(dict.fromkeys(targets)),
                                       stage=0, status="draft", created_by=actor)  # fmt: skip
        self.session.add(rollout)
        await self.session.flush()
        return rollout

    async def open(
        self, bundle_id: uuid.UUID, targets: list[str] | None, *, actor: Actor
    ) -> FirmwareRolloutModel:
        """A draft rollout (default: every device of the bundle's type); audited, committed."""
        rollout = await self.create(bundle_id, targets, actor.username)
        details = {"bundle_id": str(bundle_id), "targets": len(rollout.target_devices)}
        await actor.audit(
            self.session, "firmware.rollout.create", ("firmware_rollout", str(rollout.id)), details
        )
        await self.session.commit()
        return rollout

    async def act(
        self, rollout_id: uuid.UUID, action: RolloutAction, *, actor: Actor, reason: str = ""
    ) -> FirmwareRolloutModel:
        """One audited transition (start, advance, pause with ``reason``, rollback), committed.

        409 ``invalid_transition`` lists the allowed actions.
        """
        rollout = await self.get(rollout_id)
        if action == "pause":
            details = await self.pause(rollout, reason)
        else:
            transition = {"start": self.start, "advance": self.advance, "rollback": self.rollback}[action]
            details = await transition(rollout, actor.username)
        resource = ("firmware_rollout", str(rollout_id))
        await actor.audit(self.session, f"firmware.rollout.{action}", resource, details)
        await self.session.commit()
        return rollout

    async def _device_ids(self, device_type: str) -> list[str]:
        stmt = select(CPSDeviceModel.device_id).where(CPSDeviceModel.device_type == device_type)
        return list((await self.session.scalars(stmt.order_by(CPSDeviceModel.device_id))).all())

    async def get(self, rollout_id: uuid.UUID) -> FirmwareRolloutModel:
        rollout = await self.session.get(FirmwareRolloutModel, rollout_id)
        if rollout is None:
            raise NotFound(f"firmware rollout {rollout_id} not found")
        return rollout

    async def page(self, *, skip: int, limit: int) -> tuple[list[FirmwareRolloutModel], int]:
        total = int(await self.session.scalar(select(func.count()).select_from(FirmwareRolloutModel)) or 0)
        stmt = select(FirmwareRolloutModel).order_by(FirmwareRolloutModel.created_at.desc())
        return list((await self.session.scalars(stmt.offset(skip).limit(limit))).all()), total

    async def start(
        self, rollout: FirmwareRolloutModel, actor: str, now: datetime | None = None
    ) -> dict[str, Any]:
        """Draft → stage 5, or resume a paused rollout at its stage (the stability clock restarts)."""
        check_transition(rollout.status, "start")
        now = now or utcnow()
        rollout.status, rollout.pause_reason = "running", None
        if rollout.stage == 0:
            return await self._enter_stage(rollout, NEXT_STAGE[0], actor, now)
        rollout.stage_started_at = now
        await self._baseline(rollout)
        return {"stage": rollout.stage, "delivered": []}

    async def advance(
        self, rollout: FirmwareRolloutModel, actor: str, now: datetime | None = None
    ) -> dict[str, Any]:
        check_transition(rollout.status, "advance")
        return await self._enter_stage(rollout, NEXT_STAGE[rollout.stage], actor, now or utcnow())

    async def pause(self, rollout: FirmwareRolloutModel, reason: str) -> dict[str, Any]:
        check_transition(rollout.status, "pause")
        rollout.status, rollout.pause_reason = "paused", reason[:500]
        await self.session.flush()
        return {"stage": rollout.stage, "reason": rollout.pause_reason}

    async def rollback(self, rollout: FirmwareRolloutModel, actor: str) -> dict[str, Any]:
        """Stop the rollout; in real mode re-push the previous bundle of the type to reached devices."""
        check_transition(rollout.status, "rollback")
        bundles = FirmwareService(self.session)
        previous = await bundles.previous(await bundles.get(rollout.bundle_id))
        reached = covered(rollout.target_devices, rollout.stage)
        delivered = await self._deliver(previous, reached, actor) if previous else []
        rollout.status = "rolled_back"
        await self.session.flush()
        return {"reverted_to": previous.version if previous else None, "delivered": delivered}

    async def _enter_stage(
        self, rollout: FirmwareRolloutModel, stage: int, actor: str, now: datetime
    ) -> dict[str, Any]:
        batch = [
            d
            for d in covered(rollout.target_devices, stage)
            if d not in covered(rollout.target_devices, rollout.stage)
        ]
        bundle = await FirmwareService(self.session).get(rollout.bundle_id)
        try:
            delivered = await self._deliver(bundle, batch, actor)
        except ConnectorError as exc:
            rollout.status, rollout.pause_reason = "paused", f"delivery failed: {exc}"[:500]
            await self.session.flush()
            return {"stage": rollout.stage, "delivered": [], "error": str(exc)}
        rollout.stage, rollout.stage_started_at = stage, now
        rollout.status = "completed" if stage == 100 else "running"
        await self._baseline(rollout)
        return {"stage": stage, "delivered": delivered, "simulated": self.delivery_simulated}

    async def _deliver(self, bundle: FirmwareBundleModel, devices: list[str], actor: str) -> list[str]:
        """Push ``bundle`` to each device through the firmware connector (raises outside real mode)."""
        ctx = ActionContext(self.session, self.connectors, actor)
        for device_id in devices:
            await ctx.call(
                "firmware", "push_firmware", device_id, device_id=device_id, bundle_id=str(bundle.id)
            )
        return devices

    async def _baseline(self, rollout: FirmwareRolloutModel) -> None:
        marker = {"rollout_id": str(rollout.id), "stage": rollout.stage}
        for device in await self.devices(covered(rollout.target_devices, rollout.stage)):
            device.metadata_ = {
                **(device.metadata_ or {}),
                "firmware_rollout": {**marker, "boot_count": device.boot_count},
            }
        await self.session.flush()

    async def devices(self, device_ids: list[str]) -> list[CPSDeviceModel]:
        if not device_ids:
            return []
        stmt = select(CPSDeviceModel).where(CPSDeviceModel.device_id.in_(device_ids))
        return list((await self.session.scalars(stmt)).all())

    async def pause_reason(self, rollout: FirmwareRolloutModel, now: datetime) -> str | None:
        """Why a running rollout must stop (spec §18), or None while its reached devices are stable."""
        reached = covered(rollout.target_devices, rollout.stage)
        devices = await self.devices(reached)
        online = [d for d in devices if health_of(d.last_seen_at, now) is DeviceHealth.ONLINE]
        lost = len(reached) - len(online)
        if reached and lost > HEARTBEAT_LOSS_RATIO * len(reached):
            return f"heartbeat lost on {lost} of {len(reached)} updated devices"
        for device in devices:
            if (rise := _boot_rise(device, rollout)) > BOOT_COUNT_RISE_LIMIT:
                return f"boot count of {device.device_id} rose by {rise} during stage {rollout.stage}"
        return await self._attestation_failure(reached, rollout.stage_started_at)

    async def _attestation_failure(self, reached: list[str], since: datetime | None) -> str | None:
        if not reached:
            return None
        model = AttestationRecordModel
        stmt = select(model.device_id).where(model.device_id.in_(reached), model.result == "failed")
        if since is not None:
            stmt = stmt.where(model.created_at >= since)
        failed = (await self.session.scalars(stmt.limit(1))).first()
        return f"updated device {failed} failed attestation" if failed else None


async def supervise_rollouts(
    session: AsyncSession, now: datetime | None = None, connectors: ConnectorRegistry | None = None
) -> list[tuple[str, str]]:
    """Scheduler job: pause running rollouts that degrade the fleet, advance those stable long enough.

    Pausing is a safety stop and happens in every mode; advancing delivers firmware, so only in
    ``real``. Returns ``(rollout_id, action)`` per change; flushes only.
    """
    now = now or utcnow()
    service = RolloutService(session, connectors)
    audit = AuditService(session)
    stmt = select(FirmwareRolloutModel).where(FirmwareRolloutModel.status == "running")
    changes = []
    for rollout in (await session.scalars(stmt)).all():
        if reason := await service.pause_reason(rollout, now):
            action, details = "pause", await service.pause(rollout, reason)
        elif runtime.write_allowed("external") and _stable_long_enough(rollout, now):
            action, details = "advance", await service.advance(rollout, SYSTEM_ACTOR, now)
        else:
            continue
        await audit.record(SYSTEM_ACTOR, "system", f"firmware.rollout.{action}", "firmware_rollout",
                           str(rollout.id), {**details, "automatic": True})  # fmt: skip
        changes.append((str(rollout.id), action))
    return changes


def _boot_rise(device: CPSDeviceModel, rollout: FirmwareRolloutModel) -> int:
    """How far the boot count rose since this rollout's current stage began (0 without a baseline)."""
    mark = (device.metadata_ or {}).get("firmware_rollout") or {}
    base = mark.get("boot_count") if mark.get("rollout_id") == str(rollout.id) else None
    return device.boot_count - base if base is not None and device.boot_count is not None else 0


def _stable_long_enough(rollout: FirmwareRolloutModel, now: datetime) -> bool:
    hold = HOLD.get(rollout.stage)
    return (
        hold is not None and rollout.stage_started_at is not None and now - rollout.stage_started_at >= hold
    )
