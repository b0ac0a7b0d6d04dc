"""Detection pipeline: store events in ``siem_logs``, run Sigma rules, raise alerts (spec §13.2 to §13.4).

Events are handled in batches of at most ``BATCH_SIZE``: one bulk insert of the log rows, rule evaluation,
one ``AlertService.create_many`` call, one commit — and only then the alert events are published, so
consumers never see uncommitted alerts.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aurorasoc.core.db import get_session_factory
from aurorasoc.core.metrics import DETECTION_EVAL, DETECTION_RULE_HITS
from aurorasoc.core.models import AlertModel, DetectionRuleModel, SiemLogModel
from aurorasoc.detection.iocs_extract import canonicalize_techniques, classify_ioc, extract_iocs
from aurorasoc.detection.sigma_correlation import CorrelationHit
from aurorasoc.detection.sigma_engine import RuleHit, SigmaEngine
from aurorasoc.models.domain import AlertCreate, NormalizedEvent, Severity
from aurorasoc.services.alert_events import publish_alert_event
from aurorasoc.services.alerts import AlertService

BATCH_SIZE = 500
MAX_RAW_CHARS = 64 * 1024
MAX_FIELD_CHARS = 200
MAX_CORRELATION_LOG_IDS = 50
_EVE_SEVERITY = {1: Severity.HIGH, 2: Severity.MEDIUM, 3: Severity.LOW}
_LEVELS = {"informational": Severity.INFO, **{s.value: s for s in Severity}}


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


def _clip(value: str | None, limit: int) -> str | None:
    return value if value is None or len(value) <= limit else value[:limit]


def _log_row(event: NormalizedEvent, log_id: uuid.UUID) -> dict[str, Any]:
    return {
        "id": log_id,
        "created_at": datetime.now(UTC),
        "timestamp": event.timestamp,
        "received_at": event.received_at,
        "source": event.source[:128],
        "format": event.format,
        "product": event.product,
        "category": event.category,
        "service": event.service,
        "event_id": event.event_id,
        "host": _clip(event.host, 255),
        "user_name": _clip(event.user_name, 255),
        "src_ip": _clip(event.src_ip, 64),
        "src_port": event.src_port,
        "dst_ip": _clip(event.dst_ip, 64),
        "dst_port": event.dst_port,
        "severity": event.severity.value,
        "message": event.message,
        "fields": event.fields,
        "raw": _clip(event.raw, MAX_RAW_CHARS),
    }


async def _unseen(
    session: AsyncSession, batch: list[NormalizedEvent]
) -> tuple[list[NormalizedEvent], list[uuid.UUID]]:
    """Drop events already stored; give the rest their log ids.

    An event that arrives with an ``id`` (from the bus) keeps it as its ``siem_logs`` id, and storing
    its log row commits together with its alerts. A redelivered message (a worker died before
    acknowledging) therefore finds its events stored and skips them: no event is counted twice.
    """
    preset = [uuid.UUID(e.id) for e in batch if e.id]
    if not preset:
        return batch, [uuid.uuid4() for _ in batch]
    stored = set(
        (await session.execute(select(SiemLogModel.id).where(SiemLogModel.id.in_(preset)))).scalars()
    )
    fresh = [e for e in batch if not e.id or uuid.UUID(e.id) not in stored]
    return fresh, [uuid.UUID(e.id) if e.id else uuid.uuid4() for e in fresh]


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
        iocs=extract_iocs(event),
        mitre_techniques=canonicalize_techniques(rule.tags),
        affected_assets=_assets(event),
        raw_log=_clip(event.raw, MAX_RAW_CHARS),
        metadata={
            "rule_uid": rule.id,
            "rule_title": rule.title,
            "log_ids": [str(log_id)],
            "logsource": {"product": product, "category": category, "service": service},
        },
    )


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
    return AlertCreate(
        title=rule.title[:500],
        severity=_severity(rule.level),
        source=found[0].source[:128],
        description="\n\n".join(p for p in ((rule.description or "").strip(), summary) if p)[:20_000],
        iocs=_unique([*group_iocs, *(ioc for e in found for ioc in e.iocs)]),
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
        description=_clip(event.message, 20_000),
        iocs=extract_iocs(event),
        mitre_techniques=canonicalize_techniques(_as_list(fields.get("alert.metadata.mitre_technique_id"))),
        affected_assets=_assets(event),
        raw_log=_clip(event.raw, MAX_RAW_CHARS),
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

    def _detect(
        self, batch: list[NormalizedEvent], ids: list[uuid.UUID], result: BatchResult
    ) -> list[AlertCreate]:
        """Alerts for a batch: rule hits (unless they only feed correlations), correlation hits, EVE."""
        alerts: list[AlertCreate] = []
        correlation = self.engine.correlation
        for event, log_id in zip(batch, ids, strict=True):
            hits = self.engine.evaluate(event)
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
            fresh, ids = await _unseen(session, batch)
            result = BatchResult(events=len(fresh), replayed=len(batch) - len(fresh))
            if not fresh:
                return result
            with DETECTION_EVAL.time():
                alerts = self._detect(fresh, ids, result)
            await session.execute(
                insert(SiemLogModel), [_log_row(e, i) for e, i in zip(fresh, ids, strict=True)]
            )
            outcomes = await AlertService(session).create_many(alerts) if alerts else []
            await self._count_rule_hits(session, result.rule_hits)
            await session.commit()
        await self._publish(outcomes, result)
        return result

    @staticmethod
    async def _count_rule_hits(session: AsyncSession, hits: Counter[str]) -> None:
        """Keep ``detection_rules.hit_count``/``last_hit_at`` and the hits per day current."""
        from aurorasoc.services.rule_stats import count_hit_days

        now = datetime.now(UTC)
        await count_hit_days(session, hits, now)
        for rule_uid, count in hits.items():
            DETECTION_RULE_HITS.labels(rule_uid).inc(count)
            await session.execute(
                update(DetectionRuleModel)
                .where(DetectionRuleModel.rule_uid == rule_uid)
                .values(
                    hit_count=DetectionRuleModel.hit_count + count,
                    last_hit_at=now,
                    # Keep updated_at: it signals rule *edits* to the detection worker.
                    updated_at=DetectionRuleModel.updated_at,
                )
            )

    @staticmethod
    async def _publish(outcomes: list[tuple[AlertModel, bool]], result: BatchResult) -> None:
        for alert, created in outcomes:
            if created:
                result.alerts_created += 1
                result.alert_ids.append(alert.id)
            else:
                result.deduplicated += 1
            await publish_alert_event(alert, "created" if created else "deduplicated")
