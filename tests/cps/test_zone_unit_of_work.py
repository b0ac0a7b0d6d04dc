"""ZoneService owns its unit of work: rows committed, isolation requests audited and published."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.actor import Actor
from aurorasoc.core.bus.base import BusMessage
from aurorasoc.core.bus.current import set_bus
from aurorasoc.core.bus.inprocess import InProcessBus
from aurorasoc.core.errors import Conflict, DomainError
from aurorasoc.core.models import AuditLogModel, HumanApprovalModel
from aurorasoc.cps.zones import ZoneService
from aurorasoc.soar.approvals import APPROVALS_STREAM

ENGINEER = Actor("engineer", "user", "198.51.100.12")
CONDUIT = {"name": "ot-it", "from_zone_id": "ot", "to_zone_id": "it", "protocols": []}


@pytest.fixture
async def bus() -> AsyncIterator[tuple[InProcessBus, list[BusMessage]]]:
    started, received = InProcessBus(max_deliveries=1, backoff_base=0), []

    async def listen(message: BusMessage) -> None:
        received.append(message)

    started.subscribe(APPROVALS_STREAM, "uow-zones", listen)
    await started.start()
    set_bus(started)
    yield started, received
    await started.close()
    set_bus(None)


async def _count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_rows_are_committed_by_the_service(db_session: AsyncSession) -> None:
    zones = ZoneService(db_session)
    zone = await zones.create_zone({"name": "ot", "security_level": "SL3", "fail_mode": "fail_secure",
                                    "site_id": None})  # fmt: skip
    assert not db_session.in_transaction() and zone.security_level == "SL3"
    with pytest.raises(Conflict):
        await zones.create_zone({"name": "ot"})
    await db_session.rollback()
    await zones.create_badge({"badge_id": "B-1", "holder": "ops", "zone_ids": ["ot"]})
    badge = await zones.update_badge("B-1", {"enabled": False})
    assert not db_session.in_transaction() and badge.enabled is False


async def test_isolation_request_is_audited_committed_and_published(
    db_session: AsyncSession, bus: tuple[InProcessBus, list[BusMessage]]
) -> None:
    zones = ZoneService(db_session)
    conduit = await zones.create_conduit(dict(CONDUIT))
    runtime.set_mode("dry_run")
    try:
        with pytest.raises(DomainError):  # outbound actions need real mode: nothing is filed
            await zones.request_isolation(conduit.id, "worm", actor=ENGINEER)
    finally:
        runtime.reset_mode()
    assert await _count(db_session, HumanApprovalModel) == 0
    runtime.set_mode("real")
    try:
        approval = await zones.request_isolation(conduit.id, "worm", actor=ENGINEER)
        assert not db_session.in_transaction()
        with pytest.raises(Conflict) as again:
            await zones.request_isolation(conduit.id, None, actor=ENGINEER)
    finally:
        runtime.reset_mode()
    assert again.value.code == "approval_pending"
    assert (approval.requested_by, approval.target) == ("engineer", "conduit:ot-it")
    audit = (
        await db_session.scalars(
            select(AuditLogModel).where(AuditLogModel.action == "cps.conduit.isolate_requested")
        )
    ).all()
    assert [(a.actor, a.actor_type, a.ip, a.action, a.resource_id, a.details) for a in audit] == [
        ("engineer", "user", "198.51.100.12", "cps.conduit.isolate_requested", str(conduit.id),
         {"name": "ot-it", "approval_id": str(approval.id), "reason": "worm"}),
    ]  # fmt: skip
    started, received = bus
    await started.join(APPROVALS_STREAM, "uow-zones")
    assert [(m.data["type"], m.data["approval_id"]) for m in received] == [
        ("approval.requested", str(approval.id))
    ]
