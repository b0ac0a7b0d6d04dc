"""Runtime-mode persistence and the decision stream for mode changes (spec §6).

Each function is one unit of work: the ``system_settings`` row, the audit entry of an operator's
change, the commit, then the in-process mode and the ``decisions:system`` announcement.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.actor import Actor
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.models_platform import SystemSettingModel
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


async def record_startup_mode(session: AsyncSession, mode: RuntimeMode) -> None:
    """At start ``AURORA_MODE`` wins: written to ``system_settings`` by the platform, committed."""
    await persist_mode(session, mode, "system")
    await session.commit()


async def change_mode(session: AsyncSession, mode: RuntimeMode, *, actor: Actor) -> dict[str, Any]:
    """Apply, persist, audit and announce a mode change. Allowed in every mode (system class)."""
    previous = runtime.current_mode()
    await persist_mode(session, mode, actor.username)
    details = {"before": previous.value, "after": mode.value}
    await actor.audit(session, "mode.change", ("system", runtime.MODE_SETTING_KEY), details)
    await session.commit()
    runtime.set_mode(mode)
    change = {
        "type": "mode.change",
        "before": previous.value,
        "after": mode.value,
        "actor": actor.username,
    }
    await get_bus().publish(DECISIONS_SYSTEM, change)
    return change
