"""Firmware registry and staged rollouts (spec §18): signatures, storage, lifecycle, supervision."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from firmware_support import Signer, install_signer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.config import reset_settings
from aurorasoc.core.errors import Conflict, InvalidInput
from aurorasoc.core.models import (
    AlertModel,
    AuditLogModel,
    ConnectorActionModel,
    CPSDeviceModel,
)
from aurorasoc.core.types import utcnow
from aurorasoc.cps import firmware
from aurorasoc.cps.attestation import AttestationResponse, issue_challenge, verify_response
from aurorasoc.cps.firmware import FirmwareService
from aurorasoc.cps.firmware_rollouts import RolloutService, covered, supervise_rollouts
from aurorasoc.cps.outbox import CPSOutbox
from aurorasoc.cps.service import CPSService
from aurorasoc.cps.simulator import SimulatedDevice

IMAGE = b"\x7fELF aurora firmware image " * 64


@pytest.fixture
def signer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Signer:
    return install_signer(tmp_path, monkeypatch)


async def _upload(session: AsyncSession, signer: Signer, data: bytes = IMAGE, version: str = "2.0.0",
                  device_type: str = "door_controller", signature: str | None = None):  # fmt: skip
    sig = signer.sign(data) if signature is None else signature
    return await FirmwareService(session).upload(
        version=version, device_type=device_type, signature_hex=sig, data=data, actor="alice"
    )


async def _fleet(
    session: AsyncSession, count: int, now: datetime, device_type: str = "door_controller"
) -> None:
    for i in range(count):
        device_id = f"fw-{device_type}-{i:02d}"
        session.add(CPSDeviceModel(device_id=device_id, name=f"d{i}", device_type=device_type,
                                   last_seen_at=now, boot_count=10))  # fmt: skip
    await session.flush()


async def _heartbeat(session: AsyncSession, now: datetime) -> None:
    for device in (await session.scalars(select(CPSDeviceModel))).all():
        device.last_seen_at = now
    await session.flush()


class TestUpload:
    async def test_signed_bundle_is_stored_with_its_sha256(self, any_db_session, signer):
        bundle = await _upload(any_db_session, signer)
        digest = hashlib.sha256(IMAGE).hexdigest()
        assert (bundle.sha256, bundle.size, bundle.signature_valid, bundle.uploaded_by) == (
            digest, len(IMAGE), True, "alice",
        )  # fmt: skip
        assert await asyncio.to_thread(Path(bundle.storage_path or "").read_bytes) == IMAGE

    async def test_bad_and_missing_signatures_are_refused(self, any_db_session, signer):
        other = Signer(Ed25519PrivateKey.generate())
        cases = [
            ("signature_invalid", other.sign(IMAGE)),
            ("signature_missing", ""),
            ("signature_invalid", "zz"),
        ]
        for code, signature in cases:
            with pytest.raises(InvalidInput) as err:
                await _upload(any_db_session, signer, signature=signature)
            assert err.value.code == code
        with pytest.raises(InvalidInput, match="does not verify"):  # signature of other bytes
            await _upload(any_db_session, signer, signature=signer.sign(IMAGE + b"x"))

    async def test_without_a_configured_key_every_upload_is_refused(self, db_session, monkeypatch, signer):
        monkeypatch.delenv("FIRMWARE_SIGNING_PUBKEY_PATH")
        reset_settings()
        with pytest.raises(InvalidInput) as err:
            await _upload(db_session, signer)
        assert err.value.code == "signing_key_missing"

    async def test_a_non_ed25519_key_file_is_refused(self, db_session, monkeypatch, signer, tmp_path):
        (tmp_path / "junk.pub").write_text("not a key")
        monkeypatch.setenv("FIRMWARE_SIGNING_PUBKEY_PATH", str(tmp_path / "junk.pub"))
        reset_settings()
        with pytest.raises(InvalidInput) as err:
            await _upload(db_session, signer)
        assert err.value.code == "signing_key_invalid"

    async def test_duplicate_type_and_version_conflicts(self, any_db_session, signer):
        await _upload(any_db_session, signer)
        with pytest.raises(Conflict):
            await _upload(any_db_session, signer, data=IMAGE + b"v2")
        other_type = await _upload(any_db_session, signer, device_type="valve")
        assert other_type.target_device_type == "valve"


class TestRolloutLifecycle:
    async def test_stages_deliver_growing_batches_through_the_simulated_connector(
        self, any_db_session, signer
    ):
        now = utcnow()
        await _fleet(any_db_session, 20, now)
        await _fleet(any_db_session, 2, now, device_type="valve")
        bundle = await _upload(any_db_session, signer)
        service = RolloutService(any_db_session)
        rollout = await service.create(bundle.id, None, "alice")
        assert len(rollout.target_devices) == 20 and all("door" in d for d in rollout.target_devices)
        assert (rollout.stage, rollout.status) == (0, "draft")
        await service.start(rollout, "alice", now)
        assert (rollout.stage, rollout.status, rollout.stage_started_at) == (5, "running", now)
        for stage, reached in ((25, 5), (50, 10), (100, 20)):
            await service.advance(rollout, "alice", now)
            assert (rollout.stage, len(covered(rollout.target_devices, rollout.stage))) == (stage, reached)
        assert rollout.status == "completed"
        actions = (await any_db_session.scalars(select(ConnectorActionModel))).all()
        assert sorted(a.target for a in actions) == sorted(rollout.target_devices)  # each device exactly once
        assert all(a.simulated and a.action == "push_firmware" for a in actions)

    async def test_invalid_transitions_answer_409_with_the_allowed_actions(self, db_session, signer):
        await _fleet(db_session, 3, utcnow())
        service = RolloutService(db_session)
        rollout = await service.create((await _upload(db_session, signer)).id, ["fw-door_controller-01"], "a")
        with pytest.raises(Conflict) as err:
            await service.advance(rollout, "a")
        assert (err.value.code, err.value.extra["allowed"]) == ("invalid_transition", ["start"])
        await service.start(rollout, "a")
        await service.pause(rollout, "looks odd")
        assert (rollout.status, rollout.pause_reason) == ("paused", "looks odd")
        with pytest.raises(Conflict) as err:
            await service.pause(rollout, "again")
        assert err.value.extra["allowed"] == ["start", "rollback"]
        await service.start(rollout, "a")  # resume at the same stage
        assert (rollout.status, rollout.stage, rollout.pause_reason) == ("running", 5, None)
        await service.rollback(rollout, "a")
        with pytest.raises(Conflict) as err:
            await service.start(rollout, "a")
        assert err.value.extra["allowed"] == []

    async def test_targets_must_be_registered_devices_of_the_bundle_type(self, db_session, signer):
        await _fleet(db_session, 1, utcnow(), device_type="valve")
        bundle = await _upload(db_session, signer)
        with pytest.raises(InvalidInput, match="no door_controller devices"):
            await RolloutService(db_session).create(bundle.id, None, "a")
        with pytest.raises(InvalidInput, match="fw-valve-00"):
            await RolloutService(db_session).create(bundle.id, ["fw-valve-00"], "a")

    async def test_rollback_repushes_the_previous_bundle(self, db_session, signer):
        now = utcnow()
        await _fleet(db_session, 4, now)
        old = await _upload(db_session, signer, version="1.0.0")
        old.created_at = now - timedelta(days=1)
        service = RolloutService(db_session)
        rollout = await service.create((await _upload(db_session, signer, data=IMAGE + b"2")).id, None, "a")
        await service.start(rollout, "a", now)
        result = await service.rollback(rollout, "a")
        assert (rollout.status, result["reverted_to"], result["delivered"]) == (
            "rolled_back",
            "1.0.0",
            ["fw-door_controller-00"],
        )
        pushes = (await db_session.scalars(select(ConnectorActionModel))).all()
        assert [p.params["bundle_id"] for p in pushes] == [str(rollout.bundle_id), str(old.id)]


class TestSupervision:
    async def _running(self, session: AsyncSession, signer: Signer, now: datetime, devices: int = 20):
        await _fleet(session, devices, now)
        service = RolloutService(session)
        rollout = await service.create((await _upload(session, signer)).id, None, "alice")
        await service.start(rollout, "alice", now)
        return rollout

    async def test_auto_advance_after_1h_2h_4h_of_stability(self, any_db_session, signer):
        t0 = utcnow()
        rollout = await self._running(any_db_session, signer, t0)
        clock = t0
        for hold, stage in ((timedelta(hours=1), 25), (timedelta(hours=2), 50), (timedelta(hours=4), 100)):
            almost = clock + hold - timedelta(minutes=1)
            await _heartbeat(any_db_session, almost)
            assert await supervise_rollouts(any_db_session, almost) == []
            clock += hold
            await _heartbeat(any_db_session, clock)
            assert await supervise_rollouts(any_db_session, clock) == [(str(rollout.id), "advance")]
            assert (rollout.stage, rollout.stage_started_at) == (stage, clock)
        assert rollout.status == "completed"
        audit = (
            await any_db_session.scalars(select(AuditLogModel).where(AuditLogModel.actor == "system"))
        ).all()
        assert [a.action for a in audit] == ["firmware.rollout.advance"] * 3

    async def test_outside_real_mode_rollouts_pause_but_never_advance(self, db_session, signer):
        t0 = utcnow()
        rollout = await self._running(db_session, signer, t0)
        later = t0 + timedelta(hours=2)
        await _heartbeat(db_session, later)
        runtime.set_mode("dry_run")
        try:
            assert await supervise_rollouts(db_session, later) == []
            device = (await db_session.scalars(select(CPSDeviceModel).limit(1))).one()
            device.last_seen_at = None
            assert await supervise_rollouts(db_session, later) == [(str(rollout.id), "pause")]
        finally:
            runtime.reset_mode()
        assert rollout.stage == 5

    async def test_heartbeat_loss_over_10_percent_pauses(self, db_session, signer):
        t0 = utcnow()
        rollout = await self._running(db_session, signer, t0, devices=40)  # stage 5 reaches 2 devices
        later = t0 + timedelta(minutes=30)
        await _heartbeat(db_session, later)
        assert await supervise_rollouts(db_session, later) == []
        (
            await db_session.get(CPSDeviceModel, await _pk(db_session, rollout.target_devices[0]))
        ).last_seen_at = t0
        assert await supervise_rollouts(db_session, later) == [(str(rollout.id), "pause")]
        assert rollout.pause_reason == "heartbeat lost on 1 of 2 updated devices"

    async def test_boot_count_rising_by_more_than_5_pauses(self, db_session, signer):
        t0 = utcnow()
        rollout = await self._running(db_session, signer, t0)
        device = (await RolloutService(db_session).devices(covered(rollout.target_devices, 5)))[0]
        device.boot_count = 15  # baseline 10: +5 is tolerated
        assert await supervise_rollouts(db_session, t0) == []
        device.boot_count = 16
        assert await supervise_rollouts(db_session, t0) == [(str(rollout.id), "pause")]
        assert rollout.pause_reason == f"boot count of {device.device_id} rose by 6 during stage 5"

    async def test_updated_device_failing_attestation_pauses_with_firmware_mismatch(
        self, any_db_session, signer
    ):
        sim = SimulatedDevice("fw-att-00", tamper_firmware=True)
        await CPSService(any_db_session).register(sim.registration())
        bundle = await _upload(any_db_session, signer, data=sim.image, version=sim.firmware_version)
        assert bundle.sha256 == sim.genuine_hash
        service = RolloutService(any_db_session)
        t0 = utcnow()
        rollout = await service.create(bundle.id, None, "alice")
        await service.start(rollout, "alice", t0 - timedelta(minutes=1))
        device = (await service.devices([sim.device_id]))[0]
        device.last_seen_at = t0
        challenge = await issue_challenge(any_db_session, sim.device_id)
        response = AttestationResponse.model_validate(sim.attestation_response(challenge.nonce))
        assert (
            await verify_response(any_db_session, sim.device_id, response, CPSOutbox())
        ).result == "failed"
        alert = (await any_db_session.scalars(select(AlertModel))).one()
        assert alert.metadata_["correlation_type"] == "FIRMWARE_MISMATCH"
        assert alert.metadata_["evidence"]["expected_hash"] == bundle.sha256
        assert await supervise_rollouts(any_db_session, t0) == [(str(rollout.id), "pause")]
        assert rollout.pause_reason == "updated device fw-att-00 failed attestation"


async def _pk(session: AsyncSession, device_id: str):  # type: ignore[no-untyped-def]
    stmt = select(CPSDeviceModel.id).where(CPSDeviceModel.device_id == device_id)
    return (await session.scalars(stmt)).one()


class TestAPI:
    async def test_upload_list_and_audit(self, client, admin_headers, signer):
        resp = await client.post("/api/v1/firmware/bundles", headers=admin_headers,
                                 **signer.upload("3.1.0", "valve", IMAGE))  # fmt: skip
        assert resp.status_code == 201, resp.text
        body = resp.json()
        assert (body["sha256"], body["signature_valid"], body["size"]) == (
            hashlib.sha256(IMAGE).hexdigest(),
            True,
            len(IMAGE),
        )
        listed = (await client.get("/api/v1/firmware/bundles", headers=admin_headers)).json()
        assert [b["version"] for b in listed["items"]] == ["3.1.0"]
        audit = (
            await client.get(
                "/api/v1/audit", params={"action": "firmware.bundle.upload"}, headers=admin_headers
            )
        ).json()
        assert audit["items"][0]["resource_id"] == body["id"]
        again = await client.post("/api/v1/firmware/bundles", headers=admin_headers,
                                  **signer.upload("3.1.0", "valve", IMAGE))  # fmt: skip
        assert again.status_code == 409

    async def test_bad_signature_is_400_and_oversize_is_413(self, client, admin_headers, signer, monkeypatch):
        bad = await client.post("/api/v1/firmware/bundles", headers=admin_headers,
                                **signer.upload("1", "valve", IMAGE, signature="00" * 64))  # fmt: skip
        assert bad.status_code == 400 and bad.json()["detail"]["code"] == "signature_invalid"
        monkeypatch.setattr(firmware, "MAX_BUNDLE_BYTES", 1024)
        big = await client.post("/api/v1/firmware/bundles", headers=admin_headers,
                                **signer.upload("2", "valve", b"x" * 1025))  # fmt: skip
        assert big.status_code == 413 and big.json()["detail"]["code"] == "payload_too_large"

    async def test_rollout_endpoints_walk_the_lifecycle(self, client, admin_headers, signer):
        dev = {"device_type": "valve", "name": "v", "firmware_stack": "zephyr"}
        for i in range(2):
            await client.post(
                "/api/v1/cps/devices", json={**dev, "device_id": f"api-v-{i}"}, headers=admin_headers
            )
        bundle = (await client.post("/api/v1/firmware/bundles", headers=admin_headers,
                                    **signer.upload("4.0", "valve", IMAGE))).json()  # fmt: skip
        created = await client.post(
            "/api/v1/firmware/rollouts", json={"bundle_id": bundle["id"]}, headers=admin_headers
        )
        assert created.status_code == 201, created.text
        rollout = created.json()
        assert (rollout["target_devices"], rollout["allowed_actions"], rollout["delivery_simulated"]) == (
            ["api-v-0", "api-v-1"], ["start"], True,
        )  # fmt: skip
        url = f"/api/v1/firmware/rollouts/{rollout['id']}"
        conflict = await client.post(f"{url}/advance", headers=admin_headers)
        assert conflict.status_code == 409 and conflict.json()["detail"]["allowed"] == ["start"]
        started = (await client.post(f"{url}/start", headers=admin_headers)).json()
        assert (started["stage"], started["status"], started["updated_devices"]) == (
            5,
            "running",
            ["api-v-0"],
        )
        paused = (await client.post(f"{url}/pause", json={"reason": "noisy"}, headers=admin_headers)).json()
        assert (paused["status"], paused["pause_reason"]) == ("paused", "noisy")
        rolled = (await client.post(f"{url}/rollback", headers=admin_headers)).json()
        assert (rolled["status"], rolled["allowed_actions"]) == ("rolled_back", [])
        listed = (await client.get("/api/v1/firmware/rollouts", headers=admin_headers)).json()
        assert [(r["id"], r["bundle_version"]) for r in listed["items"]] == [(rollout["id"], "4.0")]
