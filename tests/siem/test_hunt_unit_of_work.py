"""HuntService owns its unit of work: the hunt row, the audit row naming the actor, one commit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import InvalidInput, PermissionDenied
from aurorasoc.core.models import AuditLogModel, SiemHuntModel
from aurorasoc.siem.hunts import HuntService, Viewer

OWNER, OTHER = Viewer("analyst", "analyst"), Viewer("admin", "admin")
ANALYST = Actor("analyst", "user", "198.51.100.7")
BODY = {"name": "Encoded PowerShell", "query": "powershell AND *-enc*", "sharing_mode": "team"}


async def _audit(session: AsyncSession) -> list[tuple[str, str, str | None, str, dict[str, Any]]]:
    rows = await session.scalars(select(AuditLogModel).order_by(AuditLogModel.timestamp))
    return [(r.actor, r.actor_type, r.ip, r.action, r.details) for r in rows]


async def test_save_edit_remove(db_session: AsyncSession) -> None:
    service = HuntService(db_session)
    hunt = await service.save(OWNER, dict(BODY), actor=ANALYST)
    assert not db_session.in_transaction() and hunt.created_by == "analyst"
    await service.edit(hunt.id, OWNER, {"name": "Encoded PS"}, actor=ANALYST)
    await service.edit(hunt.id, OWNER, {"name": "Encoded PS"}, actor=ANALYST)  # no change: no audit row
    assert not db_session.in_transaction()
    await service.remove(hunt.id, OWNER, actor=ANALYST)
    assert await db_session.scalar(select(func.count()).select_from(SiemHuntModel)) == 0
    assert await _audit(db_session) == [
        ("analyst", "user", "198.51.100.7", "hunt.create", {"after": BODY}),
        ("analyst", "user", "198.51.100.7", "hunt.update", {"after": {"name": "Encoded PS"}}),
        ("analyst", "user", "198.51.100.7", "hunt.delete",
         {"before": {"name": "Encoded PS", "query": BODY["query"]}}),
    ]  # fmt: skip


async def test_refused_changes_write_nothing(db_session: AsyncSession) -> None:
    service = HuntService(db_session)
    hunt_id = (await service.save(OWNER, dict(BODY), actor=ANALYST)).id
    with pytest.raises(PermissionDenied):
        await service.edit(hunt_id, OTHER, {"name": "mine now"}, actor=Actor("admin"))
    with pytest.raises(InvalidInput):
        await service.edit(hunt_id, OWNER, {"created_by": "admin"}, actor=ANALYST)
    with pytest.raises(PermissionDenied):
        await service.remove(hunt_id, OTHER, actor=Actor("admin"))
    await db_session.rollback()
    assert [row[3] for row in await _audit(db_session)] == ["hunt.create"]
    assert (await db_session.get(SiemHuntModel, hunt_id)) is not None


async def test_run_now_commits_the_counters_for_a_viewer(db_session: AsyncSession) -> None:
    service = HuntService(db_session)
    hunt = await service.save(OWNER, dict(BODY), actor=ANALYST)
    run = await service.run_now(hunt.id, OTHER, limit=10)  # team hunt: visible to the admin
    assert not db_session.in_transaction()
    assert (run.hit_count, hunt.last_hit_count, hunt.last_run_at is not None) == (0, 0, True)
