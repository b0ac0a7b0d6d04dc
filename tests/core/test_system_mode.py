"""The runtime-mode change owns its unit of work: setting row, audit row naming the actor, commit, event."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.actor import Actor
from aurorasoc.core.models import AuditLogModel, SystemSettingModel
from aurorasoc.core.system_mode import change_mode, record_startup_mode
from aurorasoc.core.vocabulary import RuntimeMode


@pytest.fixture(autouse=True)
def restore_mode() -> Iterator[None]:
    yield
    runtime.reset_mode()


async def test_change_is_persisted_audited_and_applied(any_db_session: AsyncSession) -> None:
    await record_startup_mode(any_db_session, RuntimeMode.DRY_RUN)
    assert not any_db_session.in_transaction()
    runtime.set_mode(RuntimeMode.DRY_RUN)
    change = await change_mode(any_db_session, RuntimeMode.REAL, actor=Actor("root", "user", "192.0.2.99"))
    assert not any_db_session.in_transaction() and runtime.current_mode() is RuntimeMode.REAL
    assert change == {"type": "mode.change", "before": "dry_run", "after": "real", "actor": "root"}
    row = await any_db_session.get(SystemSettingModel, runtime.MODE_SETTING_KEY)
    assert row is not None and (row.value, row.updated_by) == ("real", "root")
    audit = (await any_db_session.scalars(select(AuditLogModel))).all()
    assert [(a.actor, a.ip, a.action, a.details) for a in audit] == [
        ("root", "192.0.2.99", "mode.change", {"before": "dry_run", "after": "real"})
    ]
