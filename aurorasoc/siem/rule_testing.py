"""Dry-run a Sigma YAML against sample events or stored logs; nothing is written."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.errors import InvalidInput, NotFound
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.models import SiemLogModel
from aurorasoc.siem.normalize import normalize_record

# The event fields a stored row keeps (not its id, nor the parse-time repeat number).
_EVENT_COLUMNS = tuple(n for n in NormalizedEvent.model_fields if n != "id" and hasattr(SiemLogModel, n))


def compile_for_test(text: str) -> SigmaEngine:
    engine = SigmaEngine()
    try:
        engine.add_yaml(text, origin="test")
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_rule") from None
    return engine


def events_from_objects(objects: Sequence[dict[str, Any]]) -> list[NormalizedEvent]:
    """Sample events go through the JSON parser's normalisation, as ingested JSON would."""
    return [
        normalize_record(obj, format="json", source="rule-test", raw=orjson.dumps(obj).decode())
        for obj in objects
    ]


def event_from_log(row: SiemLogModel) -> NormalizedEvent:
    values = {name: getattr(row, name) for name in _EVENT_COLUMNS}
    return NormalizedEvent.model_validate({**values, "id": str(row.id)})


async def events_from_logs(session: AsyncSession, log_ids: Sequence[uuid.UUID]) -> list[NormalizedEvent]:
    """The stored logs, in the order asked; 404 naming the first id that does not exist."""
    rows = (await session.scalars(select(SiemLogModel).where(SiemLogModel.id.in_(log_ids)))).all()
    by_id = {row.id: row for row in rows}
    missing = [str(i) for i in log_ids if i not in by_id]
    if missing:
        raise NotFound(f"log {missing[0]} does not exist", missing=missing[:20])
    return [event_from_log(by_id[i]) for i in log_ids]


def evaluate(engine: SigmaEngine, events: Sequence[NormalizedEvent]) -> list[dict[str, Any]]:
    """Per event: the rules that matched it and the values of the fields they read."""
    results = []
    for index, event in enumerate(events):
        matches = [
            {"rule_id": hit.rule.id, "title": hit.rule.title, "matched_fields": hit.matched_fields}
            for hit in engine.evaluate(event)
        ]
        results.append({"index": index, "log_id": event.id, "matches": matches})
    return results
