"""The ingest pipeline: store events in ``siem_logs``, run Sigma rules, raise alerts (spec §13.2-13.4).

It lives in ``siem`` (above ``detection`` and ``alerts``) because it writes SIEM rows and alerts;
``detection`` keeps the engine it calls.

Events are handled in batches of at most ``BATCH_SIZE``: rule evaluation (on SQLite before the write
transaction starts), one bulk insert of the log rows, one ``AlertService.create_many`` call, one
commit — and only then the alert events are published, so consumers never see uncommitted alerts.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aurorasoc.alerts.events import AlertEvent, publish_alert_events
from aurorasoc.alerts.models import AlertModel
from aurorasoc.alerts.service import AlertService
from aurorasoc.alerts.statistics import note_alerts_created
from aurorasoc.core.db import get_session_factory
from aurorasoc.core.ecs import ENTITY_COLUMNS
from aurorasoc.core.metrics import DETECTION_EVAL, DETECTION_RULE_HITS
from aurorasoc.core.vocabulary import AlertCreate, NormalizedEvent, Severity
from aurorasoc.detection.models import DetectionRuleModel
from aurorasoc.detection.sigma.correlation import CorrelationHit
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.detection.sigma.rules import RuleHit
from aurorasoc.detection.stats import count_hit_days
from aurorasoc.intel.extraction import canonicalize_techniques, classify_ioc, extract_observables
from aurorasoc.intel.matching import match_indicators
from aurorasoc.intel.observables import resolve_indicators
from aurorasoc.siem.entity_days import count_entity_days
from aurorasoc.siem.log_store import MAX_RAW_CHARS, clip, not_stored, store_unseen

BATCH_SIZE = 500
MAX_FIELD_CHARS = 200
MAX_CORRELATION_LOG_IDS = 50
_EVE_SEVERITY = {1: Severity.HIGH, 2: Severity.MEDIUM, 3: Severity.LOW}
_LEVELS = {"informational": Severity.INFO, **{s.value: s for s in Severity}}
# Entity columns siem_logs has had from the start (filled by ``_log_row`` itself).
_LOG_BASE_COLUMNS = frozenset({"host", "user_name", "src_ip", "dst_ip"})
_LOG_ENTITY_COLUMNS = tuple(c for c in ENTITY_COLUMNS.values() if c not in _LOG_BASE_COLUMNS)


@dataclass
class BatchResult:
    """What one ``process`` call did; ``merge`` accumulates results across calls."""

    events: int = 0
    replayed: int = 0
    alerts_created: int = 0
    deduplicated: int = 0
    rule_hits: Counter[str] = field(default_factory=Counter)
    rule_titles: dict[str, str] = field(default_factory=dict)
    alert_ids: list[uuid.UUID] = field(default_factory=list)

    def merge(self, other: BatchResult) -> None:
        self.events += other.events
        self.replayed += other.replayed
        self.alerts_created += other.alerts_created
        self.deduplicated += other.deduplicated
        self.rule_hits.update(other.rule_hits)
        self.rule_titles.update(other.rule_titles)
        self.alert_ids.extend(other.alert_ids)


def _chunks(events: Iterable[NormalizedEvent], size: int) -> Iterator[list[NormalizedEvent]]:
    iterator = iter(events)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _assets(event: NormalizedEvent) -> list[str]:
    return [f"{kind}:{value}" for kind, value in (("host", event.host), ("user", event.user_name)) if value]


def _describe(description: str | None, matched: dict[str, Any]) -> str:
    """The rule's description plus the event values the rule looked at (each clipped)."""
    lines = [f"{key}: {str(value)[:MAX_FIELD_CHARS]}" for key, value in matched.items() if value is not None]
    parts = [(description or "").strip(), "Matched fields:\n" + "\n".join(lines) if lines else ""]
    return "\n\n".join(p for p in parts if p)[:20_000]


def hit_to_alert(hit: RuleHit, event: NormalizedEvent, log_id: uuid.UUID) -> AlertCreate:
    """A Sigma rule hit as an ``AlertCreate`` (spec §13.4)."""
    rule = hit.rule
    product, category, service = rule.logsource
    return AlertCreate(
        title=rule.title[:500],
        severity=_severity(rule.level),
        source=(event.product or event.source)[:128],
        description=_describe(rule.description, hit.matched_fields),
        **_evidence(event),
        mitre_techniques=canonicalize_techniques(rule.tags),
        affected_assets=_assets(event),
        raw_log=clip(event.raw, MAX_RAW_CHARS),
        metadata={
            "rule_uid": rule.id,
            "rule_title": rule.title,
            "log_ids": [str(log_id)],
            "logsource": {"product": product, "category": category, "service": service},
        },
    )


