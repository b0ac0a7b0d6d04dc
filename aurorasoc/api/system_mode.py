"""Runtime-mode persistence and the decision stream for mode changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.audit import AuditService
from aurorasoc.core.auth import Principal
from aurorasoc.core.bus.base import get_bus
from aurorasoc.core.models import SystemSettingModel
from aurorasoc.core.vocabulary import RuntimeMode

DECISIONS_SYSTEM = "decisions:system"


async def persist_mode(session: AsyncSession, mode: RuntimeMode, updated_by: str) -> None:
    row = await session.get(SystemSettingModel, runtime.MODE_SETTING_KEY)
    if row is None:
        session.add(SystemSettingModel(key=runtime.MODE_SETTING_KEY, value=mode.value, updated_by=updated_by))
    else:
        row.value = mode.value
        row.updated_by = updated_by
    await session.flush()


async def change_mode(
    session: AsyncSession, mode: RuntimeMode, principal: Principal, ip: str | None
) -> dict[str, Any]:
    """Apply, persist, audit and announce a mode change. Allowed in every mode (system class)."""
    previous = runtime.current_mode()
    await persist_mode(session, mode, principal.username)
    await AuditService(session).record(
        principal.username,
        principal.actor_type,
        "mode.change",
        "system",
        runtime.MODE_SETTING_KEY,
        {"before": previous.value, "after": mode.value},
        ip=ip,
    )
    await session.commit()
    runtime.set_mode(mode)
    change = {
        "type": "mode.change",
        "before": previous.value,
        "after": mode.value,
        "actor": principal.username,
    }
    await get_bus().publish(DECISIONS_SYSTEM, change)
    return change
