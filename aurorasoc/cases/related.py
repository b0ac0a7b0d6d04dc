"""Alerts related to one alert, with the reasons correlation would give (spec §27.4).

The same bounded, indexed look-up case correlation uses (:func:`find_peers`: shared host, user
or indicator, event-time spans within the correlation window), over open and closed alerts
alike: an investigator wants last week's resolved alert on the host too. Reading the newest
stored alerts instead found nothing for an import of old logs, and a shared technique alone
related every PowerShell alert to every other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.cases.correlation import Facts, Reason, common_shared, lookup_of, match_reasons
from aurorasoc.cases.peers import find_peers
from aurorasoc.core.config import get_settings


@dataclass(frozen=True)
class Related:
    alert: AlertModel
    reasons: list[Reason]


async def related_alerts(session: AsyncSession, alert: AlertModel, limit: int) -> list[Related]:
    """Up to ``limit`` alerts sharing a host, user or indicator with ``alert`` within the window,
    those with the most reasons first, then the nearest in event time; indicators seen on many
    hosts (common observables) do not count."""
    new = Facts.of_alert(alert)
    window = timedelta(minutes=get_settings().detection.correlation_window_minutes)
    [peers] = await find_peers(session, [lookup_of(alert, new)], window, open_only=False)
    common = await common_shared(session, [new], [peers])
    scored = [(p, match_reasons(new, [Facts.of_alert(p)], common)) for p in peers]
    scored = [(p, reasons) for p, reasons in scored if reasons]
    scored.sort(key=lambda entry: (-len(entry[1]), abs(entry[0].first_seen_at - alert.first_seen_at)))
    chosen = scored[:limit]
    rows = await _alerts(session, [p.id for p, _ in chosen])
    return [Related(rows[p.id], reasons) for p, reasons in chosen if p.id in rows]


async def _alerts(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, AlertModel]:
    if not ids:
        return {}
    found = await session.scalars(select(AlertModel).where(AlertModel.id.in_(ids)))
    return {a.id: a for a in found.all()}
