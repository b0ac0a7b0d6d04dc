"""Rule activity for tuning (issue #16): hits per day, last hit, noisiest rules, rules never fired."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import Depends, Query
from pydantic import BaseModel

from aurorasoc.core.auth import require_permission
from aurorasoc.core.web.deps import DbSession, require_database
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.detection.stats import rule_stats

router = IndexedRouter(prefix="/detections", tags=["detections"])


class RuleActivityOut(BaseModel):
    rule_uid: str
    title: str
    enabled: bool
    hit_count: int
    last_hit_at: datetime | None
    per_day: list[int]
    in_window: int


class RuleStatsOut(BaseModel):
    days: list[date]
    noisiest: list[RuleActivityOut]
    never_fired: int
    never_fired_rules: list[dict[str, Any]]


@router.get(
    "/rule-stats",
    response_model=RuleStatsOut,
    summary="Hits per day of the noisiest rules; enabled rules that never fired. Permission: siem:read",
    dependencies=[Depends(require_permission("siem:read")), Depends(require_database)],
)
async def get_rule_stats(
    session: DbSession,
    days: int = Query(14, ge=1, le=90),
    limit: int = Query(20, ge=1, le=200),
) -> RuleStatsOut:
    stats = await rule_stats(session, days=days, limit=limit)
    return RuleStatsOut(
        days=stats.days,
        noisiest=[RuleActivityOut(**{**vars(a), "in_window": a.in_window}) for a in stats.noisiest],
        never_fired=stats.never_fired,
        never_fired_rules=stats.never_fired_rules,
    )
