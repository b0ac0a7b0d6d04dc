"""Host and user inventories with a risk score (spec §13.8).

Both inventories join what the SIEM saw (``siem_logs``) with what detection raised (alerts naming
the entity as ``host:``/``user:`` asset) over a recent window. The window admits evidence that
happened recently *or* reached AuroraSOC recently: imported evidence keeps its event time (spec
§27.1), and a host from last year's logs ingested today is still one the analyst is working on.
"Last seen" stays the event time. Risk is a bounded sum of the severity weights of the entity's
*open* alerts, so closing alerts lowers it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.core.vocabulary import AlertStatus
from aurorasoc.siem.models import SiemLogModel

EntityKind = Literal["host", "user"]
WINDOW = timedelta(days=7)
SEVERITY_WEIGHT = {"critical": 40, "high": 20, "medium": 8, "low": 2, "info": 0}
CLOSED = frozenset({AlertStatus.RESOLVED.value, AlertStatus.FALSE_POSITIVE.value})
TOP_TECHNIQUES = 5


@dataclass
class EntitySummary:
    name: str
    kind: EntityKind
    last_seen: datetime | None = None
    event_count: int = 0
    alert_count: int = 0
    open_alert_count: int = 0
    risk: int = 0
    top_techniques: list[str] = field(default_factory=list)
    _techniques: Counter[str] = field(default_factory=Counter, repr=False)


def risk_score(open_severities: Iterable[str]) -> int:
    """min(100, Σ weight): critical 40, high 20, medium 8, low 2."""
    return min(100, sum(SEVERITY_WEIGHT.get(s, 0) for s in open_severities))


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((t for t in (a, b) if t is not None), default=None)


async def _from_logs(
    session: AsyncSession, kind: EntityKind, since: datetime, found: dict[str, EntitySummary]
) -> None:
    column = SiemLogModel.host if kind == "host" else SiemLogModel.user_name
    rows = await session.execute(
        select(column, func.count(), func.max(SiemLogModel.timestamp))
        .where(or_(SiemLogModel.timestamp >= since, SiemLogModel.received_at >= since), column.is_not(None))
        .group_by(column)
    )
    for name, count, last in rows:
        entity = found.setdefault(name, EntitySummary(name, kind))
        entity.event_count, entity.last_seen = int(count), _later(entity.last_seen, last)


async def _from_alerts(
    session: AsyncSession, kind: EntityKind, since: datetime, found: dict[str, EntitySummary]
) -> None:
    prefix = f"{kind}:"
    rows = await session.execute(
        select(
            AlertModel.affected_assets, AlertModel.severity, AlertModel.status,
            AlertModel.mitre_techniques, AlertModel.last_seen_at,
        ).where(or_(AlertModel.last_seen_at >= since, AlertModel.created_at >= since))
    )  # fmt: skip
    open_severities: dict[str, list[str]] = {}
    for assets, severity, status, techniques, last_seen in rows:
        for asset in assets or []:
            if not asset.startswith(prefix):
                continue
            entity = found.setdefault(asset[len(prefix) :], EntitySummary(asset[len(prefix) :], kind))
            entity.alert_count += 1
            entity.last_seen = _later(entity.last_seen, last_seen)
            entity._techniques.update(techniques or [])
            if status not in CLOSED:
                entity.open_alert_count += 1
                open_severities.setdefault(entity.name, []).append(severity)
    for name, severities in open_severities.items():
        found[name].risk = risk_score(severities)


async def entity_inventory(
    session: AsyncSession, kind: EntityKind, *, q: str | None = None, now: datetime | None = None
) -> list[EntitySummary]:
    """Entities active or ingested in the last 7 days, riskiest first (then most recently seen)."""
    since = (now or datetime.now(UTC)) - WINDOW
    found: dict[str, EntitySummary] = {}
    await _from_logs(session, kind, since, found)
    await _from_alerts(session, kind, since, found)
    entities = [e for e in found.values() if not q or q.lower() in e.name.lower()]
    for entity in entities:
        entity.top_techniques = [t for t, _ in entity._techniques.most_common(TOP_TECHNIQUES)]
    epoch = datetime.min.replace(tzinfo=UTC)
    entities.sort(key=lambda e: (e.risk, e.last_seen or epoch), reverse=True)
    return entities
