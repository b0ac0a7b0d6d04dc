"""DeviceService owns the fleet's unit of work: write, audit row naming the actor, commit, then the event.

Each test calls the method the API routes call and checks the stored row, the audit entry, that
nothing is left uncommitted, and that a refused change writes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.actor import Actor
from aurorasoc.core.bus.base import BusMessage
from aurorasoc.core.bus.current import set_bus
from aurorasoc.core.bus.inprocess import InProcessBus
from aurorasoc.core.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from aurorasoc.core.models import AttestationNonceModel, AuditLogModel, CPSDeviceModel
from aurorasoc.cps.devices import DeviceService
from aurorasoc.cps.outbox import CPS_EVENTS_STREAM
from aurorasoc.cps.simulator import SimulatedDevice

OPERATOR = Actor("ot-lead", "user", "198.51.100.30")
KEY = Actor("ci-key", "api_key", None)


@pytest.fixture
async def cps_events() -> AsyncIterator[tuple[InProcessBus, list[dict[str, Any]]]]:
    bus, received = InProcessBus(max_deliveries=1, backoff_base=0), []

    async def listen(message: BusMessage) -> None:
        received.append(message.data)

    bus.subscribe(CPS_EVENTS_STREAM, "uow-devices", listen)
    await bus.start()
    set_bus(bus)
    yield bus, received
    await bus.close()
    set_bus(None)


async def _audit(session: AsyncSession) -> list[tuple[str, str, str | None, str, str | None, dict[str, Any]]]:
    rows = await session.scalars(select(AuditLogModel).order_by(AuditLogModel.timestamp))
    return [(r.actor, r.actor_type, r.ip, r.action, r.resource_id, r.details) for r in rows]


async def _count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_register_change_remove_are_audited_and_committed(any_db_session: AsyncSession) -> None:
    service, sim = DeviceService(any_db_session), SimulatedDevice("uow-dev-1")
    device = await service.register(sim.registration(), actor=OPERATOR)
    assert not any_db_session.in_transaction()
    assert (device.attestation_status, device.trusted) == ("pending", False)
    changed = await service.change("uow-dev-1", {"name": "Door 1", "location": "hall"}, actor=KEY)
    assert not any_db_session.in_transaction() and changed.name == "Door 1"
    await service.remove("uow-dev-1", actor=KEY)
    assert not any_db_session.in_transaction()
    assert await _count(any_db_session, CPSDeviceModel) == 0
    assert await _audit(any_db_session) == [
        ("ot-lead", "user", "198.51.100.30", "cps.device.register", "uow-dev-1", {}),
        ("ci-key", "api_key", None, "cps.device.update", "uow-dev-1", {"fields": ["location", "name"]}),
        ("ci-key", "api_key", None, "cps.device.delete", "uow-dev-1", {}),
    ]


async def test_invalid_or_duplicate_registration_writes_nothing(any_db_session: AsyncSession) -> None:
    service, sim = DeviceService(any_db_session), SimulatedDevice("uow-dev-2")
    with pytest.raises(InvalidInput) as bad:
        await service.register({**sim.registration(), "public_key_pem": "not a key"}, actor=OPERATOR)
    assert bad.value.code == "invalid_public_key"
    await any_db_session.rollback()
    assert await _count(any_db_session, CPSDeviceModel) == 0 and await _audit(any_db_session) == []
    await service.register(sim.registration(), actor=OPERATOR)
    with pytest.raises(Conflict):
        await service.register(sim.registration(), actor=KEY)
    await any_db_session.rollback()
    assert [a[3] for a in await _audit(any_db_session)] == ["cps.device.register"]
    with pytest.raises(NotFound):
        await service.change("ghost", {"name": "x"}, actor=KEY)


async def test_revoke_commits_then_announces_and_reenrolment_is_audited(
    any_db_session: AsyncSession, cps_events: tuple[InProcessBus, list[dict[str, Any]]]
) -> None:
    service, sim = DeviceService(any_db_session), SimulatedDevice("uow-dev-3")
    await service.register(sim.registration(), actor=OPERATOR)
    revoked = await service.revoke("uow-dev-3", actor=KEY)
    assert not any_db_session.in_transaction() and revoked.attestation_status == "revoked"
    bus, received = cps_events
    await bus.join(CPS_EVENTS_STREAM, "uow-devices")
    assert [(e["event"], e["device_id"], e["attestation_status"]) for e in received] == [
        ("status", "uow-dev-3", "revoked")
    ]
    with pytest.raises(Conflict) as refused:
        await service.challenge("uow-dev-3")
    assert refused.value.code == "device_revoked"
    token, _ = await service.enrollment_token("uow-dev-3", actor=KEY)
    assert not any_db_session.in_transaction() and token not in str(revoked.metadata_)
    with pytest.raises(PermissionDenied):
        await service.enroll("uow-dev-3", "wrong", sim.public_key_pem, ip="192.0.2.8")
    await any_db_session.rollback()
    enrolled = await service.enroll("uow-dev-3", token, sim.public_key_pem, ip="192.0.2.8")
    assert not any_db_session.in_transaction() and enrolled.attestation_status == "pending"
    assert [a[:5] for a in (await _audit(any_db_session))[1:]] == [
        ("ci-key", "api_key", None, "cps.device.revoke", "uow-dev-3"),
        ("ci-key", "api_key", None, "cps.device.enrollment_token", "uow-dev-3"),
        ("uow-dev-3", "system", "192.0.2.8", "cps.device.enroll", "uow-dev-3"),
    ]


async def test_challenge_is_committed_and_command_needs_a_verified_device(
    any_db_session: AsyncSession,
) -> None:
    service, sim = DeviceService(any_db_session), SimulatedDevice("uow-dev-4")
    await service.register(sim.registration(), actor=OPERATOR)
    sent = await service.challenge("uow-dev-4")
    assert not any_db_session.in_transaction() and sent.delivered is False  # no MQTT consumer here
    assert await _count(any_db_session, AttestationNonceModel) == 1
    with pytest.raises(DomainError):  # commands are outbound: refused outside real mode
        await service.command("uow-dev-4", "unlock", actor=OPERATOR)
    runtime.set_mode("real")
    try:
        with pytest.raises(Conflict) as untrusted:
            await service.command("uow-dev-4", "unlock", actor=OPERATOR)
        await any_db_session.rollback()
        device = await service.devices.get("uow-dev-4")
        device.trusted, device.attestation_status = True, "verified"
        await any_db_session.commit()
        assert await service.command("uow-dev-4", "lock", actor=OPERATOR) is False
    finally:
        runtime.reset_mode()
    assert untrusted.value.code == "device_untrusted"
    assert [(a[3], a[5]) for a in await _audit(any_db_session)] == [
        ("cps.device.register", {}),
        ("cps.device.command", {"command": "lock"}),
    ]
