"""Challenge-response firmware attestation (spec §18).

Checks run in the documented order and the first failure decides: nonce (issued to this device,
unexpired, unused — else ``replay`` with no device change), revocation, boot-count rollback,
enrolled key and signature, then the firmware hash against a registered *signed* bundle (issue 20):
the bundle for (device_type, firmware_version), or any signed bundle of the type with that hash.
Only a match is ``verified``. With nothing to compare against the result is ``unknown`` (untrusted,
``firmware_check.reason`` says why) and a hash that matches no bundle raises a high "Unrecognised
firmware" alert; a hash that differs from the version's bundle is a failure. A failure quarantines
the device and raises the critical alert "Attestation failed: <device_id>" (with
``correlation_type=FIRMWARE_MISMATCH`` for a hash mismatch). Devices auto-registered from MQTT stay
``unknown`` until an operator approves them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.config import get_settings
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import AttestationStatus, CorrelationType, Severity
from aurorasoc.cps.attestation_keys import attestation_message, verify_signature
from aurorasoc.cps.models import (
    AttestationNonceModel,
    AttestationRecordModel,
    CPSDeviceModel,
    FirmwareBundleModel,
)
from aurorasoc.cps.outbox import CPSOutbox

REPLAY_ALERT_COUNT = 3
REPLAY_WINDOW = timedelta(minutes=10)
_HEX64 = r"^[0-9a-fA-F]{64}$"


class AttestationResponse(BaseModel):
    """The ``aurora/attestation/<id>/response`` payload (spec §12)."""

    model_config = ConfigDict(extra="ignore")

    device_id: str = Field(max_length=64)
    firmware_hash: str = Field(pattern=_HEX64)
    boot_count: int = Field(ge=0)
    signature_hex: str = Field(pattern=r"^[0-9a-fA-F]{16,300}$")
    nonce: str = Field(pattern=r"^[0-9a-f]{32}$")
    board_family: str | None = None
    firmware_stack: str | None = None
    firmware_version: str | None = None


NO_BUNDLE = "no_signed_bundle"
QUARANTINED = "awaiting_approval"


@dataclass(frozen=True)
class Outcome:
    result: str  # verified | unknown | failed | replay | revoked
    reason: str | None = None


async def issue_challenge(
    session: AsyncSession, device_id: str, now: datetime | None = None
) -> AttestationNonceModel:
    """A fresh single-use nonce for ``device_id`` (``secrets.token_hex(16)``), valid for the TTL."""
    row = new_challenge(session, device_id, now or utcnow())
    await session.flush()
    return row


def new_challenge(session: AsyncSession, device_id: str, now: datetime) -> AttestationNonceModel:
    """:func:`issue_challenge` without the flush, for callers issuing many at once."""
    ttl = timedelta(seconds=get_settings().cps.attestation_nonce_ttl_seconds)
    row = AttestationNonceModel(
        device_id=device_id, nonce=secrets.token_hex(16), issued_at=now, expires_at=now + ttl
    )
    session.add(row)
    return row


async def _consume_nonce(session: AsyncSession, device_id: str, nonce: str, now: datetime) -> bool:
    """Atomically mark the nonce used; False when it was not issued to this device, expired or used."""
    model = AttestationNonceModel
    stmt = (
        update(model)
        .where(
            model.nonce == nonce,
            model.device_id == device_id,
            model.used_at.is_(None),
            model.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool((await session.execute(stmt)).rowcount)  # type: ignore[attr-defined]


async def _bundle_hash(
    session: AsyncSession, device: CPSDeviceModel, version: str | None, reported: str
) -> str | None:
    """The signed bundle hash to compare against: this version's, else one equal to ``reported``."""
    model = FirmwareBundleModel
    signed = [model.target_device_type == device.device_type, model.signature_valid.is_(True)]
    if version is not None:
        stmt = select(model.sha256).where(*signed, model.version == version)
        if (found := (await session.scalars(stmt)).first()) is not None:
            return found.lower()
    stmt = select(model.sha256).where(*signed, func.lower(model.sha256) == reported)
    found = (await session.scalars(stmt)).first()
    return found.lower() if found is not None else None


async def _check(
    session: AsyncSession,
    device: CPSDeviceModel | None,
    resp: AttestationResponse,
    device_id: str,
    now: datetime,
) -> tuple[Outcome, str | None]:
    """The outcome and the expected firmware hash (for the evidence)."""
    if device is None or not await _consume_nonce(session, device_id, resp.nonce, now):
        return Outcome("replay", "nonce not issued to this device, expired or already used"), None
    if device.attestation_status == AttestationStatus.REVOKED.value:
        return Outcome("revoked", "device is revoked"), None
    if device.boot_count is not None and resp.boot_count < device.boot_count:
        return Outcome("failed", "boot_count rollback"), None
    if not device.public_key_pem:
        return Outcome("failed", "no_enrolled_key"), None
    message = attestation_message(device_id, resp.firmware_hash, resp.boot_count, resp.nonce)
    if not verify_signature(device.public_key_pem, message, resp.signature_hex):
        return Outcome("failed", "bad_signature"), None
    version = resp.firmware_version or device.firmware_version
    expected = await _bundle_hash(session, device, version, resp.firmware_hash.lower())
    if expected is None:
        return Outcome("unknown", NO_BUNDLE), None
    if expected != resp.firmware_hash.lower():
        return Outcome("failed", CorrelationType.FIRMWARE_MISMATCH.value), expected
    if (device.metadata_ or {}).get("quarantined"):
        return Outcome("unknown", QUARANTINED), expected
    return Outcome("verified"), expected


