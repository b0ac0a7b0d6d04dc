"""Match event observables against active feed indicators (spec §27.3, issue 17).

An observable becomes an indicator by threat intel when a feed lists it: ``iocs`` rows with a ``feed``,
status ``active`` and an ``expires_at`` still ahead. A matching event marks the alerts it raised with
``metadata.intel_matches`` (indicator, feed, TLP, confidence, expiry, as they were at match time); an
event that raised none raises a "Threat intel match" alert of its own.

Cost: the lower-cased values of the active feed indicators are cached per database for
``INDEX_TTL_SECONDS`` (and dropped when this process imports a feed). An event's field values and message
tokens are looked up in that set (no regex extraction); only the hits are typed and re-checked against the
database, so an indicator that expired since the cache was built never matches. No feeds: one cheap query.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import AlertCreate, IOCStatus, NormalizedEvent, Severity
from aurorasoc.intel.extraction import classify_ioc, extract_iocs
from aurorasoc.intel.models import IOCModel

IOCKey = tuple[str, str]
INTEL_RULE_UID = "intel:indicator-match"
INDEX_TTL_SECONDS = 30.0
_LOOKUP_CHUNK = 400
_TOKEN_SPLIT = re.compile(r"[\s\"'<>()\[\]{},;|]+")
_index: dict[str, tuple[float, frozenset[str]]] = {}


def invalidate_indicator_index() -> None:
    """Forget the cached indicator values (a feed was just imported)."""
    _index.clear()


async def indicator_index(session: AsyncSession) -> frozenset[str]:
    """Lower-cased values of the active feed indicators, cached per database for a short while."""
    key = str(session.get_bind().engine.url)
    cached = _index.get(key)
    if cached is not None and time.monotonic() - cached[0] < INDEX_TTL_SECONDS:
        return cached[1]
    rows = await session.scalars(
        select(IOCModel.value).where(
            IOCModel.feed.is_not(None),
            IOCModel.status == IOCStatus.ACTIVE.value,
            or_(IOCModel.expires_at.is_(None), IOCModel.expires_at > utcnow()),
        )
    )
    values = frozenset(value.lower() for value in rows)
    _index[key] = (time.monotonic(), values)
    return values


def _texts(event: NormalizedEvent) -> Iterator[str]:
    """Every string an indicator could hide in: columns, field values (and their tokens), message tokens."""
    for value in (event.src_ip, event.dst_ip, event.host):
        if value:
            yield value
    for value in event.fields.values():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, str) and item:
                yield item
                if len(item) < 4096:
                    yield from _TOKEN_SPLIT.split(item)
    if event.message:
        yield from _TOKEN_SPLIT.split(event.message)


def _candidates(event: NormalizedEvent, index: frozenset[str]) -> list[IOCKey]:
    found: dict[IOCKey, None] = {}
    for text in _texts(event):
        for piece in (text, text.rpartition("=")[2]):  # "SHA256=<hash>" style values
            value = piece.strip().rstrip(".,:").lower()
            if value in index and (typed := classify_ioc(piece.strip().rstrip(".,:"))) is not None:
                found.setdefault((typed[0].value, typed[1]), None)
    return list(found)


async def active_indicators(
    session: AsyncSession, keys: set[IOCKey], now: datetime
) -> dict[IOCKey, IOCModel]:
    """The feed indicators among ``keys`` that match now (active, not expired)."""
    found: dict[IOCKey, IOCModel] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), _LOOKUP_CHUNK):
        rows = await session.scalars(
            select(IOCModel).where(
                tuple_(IOCModel.type, IOCModel.value).in_(ordered[start : start + _LOOKUP_CHUNK]),
                IOCModel.feed.is_not(None),
                IOCModel.status == IOCStatus.ACTIVE.value,
                or_(IOCModel.expires_at.is_(None), IOCModel.expires_at > now),
            )
        )
        found.update({(row.type, row.value): row for row in rows})
    return found


def match_record(ioc: IOCModel) -> dict[str, Any]:
    """What an alert keeps of a matched indicator (a snapshot: the feed may change later)."""
    return {
        "ioc_id": str(ioc.id),
        "type": ioc.type,
        "value": ioc.value,
        "feed": ioc.feed,
        "source": ioc.source,
        "tlp": ioc.tlp,
        "confidence": ioc.confidence,
        "expires_at": ioc.expires_at.isoformat() if ioc.expires_at else None,
    }


def _severity(matches: list[dict[str, Any]]) -> Severity:
    best = max(float(m["confidence"]) for m in matches)
    return Severity.HIGH if best >= 0.8 else Severity.MEDIUM if best >= 0.5 else Severity.LOW


def intel_alert(event: NormalizedEvent, log_id: uuid.UUID, matches: list[dict[str, Any]]) -> AlertCreate:
    """An alert for an event whose only finding is a feed indicator."""
    first = matches[0]
    title = f"Threat intel match: {first['type']} {first['value']} ({first['feed']})"
    lines = [
        f"{m['value']} - feed {m['feed']}, TLP:{m['tlp'].upper()}, confidence {m['confidence']:.2f}"
        for m in matches
    ]
    return AlertCreate(
        title=title[:500],
        severity=_severity(matches),
        source=(event.product or event.source)[:128],
        description="An observable of this event is an active threat-intel indicator.\n\n" + "\n".join(lines),
        iocs=extract_iocs(event),
        affected_assets=[f"{k}:{v}" for k, v in (("host", event.host), ("user", event.user_name)) if v],
        raw_log=(event.raw or "")[: 64 * 1024] or None,
        metadata={
            "rule_uid": INTEL_RULE_UID,
            "rule_title": "Threat intel indicator match",
            "log_ids": [str(log_id)],
            "intel_matches": matches,
        },
    )


async def match_indicators(
    session: AsyncSession,
    events: Sequence[NormalizedEvent],
    log_ids: Sequence[uuid.UUID],
    alerts: Sequence[AlertCreate],
) -> list[AlertCreate]:
    """Mark ``alerts`` whose event carries an active indicator; return alerts for unmarked events."""
    index = await indicator_index(session)
    if not index:
        return []
    per_event = [_candidates(event, index) for event in events]
    wanted = {key for keys in per_event for key in keys}
    active = await active_indicators(session, wanted, utcnow()) if wanted else {}
    if not active:
        return []
    by_log: dict[str, list[AlertCreate]] = defaultdict(list)
    for alert in alerts:
        for log_id in alert.metadata.get("log_ids", [])[:1]:
            by_log[str(log_id)].append(alert)
    raised: list[AlertCreate] = []
    for event, log_id, keys in zip(events, log_ids, per_event, strict=True):
        matches = [match_record(active[key]) for key in dict.fromkeys(keys) if key in active]
        if not matches:
            continue
        owners = by_log.get(str(log_id))
        if not owners:
            raised.append(intel_alert(event, log_id, matches))
        for alert in owners or ():
            alert.metadata["intel_matches"] = matches
    return raised
