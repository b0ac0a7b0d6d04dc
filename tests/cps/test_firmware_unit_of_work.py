"""Firmware services own their unit of work: bundle/rollout rows, audit rows naming the actor, commit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from firmware_support import Signer, install_signer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import Conflict, InvalidInput
from aurorasoc.core.models import AuditLogModel, CPSDeviceModel, FirmwareBundleModel
from aurorasoc.core.types import utcnow
from aurorasoc.cps.firmware import FirmwareService
from aurorasoc.cps.firmware_rollouts import RolloutService

IMAGE = b"\x7fELF aurora firmware image " * 64
OPERATOR = Actor("ot-lead", "user", "198.51.100.20")


@pytest.fixture
def signer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Signer:
    return install_signer(tmp_path, monkeypatch)


async def _audit(session: AsyncSession) -> list[tuple[str, str, str | None, str, dict[str, Any]]]:
    rows = await session.scalars(select(AuditLogModel).order_by(AuditLogModel.timestamp))
    return [(r.actor, r.actor_type, r.ip, r.action, r.details) for r in rows]


async def _register(
    session: AsyncSession, signer: Signer, signature: str | None = None
) -> FirmwareBundleModel:
    return await FirmwareService(session).register(
        version="2.0.0", device_type="door_controller", data=IMAGE, filename="door.bin",
        signature_hex=signer.sign(IMAGE) if signature is None else signature, actor=OPERATOR,
    )  # fmt: skip


async def test_register_verifies_stores_audits_and_commits(db_session: AsyncSession, signer: Signer) -> None:
    with pytest.raises(InvalidInput):
        await _register(db_session, signer, signature="00" * 64)
    assert await _audit(db_session) == []
    bundle = await _register(db_session, signer)
    assert not db_session.in_transaction() and bundle.uploaded_by == "ot-lead"
    with pytest.raises(Conflict):
        await _register(db_session, signer)
    assert await _audit(db_session) == [
        ("ot-lead", "user", "198.51.100.20", "firmware.bundle.upload",
         {"version": "2.0.0", "target_device_type": "door_controller", "sha256": bundle.sha256,
          "size": len(IMAGE), "filename": "door.bin"}),
    ]  # fmt: skip


async def test_rollout_open_and_transitions_are_audited_and_committed(
    db_session: AsyncSession, signer: Signer
) -> None:
    for i in range(3):
        db_session.add(CPSDeviceModel(device_id=f"uow-door-{i}", name=f"d{i}", device_type="door_controller",
                                      last_seen_at=utcnow(), boot_count=1))  # fmt: skip
    bundle = await _register(db_session, signer)
    service = RolloutService(db_session)
    rollout = await service.open(bundle.id, None, actor=OPERATOR)
    assert not db_session.in_transaction() and rollout.status == "draft"
    await service.act(rollout.id, "start", actor=OPERATOR)
    await service.act(rollout.id, "pause", actor=OPERATOR, reason="night shift")
    with pytest.raises(Conflict) as refused:
        await service.act(rollout.id, "advance", actor=OPERATOR)
    assert refused.value.code == "invalid_transition"
    await db_session.rollback()
    rolled = await service.act(rollout.id, "rollback", actor=OPERATOR)
    assert not db_session.in_transaction() and rolled.status == "rolled_back"
    audit = await _audit(db_session)
    assert [(a[0], a[3]) for a in audit[1:]] == [
        ("ot-lead", "firmware.rollout.create"), ("ot-lead", "firmware.rollout.start"),
        ("ot-lead", "firmware.rollout.pause"), ("ot-lead", "firmware.rollout.rollback"),
    ]  # fmt: skip
    assert audit[1][4] == {"bundle_id": str(bundle.id), "targets": 3}
    assert audit[3][4] == {"stage": 5, "reason": "night shift"}