async def verify_response(
    session: AsyncSession,
    device_id: str,
    resp: AttestationResponse,
    outbox: CPSOutbox,
    now: datetime | None = None,
) -> Outcome:
    """Verify one response from topic id ``device_id``; record it, update the device, queue events."""
    now = now or utcnow()
    stmt = select(CPSDeviceModel).where(CPSDeviceModel.device_id == device_id)
    device = (await session.scalars(stmt)).one_or_none()
    outcome, expected = await _check(session, device, resp, device_id, now)
    session.add(
        AttestationRecordModel(
            device_id=device_id, nonce=resp.nonce, firmware_hash=resp.firmware_hash,
            boot_count=resp.boot_count, firmware_version=resp.firmware_version, result=outcome.result,
            reason=outcome.reason, created_at=now,
        )
    )  # fmt: skip
    if device is not None and outcome.result in ("verified", "unknown", "failed"):
        await _apply(session, device, resp, outcome, expected, outbox, now)
    elif outcome.result == "replay":
        await _alert_on_replays(session, device_id, outbox, now)
    await session.flush()
    outbox.event("attestation", device_id, result=outcome.result, reason=outcome.reason)
    return outcome


async def _apply(
    session: AsyncSession,
    device: CPSDeviceModel,
    resp: AttestationResponse,
    outcome: Outcome,
    expected: str | None,
    outbox: CPSOutbox,
    now: datetime,
) -> None:
    if outcome.reason != "no_enrolled_key":
        _record_firmware_check(device, resp, outcome, expected, now)
    if outcome.result == "verified":
        device.attestation_status, device.trusted = AttestationStatus.VERIFIED.value, True
        device.last_attested_at, device.boot_count = now, resp.boot_count
        return
    if outcome.result == "unknown":
        device.attestation_status, device.trusted = AttestationStatus.UNKNOWN.value, False
        device.boot_count = resp.boot_count
        if outcome.reason == NO_BUNDLE:
            await _alert_unrecognised(session, device, resp, outbox)
        return
    evidence: dict[str, object] = {"reason": outcome.reason, "reported_hash": resp.firmware_hash,
                                   "expected_hash": expected, "boot_count": resp.boot_count,
                                   "stored_boot_count": device.boot_count, "nonce": resp.nonce}  # fmt: skip
    mismatch = outcome.reason == CorrelationType.FIRMWARE_MISMATCH.value
    if mismatch:
        device.metadata_ = {**(device.metadata_ or {}), "firmware_drift": True}
    await quarantine(
        session,
        device,
        evidence,
        outbox,
        failed=outcome.reason != "no_enrolled_key",  # no key: stays pending until one is enrolled
        correlation=CorrelationType.FIRMWARE_MISMATCH if mismatch else None,
    )


def _record_firmware_check(
    device: CPSDeviceModel, resp: AttestationResponse, outcome: Outcome, expected: str | None, now: datetime
) -> None:
    """What the firmware hash was compared against, for the API's ``firmware_state``."""
    state = {"verified": "verified", "unknown": "unknown"}.get(outcome.result, "failed")
    if outcome.reason == CorrelationType.FIRMWARE_MISMATCH.value:
        state = "mismatch"
    device.metadata_ = {**(device.metadata_ or {}), "firmware_check": {
        "state": state, "reason": outcome.reason, "reported_hash": resp.firmware_hash.lower(),
        "expected_hash": expected, "firmware_version": resp.firmware_version or device.firmware_version,
        "checked_at": now.isoformat(),
    }}  # fmt: skip


async def _alert_unrecognised(
    session: AsyncSession, device: CPSDeviceModel, resp: AttestationResponse, outbox: CPSOutbox
) -> None:
    version = resp.firmware_version or device.firmware_version
    await outbox.alert(
        session,
        title=f"Unrecognised firmware: {device.device_id}",
        severity=Severity.HIGH,
        device_id=device.device_id,
        description=(
            f"{device.device_id} reports firmware {resp.firmware_hash.lower()} ({device.device_type} "
            f"{version or 'unknown version'}), which matches no registered signed bundle; "
            "its firmware cannot be verified"
        ),
        metadata={"device_id": device.device_id, "firmware": {"reason": NO_BUNDLE,
                  "reported_hash": resp.firmware_hash.lower(), "firmware_version": version}},
    )  # fmt: skip


async def quarantine(
    session: AsyncSession,
    device: CPSDeviceModel,
    evidence: dict[str, object],
    outbox: CPSOutbox,
    *,
    failed: bool = True,
    correlation: CorrelationType | None = None,
) -> None:
    """A failed attestation: untrusted, ``failed`` unless told otherwise, critical alert for the CPS agent."""
    if failed:
        device.attestation_status = AttestationStatus.FAILED.value
    device.trusted = False
    metadata: dict[str, object] = {"attestation": evidence, "device_id": device.device_id}
    if correlation is not None:
        metadata.update(correlation_type=correlation.value, evidence=evidence)
    await outbox.alert(
        session,
        title=f"Attestation failed: {device.device_id}",
        severity=Severity.CRITICAL,
        device_id=device.device_id,
        description=f"Firmware attestation of {device.device_id} failed: {evidence.get('reason')}",
        metadata=metadata,
    )


async def _alert_on_replays(session: AsyncSession, device_id: str, outbox: CPSOutbox, now: datetime) -> None:
    model = AttestationRecordModel
    stmt = select(func.count()).where(
        model.device_id == device_id, model.result == "replay", model.created_at >= now - REPLAY_WINDOW
    )
    if int(await session.scalar(stmt) or 0) >= REPLAY_ALERT_COUNT:  # autoflush counts this one too
        await outbox.alert(
            session,
            title=f"Repeated attestation replays: {device_id}",
            severity=Severity.MEDIUM,
            device_id=device_id,
            description=f"{REPLAY_ALERT_COUNT}+ replayed attestation nonces in 10 minutes",
        )
