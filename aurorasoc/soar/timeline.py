"""Case timeline entries written by the SOAR engine and approvals (spec §14.3)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.cases.models import TimelineEntryModel


def add_case_entry(
    session: AsyncSession,
    case_id: uuid.UUID | None,
    action: str,
    actor: str,
    details: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Add a timeline entry when the work belongs to a case; a case-less run records nothing."""
    if case_id is None:
        return
    session.add(
        TimelineEntryModel(case_id=case_id, action=action, actor=actor, details=details, data=data or {})
    )
