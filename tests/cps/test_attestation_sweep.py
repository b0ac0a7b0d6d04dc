"""Tests for aurorasoc.cps.attestation_sweep: which devices are challenged, and timeouts.

Runs on SQLite and PostgreSQL (``any_db_session``): the timeout uses ``UPDATE … RETURNING``.
Challenge delivery is the MQTT edge, so ``deliver`` gets a recording publisher.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.db import get_session_factory, session_scope
from aurorasoc.core.models import AlertModel, AttestationNonceModel, AttestationRecordModel, CPSDeviceModel
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import RuntimeMode
from aurorasoc.cps.attestation import issue_challenge
from aurorasoc.cps.attestation_sweep import MAX_CHALLENGES_PER_SWEEP, deliver, sweep_attestations
from aurorasoc.cps.simulator import SimulatedDevice
from aurorasoc.workers.scheduler import BackgroundScheduler

KEY = SimulatedDevice("key-holder").public_key_pem
INTERVAL = timedelta(seconds=300)  # AURORA_ATTESTATION_INTERVAL_SECONDS default
TTL = timedelta(seconds=300)  # AURORA_ATTESTATION_NONCE_TTL_SECONDS default


def _device(device_id: str, now: datetime, **fields: Any) -> CPSDeviceModel:
    values: dict[str, Any] = {"name": device_id, "device_type": "plc", "metadata_": {}, "health": "online",
                              "last_seen_at": now, "public_key_pem": KEY,
                              "attestation_status": "pending"}  # fmt: skip
    return CPSDeviceModel(device_id=device_id, **{**values, **fields})


async def _records(session: AsyncSession) -> list[tuple[str, str, str | None]]:
    rows = await session.execute(
        select(AttestationRecordModel.device_id, AttestationRecordModel.result, AttestationRecordModel.reason)
    )
    return [tuple(r) for r in rows.all()]  # type: ignore[misc]


class TestDue:
    async def test_only_online_keyed_unrevoked_devices_not_attested_or_challenged_lately(
        self, any_db_session
    ):
        session, now = any_db_session, utcnow()
        session.add_all([
            _device("never", now),
            _device("long-ago", now, attestation_status="verified", last_attested_at=now - 2 * INTERVAL),
            _device("failed", now, attestation_status="failed", last_attested_at=now - 3 * INTERVAL),
            _device("fresh", now, attestation_status="verified", last_attested_at=now - INTERVAL / 2),
            _device("offline", now, health="offline"),
            _device("revoked", now, attestation_status="revoked"),
            _device("keyless", now, public_key_pem=None, attestation_status="unknown"),
            _device("asked", now),
        ])  # fmt: skip
        await session.flush()
        await issue_challenge(session, "asked", now - INTERVAL / 3)
        sweep = await sweep_attestations(session, now)
        # never attested first, then the oldest attestation
        assert [device_id for device_id, _ in sweep.challenges] == ["never", "failed", "long-ago"]
        nonces = (await session.scalars(select(AttestationNonceModel))).all()
        assert {n.nonce for n in nonces} >= {nonce for _, nonce in sweep.challenges}
        assert all(n.expires_at == now + TTL for n in nonces if n.issued_at == now)
        again = await sweep_attestations(session, now + timedelta(seconds=15))
        assert again.challenges == []

    async def test_without_a_connected_consumer_nothing_is_issued(self, any_db_session):
        any_db_session.add(_device("waiting", utcnow()))
        await any_db_session.flush()
        sweep = await sweep_attestations(any_db_session, utcnow(), issue=False)
        assert sweep.challenges == []
        assert (await any_db_session.scalars(select(AttestationNonceModel))).all() == []

    async def test_one_sweep_challenges_at_most_the_cap(self, db_session):
        now = utcnow()
        db_session.add_all([_device(f"fleet-{i:04d}", now) for i in range(MAX_CHALLENGES_PER_SWEEP + 5)])
        await db_session.flush()
        assert len((await sweep_attestations(db_session, now)).challenges) == MAX_CHALLENGES_PER_SWEEP
        assert len((await sweep_attestations(db_session, now)).challenges) == 5


class TestTimeout:
    async def test_device_that_kept_talking_but_never_answered_fails_with_a_critical_alert(
        self, any_db_session
    ):
        session, now = any_db_session, utcnow()
        issued = now - timedelta(seconds=400)  # expired 100 s ago
        evasive = _device("evasive", now - timedelta(seconds=5), attestation_status="verified", trusted=True)
        silent = _device("silent", issued - timedelta(seconds=1), attestation_status="verified", trusted=True)
        session.add_all([evasive, silent])
        await session.flush()
        ignored = await issue_challenge(session, "evasive", issued)
        await issue_challenge(session, "silent", issued)
        sweep = await sweep_attestations(session, now, issue=False)
        assert sweep.timed_out == ["evasive"]
        assert (evasive.attestation_status, evasive.trusted) == ("failed", False)
        assert (silent.attestation_status, silent.trusted) == ("verified", True)
        assert await _records(session) == [("evasive", "failed", "timeout")]
        alert = (await session.scalars(select(AlertModel))).one()
        assert (alert.title, alert.severity) == ("Attestation failed: evasive", "critical")
        assert alert.metadata_["attestation"]["nonce"] == ignored.nonce
        assert alert.metadata_["dispatch_agent"] == "cps_security"
        events = [(e["event"], e["device_id"], e.get("reason")) for e in sweep.outbox.events]
        assert events == [("attestation", "evasive", "timeout")]
        assert (await session.scalars(select(AttestationNonceModel))).all() == []  # closed, then purged
        later = await sweep_attestations(session, now + timedelta(seconds=15), issue=False)
        assert later.timed_out == [] and len(await _records(session)) == 1

    async def test_unexpired_challenge_is_left_alone_and_old_closed_ones_are_purged(self, db_session):
        now = utcnow()
        db_session.add(_device("thinking", now))
        await db_session.flush()
        await issue_challenge(db_session, "thinking", now - timedelta(seconds=10))
        answered = await issue_challenge(db_session, "thinking", now - timedelta(hours=1))
        answered.used_at = now - timedelta(minutes=59)
        sweep = await sweep_attestations(db_session, now)
        assert sweep.timed_out == [] and sweep.challenges == []
        remaining = (await db_session.scalars(select(AttestationNonceModel))).all()
        assert [(n.issued_at, n.used_at) for n in remaining] == [(now - timedelta(seconds=10), None)]


async def test_undelivered_challenges_are_withdrawn(db_session):
    now = utcnow()
    db_session.add_all([_device("reachable", now), _device("unreachable", now)])
    await db_session.flush()
    sweep = await sweep_attestations(db_session, now)
    sent: list[tuple[str, str]] = []

    async def publish(device_id: str, nonce: str) -> bool:
        sent.append((device_id, nonce))
        return device_id == "reachable"

    assert await deliver(db_session, sweep.challenges, publish) == 1
    assert sorted(sent) == sorted(sweep.challenges)
    left = (await db_session.scalars(select(AttestationNonceModel.device_id))).all()
    assert left == ["reachable"]


async def test_collector_times_out_challenges_but_sweeps_nothing_in_dummy_mode(app_db):
    now = utcnow()
    async with session_scope() as session:
        session.add(_device("late", now))
        await session.flush()
        await issue_challenge(session, "late", now - timedelta(minutes=10))
    try:
        runtime.set_mode(RuntimeMode.DUMMY)
        await BackgroundScheduler().collect()
        async with get_session_factory()() as session:
            assert await _records(session) == []
        runtime.set_mode(RuntimeMode.DRY_RUN)
        await BackgroundScheduler().collect()  # no MQTT consumer: times out, issues nothing
        async with get_session_factory()() as session:
            assert await _records(session) == [("late", "failed", "timeout")]
            assert (await session.scalars(select(AttestationNonceModel))).all() == []
    finally:
        runtime.reset_mode()
