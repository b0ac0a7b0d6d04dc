"""Retention: drop what outlived its setting (spec §21, hourly from the metrics collector)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.config.settings import Settings
from aurorasoc.core.models import RevokedTokenModel, SiemLogModel


async def purge_expired(session: AsyncSession, settings: Settings, now: datetime) -> dict[str, int]:
    """Delete SIEM events stored more than ``AURORA_SIEM_RETENTION_DAYS`` ago, and expired revocations.

    Age counts from ``received_at``: an analyst importing last year's logs for an investigation
    keeps them for the retention period, rather than losing them at the next hourly run.
    """
    cutoff = now - timedelta(days=settings.detection.siem_retention_days)
    logs = await session.execute(delete(SiemLogModel).where(SiemLogModel.received_at < cutoff))
    tokens = await session.execute(delete(RevokedTokenModel).where(RevokedTokenModel.expires_at < now))
    return {"siem_logs": logs.rowcount or 0, "revoked_tokens": tokens.rowcount or 0}  # type: ignore[attr-defined]
