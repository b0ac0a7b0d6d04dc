"""Searching the audit trail (spec §10 ``GET /audit``), newest entries first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.errors import InvalidInput
from aurorasoc.core.models_platform import AuditLogModel


@dataclass(frozen=True)
class AuditFilters:
    """Exact-match filters plus an inclusive time window; None means "any"."""

    actor: str | None = None
    action: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[Any]:
        if self.since and self.until and self.since > self.until:
            raise InvalidInput("'since' must not be later than 'until'")
        exact = (
            (AuditLogModel.actor, self.actor),
            (AuditLogModel.action, self.action),
            (AuditLogModel.resource_type, self.resource_type),
            (AuditLogModel.resource_id, self.resource_id),
        )
        clauses: list[Any] = [column == value for column, value in exact if value is not None]
        if self.since is not None:
            clauses.append(AuditLogModel.timestamp >= self.since)
        if self.until is not None:
            clauses.append(AuditLogModel.timestamp <= self.until)
        return clauses


async def search_audit(
    session: AsyncSession, filters: AuditFilters, *, skip: int = 0, limit: int = 50
) -> tuple[Sequence[AuditLogModel], int]:
    """One page of matching entries (newest first) and the total number of matches."""
    clauses = filters.conditions()
    total = await session.scalar(select(func.count()).select_from(AuditLogModel).where(*clauses)) or 0
    rows = await session.execute(
        select(AuditLogModel)
        .where(*clauses)
        .order_by(AuditLogModel.timestamp.desc(), AuditLogModel.id.desc())
        .offset(skip)
        .limit(limit)
    )
    return rows.scalars().all(), total
