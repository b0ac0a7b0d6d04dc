"""Host and user inventories with a risk score (spec §13.8).

Both inventories join what the SIEM saw (events per entity and day, ``siem_entity_days``: the event
counts are in whole UTC days) with what detection raised (alerts whose ``host``/``user_name`` entity
column names it) over a recent window. The window admits evidence that
happened recently *or* reached AuroraSOC recently: imported evidence keeps its event time (spec
§27.1), and a host from last year's logs ingested today is still one the analyst is working on.
"Last seen" stays the event time. Risk is a bounded sum of the severity weights of the entity's
*open* alerts, so closing alerts lowers it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.core.ecs import is_service_account
from aurorasoc.core.vocabulary import AlertStatus
from aurorasoc.siem.entity_days import entity_days

EntityKind = Literal["host", "user"]
WINDOW = timedelta(days=7)
SEVERITY_WEIGHT = {"critical": 40, "high": 20, "medium": 8, "low": 2, "info": 0}
CLOSED = frozenset({AlertStatus.RESOLVED.value, AlertStatus.FALSE_POSITIVE.value})
TOP_TECHNIQUES = 5
TECHNIQUE_ROWS = 20_000


@dataclass
class EntitySummary:
    name: str
    kind: EntityKind
    last_seen: datetime | None = None
    event_count: int = 0
    alert_count: int = 0
    open_alert_count: int = 0
    top_techniques: list[str] = field(default_factory=list)
    open_weight: int = 0  # the uncapped sum behind ``risk``: ranks entities that all reach 100

    @property
    def risk(self) -> int:
        return risk_score(self.open_weight)

    @property
    def service_account(self) -> bool:
        """A built-in or machine account (``NT AUTHORITY\\SYSTEM``, ``WS01$``): the system's activity."""
        return self.kind == "user" and is_service_account(self.name)


def risk_score(open_weight: int) -> int:
    """min(100, Σ weight of the open alerts): critical 40, high 20, medium 8, low 2 (spec §13.8)."""
    return min(100, open_weight)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((t for t in (a, b) if t is not None), default=None)


async def _from_logs(
    session: AsyncSession, kind: EntityKind, since: datetime, found: dict[str, EntitySummary]
) -> None:
    for name, count, last in await entity_days(session, kind, since.date()):
        entity = found.setdefault(name, EntitySummary(name, kind))
        entity.event_count, entity.last_seen = count, _later(entity.last_seen, last)


async def _from_alerts(
    session: AsyncSession, kind: EntityKind, since: datetime, found: dict[str, EntitySummary]
) -> None:
    """Counts, open severity weight and last event per entity, aggregated in SQL over the indexed
    ``host``/``user_name`` columns (spec §27.2). Reading every alert of the window to parse its
    assets in Python grew with the store: an import stores all of its alerts "recently"."""
    column = AlertModel.host if kind == "host" else AlertModel.user_name
    is_open = AlertModel.status.not_in(CLOSED)
    weight = case(SEVERITY_WEIGHT, value=AlertModel.severity, else_=0)
    rows = await session.execute(
        select(
            column,
            func.count(),
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((is_open, weight), else_=0)),
            func.max(AlertModel.last_seen_at),
        )
        .where(_recent_alert(since), column.is_not(None))
        .group_by(column)
    )
    for name, count, open_count, open_weight, last_seen in rows:
        entity = found.setdefault(name, EntitySummary(name, kind))
        entity.alert_count, entity.open_alert_count = int(count), int(open_count or 0)
        entity.open_weight = int(open_weight or 0)
        entity.last_seen = _later(entity.last_seen, last_seen)


def _recent_alert(since: datetime) -> ColumnElement[bool]:
    return or_(AlertModel.last_seen_at >= since, AlertModel.created_at >= since)


async def _top_techniques(
    session: AsyncSession, kind: EntityKind, since: datetime, entities: list[EntitySummary]
) -> None:
    """The most frequent techniques of the entities shown (one page), from at most
    ``TECHNIQUE_ROWS`` of their recent alerts."""
    by_name = {e.name: e for e in entities if e.alert_count}
    if not by_name:
        return
    column = AlertModel.host if kind == "host" else AlertModel.user_name
    rows = await session.execute(
        select(column, AlertModel.mitre_techniques)
        .where(_recent_alert(since), column.in_(list(by_name)))
        .limit(TECHNIQUE_ROWS)
    )
    counts: dict[str, Counter[str]] = {}
    for name, techniques in rows:
        counts.setdefault(name, Counter()).update(techniques or [])
    for name, counted in counts.items():
        by_name[name].top_techniques = [t for t, _ in counted.most_common(TOP_TECHNIQUES)]


async def entity_inventory(
    session: AsyncSession,
    kind: EntityKind,
    *,
    q: str | None = None,
    now: datetime | None = None,
    skip: int = 0,
    limit: int | None = None,
) -> tuple[list[EntitySummary], int]:
    """One page of the entities active or ingested in the last 7 days, riskiest first (then the
    heaviest open alert load, then most recently seen), and how many there are."""
    since = (now or datetime.now(UTC)) - WINDOW
    found: dict[str, EntitySummary] = {}
    await _from_logs(session, kind, since, found)
    await _from_alerts(session, kind, since, found)
    entities = [e for e in found.values() if not q or q.lower() in e.name.lower()]
    epoch = datetime.min.replace(tzinfo=UTC)
    entities.sort(key=lambda e: (e.risk, e.open_weight, e.last_seen or epoch), reverse=True)
    page = entities[skip : None if limit is None else skip + limit]
    await _top_techniques(session, kind, since, page)
    return page, len(entities)
