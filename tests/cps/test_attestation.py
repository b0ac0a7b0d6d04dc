"""Tests for aurorasoc.cps.attestation: the §18 challenge-response checks, in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.models import AlertModel, AttestationRecordModel, CPSDeviceModel, FirmwareBundleModel
from aurorasoc.core.types import utcnow
from aurorasoc.cps.attestation import AttestationResponse, issue_challenge, verify_response
from aurorasoc.cps.attestation_keys import attestation_message, new_private_key, verify_signature
from aurorasoc.cps.outbox import CPSOutbox
from aurorasoc.cps.schemas import DeviceOut
from aurorasoc.cps.service import CPSService
from aurorasoc.cps.simulator import SimulatedDevice


async def _enrolled(session: AsyncSession, sim: SimulatedDevice, *, bundle: bool = True) -> CPSDeviceModel:
    device = await CPSService(session).register(sim.registration())
    if bundle:
        session.add(FirmwareBundleModel(version=sim.firmware_version, target_device_type=sim.device_type,
                                        sha256=sim.genuine_hash, signature_valid=True))  # fmt: skip
    await session.flush()
    return device


async def _attest(session: AsyncSession, sim: SimulatedDevice, outbox: CPSOutbox | None = None) -> str:
    challenge = await issue_challenge(session, sim.device_id)
    response = AttestationResponse.model_validate(sim.attestation_response(challenge.nonce))
    outcome = await verify_response(session, sim.device_id, response, outbox or CPSOutbox())
    return outcome.result


class TestSignature:
    def test_message_is_the_documented_concatenation(self):
        assert attestation_message("dev-1", "ab" * 32, 7, "n" * 32) == f"dev-1{'ab' * 32}7{'n' * 32}".encode()

    def test_signature_verifies_only_with_the_signing_key(self):
        sim = SimulatedDevice("sig-1")
        body = sim.attestation_response("0" * 32)
        message = attestation_message("sig-1", body["firmware_hash"], 1, "0" * 32)
        assert verify_signature(sim.public_key_pem, message, body["signature_hex"])
        other = SimulatedDevice("sig-1", key=new_private_key())
        assert not verify_signature(other.public_key_pem, message, body["signature_hex"])
        assert not verify_signature(sim.public_key_pem, message + b"x", body["signature_hex"])


class TestVerify:
    async def test_genuine_device_is_verified_and_trusted(self, db_session):
        sim = SimulatedDevice("att-ok", boot_count=4)
        device = await _enrolled(db_session, sim)
        outbox = CPSOutbox()
        assert await _attest(db_session, sim, outbox) == "verified"
        assert (device.attestation_status, device.trusted, device.boot_count) == ("verified", True, 4)
        assert device.last_attested_at is not None
        assert [e["result"] for e in outbox.events if e["event"] == "attestation"] == ["verified"]

    async def test_tampered_firmware_fails_with_a_critical_firmware_mismatch_alert(self, db_session):
        sim = SimulatedDevice("att-tamper", tamper_firmware=True)
        device = await _enrolled(db_session, sim)
        outbox = CPSOutbox()
        assert await _attest(db_session, sim, outbox) == "failed"
        assert (device.attestation_status, device.trusted) == ("failed", False)
        alert = (await db_session.scalars(select(AlertModel))).one()
        assert (alert.title, alert.severity, alert.source) == (
            "Attestation failed: att-tamper",
            "critical",
            "cps",
        )
        assert alert.metadata_["correlation_type"] == "FIRMWARE_MISMATCH"
        assert alert.metadata_["evidence"]["expected_hash"] == sim.genuine_hash
        assert alert.affected_assets == ["device:att-tamper"]
        assert outbox.alerts and outbox.alerts[0][1] is True

    async def test_replayed_nonce_is_rejected_without_changing_the_device(self, db_session):
        sim = SimulatedDevice("att-replay")
        device = await _enrolled(db_session, sim)
        challenge = await issue_challenge(db_session, sim.device_id)
        response = AttestationResponse.model_validate(sim.attestation_response(challenge.nonce))
        first = await verify_response(db_session, sim.device_id, response, CPSOutbox())
        sim.tamper_firmware = True  # a replay is judged on the nonce alone
        second = await verify_response(db_session, sim.device_id, response, CPSOutbox())
        assert (first.result, second.result) == ("verified", "replay")
        assert device.attestation_status == "verified"

    async def test_three_replays_in_ten_minutes_raise_a_medium_alert(self, db_session):
        sim = SimulatedDevice("att-replays")
        await _enrolled(db_session, sim)
        response = AttestationResponse.model_validate(sim.attestation_response("f" * 32))  # never issued
        for _ in range(3):
            assert (
                await verify_response(db_session, sim.device_id, response, CPSOutbox())
            ).result == "replay"
        alert = (await db_session.scalars(select(AlertModel))).one()
        assert (alert.severity, alert.title) == ("medium", "Repeated attestation replays: att-replays")

    async def test_nonce_of_another_device_or_expired_is_a_replay(self, db_session):
        sim = SimulatedDevice("att-own")
        await _enrolled(db_session, sim)
        foreign = await issue_challenge(db_session, "someone-else")
        response = AttestationResponse.model_validate(sim.attestation_response(foreign.nonce))
        assert (await verify_response(db_session, sim.device_id, response, CPSOutbox())).result == "replay"
        old = await issue_challenge(db_session, sim.device_id, now=utcnow() - timedelta(hours=1))
        response = AttestationResponse.model_validate(sim.attestation_response(old.nonce))
        assert (await verify_response(db_session, sim.device_id, response, CPSOutbox())).result == "replay"

    async def test_wrong_key_fails(self, db_session):
        sim = SimulatedDevice("att-key")
        device = await _enrolled(db_session, sim)
        sim.key = new_private_key()  # signs with a key that was never enrolled
        assert await _attest(db_session, sim) == "failed"
        record = (await db_session.scalars(select(AttestationRecordModel))).one()
        assert (record.result, record.reason, device.trusted) == ("failed", "bad_signature", False)

    async def test_boot_count_rollback_fails(self, db_session):
        sim = SimulatedDevice("att-boot", boot_count=10)
        device = await _enrolled(db_session, sim)
        assert await _attest(db_session, sim) == "verified"
        sim.boot_count = 9
        assert await _attest(db_session, sim) == "failed"
        reasons = (await db_session.scalars(select(AttestationRecordModel.reason))).all()
        assert "boot_count rollback" in reasons
        assert device.boot_count == 10

    async def test_no_enrolled_key_fails_and_stays_pending(self, db_session):
        sim = SimulatedDevice("att-nokey")
        device = await CPSService(db_session).register({**sim.registration(), "public_key_pem": None})
        device.attestation_status = "pending"
        assert await _attest(db_session, sim) == "failed"
        assert device.attestation_status == "pending"

    async def test_revoked_device_responses_are_ignored(self, db_session):
        sim = SimulatedDevice("att-revoked")
        device = await _enrolled(db_session, sim)
        await CPSService(db_session).revoke(device)
        assert await _attest(db_session, sim) == "revoked"
        assert device.attestation_status == "revoked"


class TestFirmwareNeedsASignedBundle:
    """Issue 20: ``verified`` only against a registered signed bundle, else ``unknown`` with the reason."""

    @pytest.mark.parametrize("tampered", [False, True])
    async def test_without_a_bundle_a_reported_hash_is_unknown_and_alerted(self, db_session, tampered):
        sim = SimulatedDevice(f"att-nob-{tampered}", tamper_firmware=tampered, boot_count=5)
        device = await _enrolled(db_session, sim, bundle=False)
        assert await _attest(db_session, sim) == "unknown"
        assert (device.attestation_status, device.trusted, device.boot_count) == ("unknown", False, 5)
        out = DeviceOut.model_validate(device)
        assert out.firmware_state == "unknown"
        assert "no signed firmware bundle" in (out.firmware_reason or "")
        alert = (await db_session.scalars(select(AlertModel))).one()
        assert (alert.title, alert.severity) == (f"Unrecognised firmware: {sim.device_id}", "high")
        assert (
            alert.metadata_["firmware"]["reported_hash"]
            == sim.attestation_response("0" * 32)["firmware_hash"]
        )
        assert await _attest(db_session, sim) == "unknown"  # never promoted on a second look

    async def test_an_unsigned_bundle_is_nothing_to_compare_against(self, db_session):
        sim = SimulatedDevice("att-unsigned")
        await _enrolled(db_session, sim, bundle=False)
        db_session.add(FirmwareBundleModel(version=sim.firmware_version, target_device_type=sim.device_type,
                                           sha256=sim.genuine_hash, signature_valid=False))  # fmt: skip
        assert await _attest(db_session, sim) == "unknown"

    async def test_hash_of_another_signed_bundle_of_the_type_verifies(self, db_session):
        sim = SimulatedDevice("att-other-version")
        device = await _enrolled(db_session, sim, bundle=False)
        db_session.add(FirmwareBundleModel(version="9.9.9", target_device_type=sim.device_type,
                                           sha256=sim.genuine_hash, signature_valid=True))  # fmt: skip
        assert await _attest(db_session, sim) == "verified"
        assert DeviceOut.model_validate(device).firmware_state == "verified"

    async def test_never_attested_device_says_why_it_is_unknown(self, db_session):
        device = await _enrolled(db_session, SimulatedDevice("att-never"))
        out = DeviceOut.model_validate(device)
        assert out.firmware_state == "unknown" and "not answered" in (out.firmware_reason or "")

    async def test_a_quarantined_device_is_not_verified_until_approved(self, db_session):
        sim = SimulatedDevice("att-quar")
        device = await _enrolled(db_session, sim)
        device.metadata_ = {"auto_registered": True, "quarantined": True}
        assert await _attest(db_session, sim) == "unknown"
        assert DeviceOut.model_validate(device).quarantined is True
        await CPSService(db_session).approve(device)
        assert await _attest(db_session, sim) == "verified"
        assert device.trusted is True


@pytest.mark.parametrize("field", ["nonce", "firmware_hash", "signature_hex"])
def test_malformed_response_fields_are_rejected(field):
    body = SimulatedDevice("att-shape").attestation_response("a" * 32)
    with pytest.raises(ValueError):
        AttestationResponse.model_validate({**body, field: "not-hex!"})
