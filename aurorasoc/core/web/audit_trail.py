"""The one way routes write the audit trail: who did what to which resource, from where."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.audit import AuditService
from aurorasoc.core.auth import Principal
from aurorasoc.core.web.deps import client_ip


async def audit_change(
    session: AsyncSession,
    request: Request,
    principal: Principal,
    action: str,
    resource: tuple[str, str],
    details: dict[str, Any],
) -> None:
    """One audit row per state change, committed with it (spec §22)."""
    await AuditService(session).record(
        principal.username,
        principal.actor_type,
        action,
        resource[0],
        resource[1],
        details,
        ip=client_ip(request),
    )
