"""SIEM retention: events past their setting and expired token revocations (spec §21, hourly)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.config import Settings
from aurorasoc.core.models_platform import RevokedTokenModel
from aurorasoc.core.siem_partitions import drop_days_before
from aurorasoc.siem.models import SiemLogModel


async def purge_expired(session: AsyncSession, settings: Settings, now: datetime) -> dict[str, int]:
    """Delete SIEM events stored more than ``AURORA_SIEM_RETENTION_DAYS`` ago and expired revocations.

    SIEM age counts from ``received_at``: an analyst importing last year's logs for an investigation
    keeps them for the retention period, rather than losing them at the next hourly run. On
    PostgreSQL whole expired day partitions are dropped first (``siem_partitions`` counts them);
    the rows left over (a day still receiving, the DEFAULT partition) are deleted one by one.
    """
    siem_cutoff = now - timedelta(days=settings.detection.siem_retention_days)
    statements = {
        "siem_logs": delete(SiemLogModel).where(SiemLogModel.received_at < siem_cutoff),
        "revoked_tokens": delete(RevokedTokenModel).where(RevokedTokenModel.expires_at < now),
    }
    partitions, dropped_rows = await drop_days_before(session, siem_cutoff)
    purged = {name: (await session.execute(stmt)).rowcount or 0 for name, stmt in statements.items()}  # type: ignore[attr-defined]
    return purged | {"siem_logs": purged["siem_logs"] + dropped_rows, "siem_partitions": partitions}
