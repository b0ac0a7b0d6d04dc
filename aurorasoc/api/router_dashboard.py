"""Overview statistics for the console's landing page (spec §10 ``GET /dashboard/stats``).

Sections without data behind them (the CPS fleet and correlated network attacks when serving
showcase rows) are present but ``null`` / empty and named in ``unavailable_sections``, so the
console can say so instead of showing invented numbers.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime, timedelta

from fastapi import Depends, Response
from pydantic import BaseModel
from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.alerts.schemas import AlertOut
from aurorasoc.alerts.service import CLOSED_STATUSES
from aurorasoc.cases.models import CaseModel
from aurorasoc.core.auth import require_permission
from aurorasoc.core.schemas import DataSource
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import CaseStatus, Severity
from aurorasoc.core.web.deps import DataSourceDep, DbSession
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import load_showcase, stamp_source
from aurorasoc.cps.schemas import FleetSummary
from aurorasoc.cps.service import CPSService
from aurorasoc.network.attacks import NetworkAttackService
from aurorasoc.network.schemas import NetworkAttackOut

router = IndexedRouter(prefix="/dashboard", tags=["dashboard"])

TREND_HOURS = 24
RECENT_ALERTS = 10
CLOSED_CASES = (CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value)
TOP_ATTACKS = 5
SHOWCASE_GAPS = ["cps_devices", "top_network_attacks"]


class TrendPoint(BaseModel):
    """Alerts created in the hour starting at ``hour``, per severity."""

    hour: datetime
    counts: dict[Severity, int]


class DashboardStats(BaseModel):
    open_alerts: dict[Severity, int]
    open_alerts_total: int
    open_cases: int
    trend: list[TrendPoint]
    recent_alerts: list[AlertOut]
    cps_devices: FleetSummary | None = None
    top_network_attacks: list[NetworkAttackOut] = []
    unavailable_sections: list[str] = []
    data_source: DataSource = "database"


def _severity_counts(pairs: list[tuple[str, int]]) -> dict[Severity, int]:
    counts = dict.fromkeys(Severity, 0)
    for severity, count in pairs:
        counts[Severity(severity)] += count
    return counts


def _hour_starts(now: datetime) -> list[datetime]:
    """The 24 hour buckets ending with the current (partial) hour, oldest first."""
    current = now.replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=TREND_HOURS - 1 - i) for i in range(TREND_HOURS)]


def _trend(hours: list[datetime], rows: list[tuple[int, str, int]]) -> list[TrendPoint]:
    points = [TrendPoint(hour=h, counts=dict.fromkeys(Severity, 0)) for h in hours]
    for index, severity, count in rows:
        points[index].counts[Severity(severity)] += count
    return points


async def _database_stats(session: AsyncSession) -> DashboardStats:
    open_filter = AlertModel.status.not_in(CLOSED_STATUSES)
    by_severity = await session.execute(
        select(AlertModel.severity, func.count()).where(open_filter).group_by(AlertModel.severity)
    )
    open_cases = await session.scalar(
        select(func.count()).select_from(CaseModel).where(CaseModel.status.not_in(CLOSED_CASES))
    )
    hours = _hour_starts(utcnow())
    bounds = [*hours, hours[-1] + timedelta(hours=1)]
    seen = AlertModel.last_seen_at  # event time (spec §27.1): an import of old logs is not "today"
    windows = enumerate(itertools.pairwise(bounds))
    bucket = case(*[(and_(seen >= lo, seen < hi), i) for i, (lo, hi) in windows])
    trend_rows = await session.execute(
        select(bucket.label("bucket"), AlertModel.severity, func.count())
        .where(seen >= bounds[0])
        .group_by(bucket, AlertModel.severity)
    )
    recent = await session.scalars(
        select(AlertModel).order_by(seen.desc(), AlertModel.id.desc()).limit(RECENT_ALERTS)
    )
    counts = _severity_counts([(s, n) for s, n in by_severity.all()])
    return DashboardStats(
        open_alerts=counts,
        open_alerts_total=sum(counts.values()),
        open_cases=open_cases or 0,
        trend=_trend(hours, [(int(i), s, n) for i, s, n in trend_rows.all() if i is not None]),
        recent_alerts=[AlertOut.model_validate(a) for a in recent],
        cps_devices=FleetSummary(**await CPSService(session).summary()),
        top_network_attacks=[
            NetworkAttackOut.model_validate(a) for a in await NetworkAttackService(session).top(TOP_ATTACKS)
        ],
    )


def _showcase_stats() -> DashboardStats:
    """Dummy mode with the database down: the same figures computed from the showcase rows."""
    alerts = load_showcase("alerts")
    open_rows = [a for a in alerts if a["status"] not in CLOSED_STATUSES]
    counts = _severity_counts(list(Counter(a["severity"] for a in open_rows).items()))
    recent = sorted(alerts, key=lambda a: str(a["last_seen_at"]), reverse=True)[:RECENT_ALERTS]
    return DashboardStats(
        open_alerts=counts,
        open_alerts_total=sum(counts.values()),
        open_cases=sum(1 for c in load_showcase("cases") if c["status"] not in CLOSED_CASES),
        trend=_trend(_hour_starts(utcnow()), []),
        recent_alerts=[AlertOut.model_validate(a) for a in recent],
        unavailable_sections=SHOWCASE_GAPS,
        data_source="showcase",
    )


@router.get(
    "/stats",
    response_model=DashboardStats,
    summary="Open alerts by severity, open cases, 24 h trend and recent alerts (event time), "
    "top network attacks. Permission: dashboard:read",
    dependencies=[Depends(require_permission("dashboard:read"))],
)
async def stats(session: DbSession, source: DataSourceDep, response: Response) -> DashboardStats:
    stamp_source(response, source)
    if source == "showcase":
        return _showcase_stats()
    return await _database_stats(session)
