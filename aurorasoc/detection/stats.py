"""Rule activity (issue #16 scope 2): hits per day, last hit, the noisiest rules, rules that never fired."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.detection.models import DetectionRuleModel, RuleHitDayModel

NEVER_FIRED_SHOWN = 50


async def count_hit_days(session: AsyncSession, hits: Mapping[str, int], at: datetime) -> None:
    """Add ``hits`` to each rule's row for the UTC day of ``at`` (an upsert: workers run concurrently)."""
    if not hits:
        return
    rows = [{"rule_uid": uid[:128], "day": at.astimezone(UTC).date(), "hits": n} for uid, n in hits.items()]
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = insert(RuleHitDayModel).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["rule_uid", "day"], set_={"hits": RuleHitDayModel.hits + statement.excluded.hits}
        )
    )


@dataclass
class RuleActivity:
    rule_uid: str
    title: str
    enabled: bool
    hit_count: int
    last_hit_at: datetime | None
    per_day: list[int]

    @property
    def in_window(self) -> int:
        return sum(self.per_day)


@dataclass
class RuleStats:
    days: list[date]
    noisiest: list[RuleActivity] = field(default_factory=list)
    never_fired: int = 0
    never_fired_rules: list[dict[str, Any]] = field(default_factory=list)


async def rule_stats(session: AsyncSession, *, days: int, limit: int) -> RuleStats:
    """The ``limit`` rules with most hits over the last ``days`` UTC days, and the enabled rules never hit."""
    today = datetime.now(UTC).date()
    window = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    counts: dict[str, dict[date, int]] = defaultdict(dict)
    rows = await session.execute(select(RuleHitDayModel).where(RuleHitDayModel.day >= window[0]))
    for (row,) in rows.all():
        counts[row.rule_uid][row.day] = int(row.hits)
    top = sorted(counts, key=lambda uid: -sum(counts[uid].values()))[:limit]
    rules = {
        row.rule_uid: row
        for row in (
            await session.scalars(select(DetectionRuleModel).where(DetectionRuleModel.rule_uid.in_(top)))
        ).all()
    }
    stats = RuleStats(days=window)
    for uid in top:
        rule = rules.get(uid)
        stats.noisiest.append(
            RuleActivity(
                rule_uid=uid,
                title=rule.title if rule else uid,
                enabled=rule.enabled if rule else False,
                hit_count=rule.hit_count if rule else sum(counts[uid].values()),
                last_hit_at=rule.last_hit_at if rule else None,
                per_day=[counts[uid].get(day, 0) for day in window],
            )
        )
    never = (
        DetectionRuleModel.enabled.is_(True),
        DetectionRuleModel.supported.is_(True),
        DetectionRuleModel.hit_count == 0,
    )
    stats.never_fired = int(await session.scalar(select(func.count()).where(*never)) or 0)
    shown = await session.execute(
        select(DetectionRuleModel.rule_uid, DetectionRuleModel.title, DetectionRuleModel.level)
        .where(*never)
        .order_by(DetectionRuleModel.title)
        .limit(NEVER_FIRED_SHOWN)
    )
    stats.never_fired_rules = [{"rule_uid": u, "title": t, "level": lv} for u, t, lv in shown.all()]
    return stats
