"""Alerts that carry an indicator: the join of the alert table with intel's alert↔IOC links.

It lives with alerts because alerts sit above intel (an alert's IOCs are indexed when it is stored),
so intel never reads the alert table itself.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.intel.models import AlertIOCModel


async def alerts_with_ioc(
    session: AsyncSession, ioc_id: uuid.UUID, limit: int = 100
) -> tuple[list[AlertModel], int]:
    """The ``limit`` alerts carrying this IOC whose events are latest, and how many there are in all."""
    linked = select(AlertIOCModel.alert_id).where(AlertIOCModel.ioc_id == ioc_id)
    total = await session.scalar(select(func.count()).select_from(linked.subquery()))
    alerts = await session.scalars(
        select(AlertModel)
        .where(AlertModel.id.in_(linked))
        .order_by(AlertModel.last_seen_at.desc(), AlertModel.id.desc())
        .limit(limit)
    )
    return list(alerts), total or 0