def _evidence(event: NormalizedEvent) -> dict[str, Any]:
    """Event time, entities and observables of a single-event alert (spec §27); indicators come later."""
    return {
        "first_seen_at": event.timestamp,
        "last_seen_at": event.timestamp,
        "entities": dict(event.entities or {}),
        "observables": extract_observables(event),
    }


def _severity(level: str | None) -> Severity:
    return _LEVELS.get((level or "").lower(), Severity.MEDIUM)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def correlation_to_alert(hit: CorrelationHit) -> AlertCreate:
    """A correlation hit as an ``AlertCreate`` (spec §13.7): one alert for the whole window."""
    rule, spec, found = hit.rule, hit.rule.correlation, hit.contributions
    assert spec is not None
    group_iocs = [value for value in hit.group.values() if classify_ioc(value) is not None]
    assets = [f"host:{e.host}" for e in found if e.host] + [f"user:{e.user}" for e in found if e.user]
    window = {"start": hit.start.isoformat(), "end": hit.end.isoformat(), "seconds": spec.timespan}
    group = ", ".join(f"{k}={v}" for k, v in hit.group.items()) or "all events"
    summary = f"{spec.type}: {hit.count} from {', '.join(b.title for b in hit.bases)} ({group})"
    observed = _unique([*group_iocs, *(ioc for e in found for ioc in e.iocs)])
    hosts = _unique(e.host for e in found if e.host)
    users = _unique(e.user for e in found if e.user)
    entities = {"host.name": hosts[0]} if len(hosts) == 1 else {}
    entities.update({"user.name": users[0]} if len(users) == 1 else {})
    return AlertCreate(
        title=rule.title[:500],
        severity=_severity(rule.level),
        source=found[0].source[:128],
        description="\n\n".join(p for p in ((rule.description or "").strip(), summary) if p)[:20_000],
        first_seen_at=hit.start,
        last_seen_at=hit.end,
        entities=entities,
        observables=[
            {"type": typed[0].value, "value": typed[1], "role": "correlation"}
            for value in observed
            if (typed := classify_ioc(value)) is not None
        ],
        mitre_techniques=canonicalize_techniques([*rule.tags, *(tag for b in hit.bases for tag in b.tags)]),
        affected_assets=_unique(assets),
        metadata={
            "rule_uid": rule.id,
            "rule_title": rule.title,
            "log_ids": _unique(e.log_id for e in found)[:MAX_CORRELATION_LOG_IDS],
            "correlation": {"type": spec.type, "count": hit.count, "window": window, "group": hit.group},
        },
    )


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def eve_alert(event: NormalizedEvent, log_id: uuid.UUID) -> AlertCreate | None:
    """Suricata EVE ``alert`` records become alerts directly (passthrough, spec §13.4)."""
    fields = event.fields
    signature = fields.get("alert.signature")
    if event.format != "eve" or fields.get("event_type") != "alert" or not signature:
        return None
    return AlertCreate(
        title=str(signature)[:500],
        severity=_EVE_SEVERITY.get(fields.get("alert.severity"), Severity.LOW),  # type: ignore[arg-type]
        source=(event.product or event.source)[:128],
        description=clip(event.message, 20_000),
        **_evidence(event),
        mitre_techniques=canonicalize_techniques(_as_list(fields.get("alert.metadata.mitre_technique_id"))),
        affected_assets=_assets(event),
        raw_log=clip(event.raw, MAX_RAW_CHARS),
        metadata={
            "rule_uid": f"suricata:{fields.get('alert.signature_id')}",
            "rule_title": str(signature),
            "log_ids": [str(log_id)],
            "passthrough": "eve",
        },
    )


