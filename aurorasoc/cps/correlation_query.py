"""Reading correlations back: CPS alerts whose metadata carries a ``correlation_type``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.cps.outbox import CPS_SOURCE

SCAN_LIMIT = 2000


async def recent_correlations(
    session: AsyncSession, *, correlation_type: str | None = None, device_id: str | None = None
) -> list[dict[str, Any]]:
    """Newest first, over the latest ``SCAN_LIMIT`` CPS alerts (JSON filtering stays portable)."""
    stmt = (
        select(AlertModel)
        .where(AlertModel.source == CPS_SOURCE)
        .order_by(AlertModel.created_at.desc())
        .limit(SCAN_LIMIT)
    )
    found = []
    for alert in (await session.scalars(stmt)).all():
        meta = alert.metadata_ or {}
        kind = meta.get("correlation_type")
        if not kind or (correlation_type and kind != correlation_type):
            continue
        if device_id and meta.get("device_id") != device_id:
            continue
        found.append(
            {
                "alert_id": alert.id,
                "correlation_type": kind,
                "severity": alert.severity,
                "title": alert.title,
                "device_id": meta.get("device_id"),
                "evidence": meta.get("evidence") or {},
                "created_at": alert.created_at,
            }
        )
    return found
