"""LogSourceService owns its unit of work: the source row, the audit row naming the actor, one commit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import Conflict, InvalidInput
from aurorasoc.core.models import AuditLogModel, LogSourceModel
from aurorasoc.siem.sources import LogSourceService

KEY = Actor("ingest-key", "api_key", "198.51.100.9")
VALUES = {"name": "fw-01", "kind": "http", "format": "auto", "path": None, "enabled": True,
          "passthrough_alerts": False}  # fmt: skip


async def _audit(session: AsyncSession) -> list[tuple[str, str, str | None, str, object]]:
    rows = await session.scalars(select(AuditLogModel).order_by(AuditLogModel.timestamp))
    return [(r.actor, r.actor_type, r.ip, r.action, r.details) for r in rows]


async def test_register_and_change_are_audited_and_committed(db_session: AsyncSession) -> None:
    service = LogSourceService(db_session)
    source = await service.register(dict(VALUES), actor=KEY)
    assert not db_session.in_transaction()
    await service.change(source.id, {"enabled": False, "format": "auto"}, actor=KEY)
    await service.change(source.id, {"enabled": False}, actor=KEY)  # nothing changes: no audit row
    assert not db_session.in_transaction() and source.enabled is False
    assert await _audit(db_session) == [
        ("ingest-key", "api_key", "198.51.100.9", "log_source.create", {"after": VALUES}),
        ("ingest-key", "api_key", "198.51.100.9", "log_source.update", {"after": {"enabled": False}}),
    ]


async def test_refused_sources_write_nothing(db_session: AsyncSession) -> None:
    service = LogSourceService(db_session)
    with pytest.raises(InvalidInput):
        await service.register({**VALUES, "kind": "file"}, actor=KEY)  # a file source needs a path
    await service.register(dict(VALUES), actor=KEY)
    with pytest.raises(Conflict):
        await service.register(dict(VALUES), actor=KEY)
    await db_session.rollback()
    assert await db_session.scalar(select(func.count()).select_from(LogSourceModel)) == 1
    assert [row[3] for row in await _audit(db_session)] == ["log_source.create"]