class DetectionPipeline:
    """Stores events and turns rule hits into alerts, batch by batch."""

    def __init__(
        self,
        engine: SigmaEngine,
        session_factory: async_sessionmaker[AsyncSession] | None = None,
        *,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.engine = engine
        self.session_factory = session_factory or get_session_factory()
        self.batch_size = min(batch_size, BATCH_SIZE)

    async def process(self, events: Iterable[NormalizedEvent]) -> BatchResult:
        total = BatchResult()
        for chunk in _chunks(events, self.batch_size):
            total.merge(await self._process_batch(chunk))
        return total

    def _evaluate(self, events: list[NormalizedEvent]) -> dict[int, list[RuleHit]]:
        """The rule hits of each event (stateless, pure CPU), keyed by the event object's identity."""
        with DETECTION_EVAL.time():
            return {id(event): self.engine.evaluate(event) for event in events}

    def _detect(
        self,
        batch: list[NormalizedEvent],
        ids: list[uuid.UUID],
        result: BatchResult,
        evaluated: dict[int, list[RuleHit]],
    ) -> list[AlertCreate]:
        """Alerts for a batch: rule hits (unless they only feed correlations), correlation hits, EVE."""
        alerts: list[AlertCreate] = []
        correlation = self.engine.correlation
        for event, log_id in zip(batch, ids, strict=True):
            hits = evaluated[id(event)]
            for hit in hits:
                result.rule_hits[hit.rule.id] += 1
                result.rule_titles[hit.rule.id] = hit.rule.title
                if not correlation.silences(hit.rule.id):
                    alerts.append(hit_to_alert(hit, event, log_id))
            for fired in correlation.observe(event, hits, str(log_id)):
                result.rule_hits[fired.rule.id] += 1
                result.rule_titles[fired.rule.id] = fired.rule.title
                alerts.append(correlation_to_alert(fired))
            if (passthrough := eve_alert(event, log_id)) is not None:
                alerts.append(passthrough)
        return alerts

    async def _process_batch(self, batch: list[NormalizedEvent]) -> BatchResult:
        async with self.session_factory() as session:
            candidates, prints, evaluated = batch, None, {}
            if session.bind.dialect.name == "sqlite":
                # SQLite has one writer for the whole store: the first INSERT takes it until the commit,
                # so the rules run before it (on the events not stored yet), not while telemetry,
                # alert writes and other batches wait.
                candidates, prints = await not_stored(session, batch)
                evaluated = self._evaluate(candidates)
            fresh, ids = await store_unseen(session, candidates, prints)
            result = BatchResult(events=len(fresh), replayed=len(batch) - len(fresh))
            if not fresh:
                await session.commit()
                return result
            evaluated = evaluated or self._evaluate(fresh)
            alerts = self._detect(fresh, ids, result, evaluated)
            alerts += await match_indicators(session, fresh, ids, alerts)  # feed indicators (§27.3)
            await resolve_indicators(session, alerts)
            outcomes = await AlertService(session).create_many(alerts) if alerts else []
            await self._count_rule_hits(session, result.rule_hits)
            await count_entity_days(session, fresh)
            await session.commit()
        note_alerts_created(session.bind, sum(1 for _, created in outcomes if created))
        await self._publish(outcomes, result)
        return result

    @staticmethod
    async def _count_rule_hits(session: AsyncSession, hits: Counter[str]) -> None:
        """Keep ``detection_rules.hit_count``/``last_hit_at`` and the hits per day current.

        One executemany in rule-id order: concurrent workers lock the counter rows in the same order,
        so they wait for each other briefly instead of deadlocking (and retrying whole batches).
        """
        if not hits:
            return
        now = datetime.now(UTC)
        ordered = dict(sorted(hits.items()))
        await count_hit_days(session, ordered, now)
        for rule_uid, count in ordered.items():
            DETECTION_RULE_HITS.labels(rule_uid).inc(count)
        rules: Table = DetectionRuleModel.__table__  # type: ignore[assignment]
        statement = (
            update(rules)
            .where(rules.c.rule_uid == bindparam("uid"))
            .values(
                hit_count=rules.c.hit_count + bindparam("hits"),
                last_hit_at=now,
                # Keep updated_at: it signals rule *edits* to the detection worker.
                updated_at=rules.c.updated_at,
            )
        )
        connection = await session.connection()
        await connection.execute(statement, [{"uid": uid, "hits": n} for uid, n in ordered.items()])

    @staticmethod
    async def _publish(outcomes: list[tuple[AlertModel, bool]], result: BatchResult) -> None:
        """The batch's alert events in one ``publish_many`` (one round trip on Redis, not one per alert)."""
        events: list[tuple[AlertModel, AlertEvent]] = []
        for alert, created in outcomes:
            if created:
                result.alerts_created += 1
                result.alert_ids.append(alert.id)
            else:
                result.deduplicated += 1
            events.append((alert, "created" if created else "deduplicated"))
        await publish_alert_events(events)
