"""What a case list shows beside each case: how many alerts it holds and when their events happened.

A case's event-time span is its alerts' (spec §27.1): a case built today from 2019 logs reads as
2019 activity. It is read for one page of cases at a time, in one grouped statement over the
``alerts.case_id`` index, rather than kept on the case row, so links, detaches and moves between
cases never have to keep a copy current.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel


@dataclass(frozen=True)
class CaseActivity:
    alert_count: int = 0
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None


async def case_activity(
    session: AsyncSession, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CaseActivity]:
    """Each case's alert count and event-time span; a case without alerts is absent."""
    if not case_ids:
        return {}
    stmt = (
        select(
            AlertModel.case_id,
            func.count(),
            func.min(AlertModel.first_seen_at),
            func.max(AlertModel.last_seen_at),
        )
        .where(AlertModel.case_id.in_(list(case_ids)))
        .group_by(AlertModel.case_id)
    )
    rows = (await session.execute(stmt)).tuples().all()
    return {case_id: CaseActivity(count, first, last) for case_id, count, first, last in rows if case_id}


def showcase_activity(alerts: Iterable[dict[str, Any]]) -> dict[str, CaseActivity]:
    """The same figures over showcase rows (dummy mode with the database down), keyed by case id."""
    spans: dict[str, list[dict[str, Any]]] = {}
    for alert in alerts:
        if alert.get("case_id"):
            spans.setdefault(alert["case_id"], []).append(alert)
    return {
        case_id: CaseActivity(
            len(members),
            min(datetime.fromisoformat(a["first_seen_at"]) for a in members),
            max(datetime.fromisoformat(a["last_seen_at"]) for a in members),
        )
        for case_id, members in spans.items()
    }
