"""CPS retention: telemetry past its setting and long-expired attestation nonces (spec §21)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.config import Settings
from aurorasoc.cps.models import AttestationNonceModel, CPSTelemetryModel

NONCE_GRACE = timedelta(days=1)


async def purge_cps(session: AsyncSession, settings: Settings, now: datetime) -> dict[str, int]:
    """Delete telemetry older than ``AURORA_TELEMETRY_RETENTION_DAYS`` and nonces expired a day ago.

    Nonces are kept a day past expiry so a late replay is still recognised as a replay.
    """
    telemetry_cutoff = now - timedelta(days=settings.cps.telemetry_retention_days)
    statements = {
        "cps_telemetry": delete(CPSTelemetryModel).where(CPSTelemetryModel.timestamp < telemetry_cutoff),
        "attestation_nonces": delete(AttestationNonceModel).where(
            AttestationNonceModel.expires_at < now - NONCE_GRACE
        ),
    }
    return {name: (await session.execute(stmt)).rowcount or 0 for name, stmt in statements.items()}  # type: ignore[attr-defined]
