"""Telemetry baselines from the last 24 h of ``cps_telemetry`` (spec §18 ANOMALOUS_TELEMETRY).

The correlation engine keeps running baselines in memory; seeding them from the stored readings
when a consumer starts means a restart (or a second consumer) judges outliers at once, against
the same 24 h window, instead of waiting for ``MIN_SAMPLES`` new readings per metric.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.cps.correlation import BASELINE_RESET, Baseline
from aurorasoc.cps.models import CPSTelemetryModel


def baseline_from_moments(count: int, mean: float, mean_of_squares: float, started: datetime) -> Baseline:
    """Welford state equivalent to ``count`` readings with these first two moments."""
    m2 = max(0.0, (mean_of_squares - mean * mean) * count)  # clamp float noise on constant series
    return Baseline(started=started, n=count, mean=mean, m2=m2)


async def load_baselines(session: AsyncSession, now: datetime) -> dict[tuple[str, str], Baseline]:
    """One aggregate query: count, mean and mean square per (device, metric) over the window."""
    t = CPSTelemetryModel
    since = now - BASELINE_RESET
    stmt = (
        select(t.device_id, t.metric, func.count(), func.avg(t.value), func.avg(t.value * t.value))
        .where(t.timestamp >= since)
        .group_by(t.device_id, t.metric)
    )
    return {
        (device_id, metric): baseline_from_moments(int(n), float(mean), float(square), since)
        for device_id, metric, n, mean, square in (await session.execute(stmt)).all()
        if n
    }
