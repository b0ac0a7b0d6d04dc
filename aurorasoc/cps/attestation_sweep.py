"""The periodic attestation sweep (spec §18, run by the §21 metrics collector every 15 s).

Each sweep first closes challenges that expired unanswered, then challenges the devices that are due.

* **Timeout.** An expired, unused nonce is closed (``used_at`` set). If the device was heard from
  after the challenge went out it ignored it: result ``failed`` reason ``timeout`` is recorded and the
  device is quarantined like any failed attestation (critical "Attestation failed" alert). A device
  not heard from at all is the health check's business (stale/offline alerts), so its challenge just
  lapses — a broker outage therefore cannot fail the whole fleet.
* **Due.** Online, not revoked, with an enrolled key, not attested and not challenged within
  ``AURORA_ATTESTATION_INTERVAL_SECONDS``; oldest attestation first, at most
  ``MAX_CHALLENGES_PER_SWEEP`` per sweep so a large fleet's responses arrive spread out rather than
  as one burst. Deviation: devices without a key are not challenged periodically — they cannot pass,
  so every challenge would only raise an alert; on-demand attestation still reaches them.
* Nonces older than the interval and the TTL can no longer be answered nor make a device due, so
  the sweep deletes them; this keeps ``attestation_nonces`` at about one row per device.

Services flush; the caller commits, publishes the outbox, then sends the challenges with
:func:`deliver` (a nonce must be committed before a fast device can answer it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.config import get_settings
from aurorasoc.core.vocabulary import AttestationStatus, DeviceHealth
from aurorasoc.cps.attestation import new_challenge, quarantine
from aurorasoc.cps.models import AttestationNonceModel, AttestationRecordModel, CPSDeviceModel
from aurorasoc.cps.outbox import CPSOutbox

MAX_CHALLENGES_PER_SWEEP = 200
TIMEOUT = "timeout"
Publish = Callable[[str, str], Awaitable[bool]]


@dataclass
class AttestationSweep:
    outbox: CPSOutbox = field(default_factory=CPSOutbox)
    challenges: list[tuple[str, str]] = field(default_factory=list)  # (device_id, nonce) to send
    timed_out: list[str] = field(default_factory=list)  # device ids failed for not answering


async def sweep_attestations(session: AsyncSession, now: datetime, *, issue: bool = True) -> AttestationSweep:
    """Time out unanswered challenges; with ``issue``, challenge the due devices (see module doc)."""
    cps = get_settings().cps
    interval = timedelta(seconds=cps.attestation_interval_seconds)
    sweep = AttestationSweep()
    await _time_out(session, now, sweep)
    if issue:
        for device_id in await due_devices(session, now - interval):
            sweep.challenges.append((device_id, new_challenge(session, device_id, now).nonce))
    horizon = now - max(interval, timedelta(seconds=cps.attestation_nonce_ttl_seconds))
    model = AttestationNonceModel
    await session.execute(delete(model).where(model.issued_at < horizon, model.expires_at <= now))
    await session.flush()
    return sweep


async def due_devices(session: AsyncSession, cutoff: datetime) -> list[str]:
    """Devices to challenge now: neither attested nor challenged since ``cutoff`` (oldest first)."""
    model, nonces = CPSDeviceModel, AttestationNonceModel
    recent = select(nonces.device_id).where(nonces.issued_at > cutoff)
    stmt = (
        select(model.device_id)
        .where(
            model.health == DeviceHealth.ONLINE.value,
            model.attestation_status != AttestationStatus.REVOKED.value,
            model.public_key_pem.is_not(None),
            (model.last_attested_at.is_(None)) | (model.last_attested_at <= cutoff),
            model.device_id.not_in(recent),
        )
        .order_by(model.last_attested_at.is_not(None), model.last_attested_at, model.device_id)
        .limit(MAX_CHALLENGES_PER_SWEEP)
    )
    return list((await session.scalars(stmt)).all())


async def _time_out(session: AsyncSession, now: datetime, sweep: AttestationSweep) -> None:
    model = AttestationNonceModel
    closed = await session.execute(
        update(model)
        .where(model.used_at.is_(None), model.expires_at <= now)
        .values(used_at=now)
        .returning(model.device_id, model.nonce, model.issued_at)
        .execution_options(synchronize_session=False)
    )
    expired = closed.tuples().all()
    devices = await _devices(session, {device_id for device_id, _, _ in expired})
    for device_id, nonce, issued_at in expired:
        device = devices.get(device_id)
        if device is None or device.attestation_status == AttestationStatus.REVOKED.value:
            continue
        if device.last_seen_at is None or device.last_seen_at <= issued_at:
            continue  # silent since the challenge: offline, not evasive
        await _fail(session, device, nonce, issued_at, now, sweep)


async def _devices(session: AsyncSession, device_ids: set[str]) -> dict[str, CPSDeviceModel]:
    if not device_ids:
        return {}
    stmt = select(CPSDeviceModel).where(CPSDeviceModel.device_id.in_(device_ids))
    return {d.device_id: d for d in (await session.scalars(stmt)).all()}


async def _fail(
    session: AsyncSession,
    device: CPSDeviceModel,
    nonce: str,
    issued_at: datetime,
    now: datetime,
    sweep: AttestationSweep,
) -> None:
    session.add(
        AttestationRecordModel(
            device_id=device.device_id, nonce=nonce, result="failed", reason=TIMEOUT, created_at=now
        )
    )
    seen = device.last_seen_at.isoformat() if device.last_seen_at else None
    evidence: dict[str, object] = {"reason": TIMEOUT, "nonce": nonce, "issued_at": issued_at.isoformat(),
                                   "last_seen_at": seen}  # fmt: skip
    await quarantine(session, device, evidence, sweep.outbox, failed=bool(device.public_key_pem))
    sweep.outbox.event("attestation", device.device_id, result="failed", reason=TIMEOUT)
    sweep.timed_out.append(device.device_id)


async def deliver(session: AsyncSession, challenges: Sequence[tuple[str, str]], publish: Publish) -> int:
    """Send committed challenges; drop the nonces that could not be sent (so they cannot time out)."""
    undelivered = [nonce for device_id, nonce in challenges if not await publish(device_id, nonce)]
    if undelivered:
        model = AttestationNonceModel
        await session.execute(delete(model).where(model.nonce.in_(undelivered)))
        await session.flush()
    return len(challenges) - len(undelivered)
