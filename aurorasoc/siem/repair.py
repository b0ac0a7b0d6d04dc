"""One bad record never takes its batch (spec §28 "Writes").

``repair`` makes an event storable everywhere: NUL characters are stripped (PostgreSQL text and
``jsonb`` refuse them), lone surrogates — what invalid UTF-8 decodes to with ``surrogateescape`` —
become U+FFFD (neither asyncpg nor orjson can encode them), and a string longer than
``MAX_VALUE_CHARS`` is cut with a marker saying how much was dropped. What was done is recorded on the
event under ``fields["aurora.repaired"]`` so an analyst sees the stored record is not byte-exact.

``process_isolated`` runs a batch through the detection pipeline; when the batch fails for a reason
tied to its data (not a lost connection), it retries each event alone, so only the events that still
fail are rejected, each with its error text. The pipeline is idempotent per event id, so events of
the batch already stored are skipped, never duplicated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
import structlog
from sqlalchemy.exc import InterfaceError, OperationalError

from aurorasoc.core.vocabulary import NormalizedEvent

log = structlog.get_logger(__name__)

MAX_VALUE_CHARS = 256 * 1024
KEPT_CHARS = MAX_VALUE_CHARS - 64  # value + marker stay within the limit: repairing twice changes nothing
REPAIRED_KEY = "aurora.repaired"
_SURROGATES = re.compile("[\ud800-\udfff]")
_TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
_TEXT_ATTRS = (
    *("source", "product", "category", "service", "event_id", "host", "user_name", "src_ip", "dst_ip"),
    *("message", "raw", "id", "format", "time_source"),
)


class Pipeline(Protocol):
    async def process(self, events: Iterable[NormalizedEvent]) -> Any: ...


def _clean(value: str, where: str, notes: list[str]) -> str:
    if len(value) <= MAX_VALUE_CHARS and value.isascii() and "\x00" not in value:
        return value  # the common case, cheaply: an ASCII string holds no surrogate
    if "\x00" in value:
        value = value.replace("\x00", "")
        notes.append(f"{where}: NUL removed")
    if _SURROGATES.search(value):
        value = _SURROGATES.sub("\ufffd", value)
        notes.append(f"{where}: invalid UTF-8 replaced")
    if len(value) > MAX_VALUE_CHARS:
        notes.append(f"{where}: truncated from {len(value)} characters")
        value = f"{value[:KEPT_CHARS]}…[truncated {len(value) - KEPT_CHARS} characters]"
    return value


def _walk(value: Any, where: str, notes: list[str]) -> Any:
    if isinstance(value, str):
        return _clean(value, where, notes)
    if isinstance(value, dict):
        return {
            _clean(str(k), f"{where}.{k!r} key", notes): _walk(v, f"{where}.{k}", notes)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_walk(item, f"{where}[{n}]", notes) for n, item in enumerate(value)]
    return value


def _storable(value: Any) -> bool:
    """True when no string in ``value`` needs repair, decided in C: orjson refuses lone surrogates
    and non-string keys, escapes NUL as ``\\u0000``, and a dump no longer than the limit holds no
    longer string. A false alarm (a literal backslash-u0000, a large event) only costs the walk."""
    try:
        dumped = orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is one
        return False
    return len(dumped) <= MAX_VALUE_CHARS and b"\\u0000" not in dumped


def repair(event: NormalizedEvent) -> NormalizedEvent:
    """The event made storable; the same object when nothing needed repair."""
    notes: list[str] = []
    update: dict[str, Any] = {}
    for name in _TEXT_ATTRS:
        value = getattr(event, name)
        if isinstance(value, str) and (cleaned := _clean(value, name, notes)) is not value:
            update[name] = cleaned
    if not notes and _storable([event.fields, event.entities]):
        return event  # the common case: walking every field (building each path) cost ~20 % of ingest
    for name in ("fields", "entities"):
        before = len(notes)
        walked = _walk(getattr(event, name), name, notes)
        if len(notes) > before:
            update[name] = walked
    if not notes:
        return event
    fields = dict(update.get("fields", event.fields))
    fields[REPAIRED_KEY] = notes[:20]
    return event.model_copy(update={**update, "fields": fields})


@dataclass
class Rejected:
    """An event the store refused even alone, with the database's reason."""

    index: int
    event_id: str | None
    reason: str
    data: Any = None  # the event as JSON, for the dead-letter entry


@dataclass
class IsolatedResult:
    results: list[Any] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    repaired: int = 0


async def process_isolated(
    pipeline: Pipeline, events: list[NormalizedEvent], **context: Any
) -> IsolatedResult:
    """Repair, then store and detect ``events``; a data error costs only the events that cause it.

    Transient errors (database unreachable) propagate, so the caller's retry / redelivery applies.
    """
    fixed = [repair(e) for e in events]
    outcome = IsolatedResult(repaired=sum(a is not b for a, b in zip(events, fixed, strict=True)))
    try:
        outcome.results.append(await pipeline.process(fixed))
        return outcome
    except Exception as exc:
        if isinstance(exc, _TRANSIENT):
            raise
        log.warning("event_batch_failed_isolating", error=_reason(exc), events=len(fixed), **context)
    for index, event in enumerate(fixed):
        try:
            outcome.results.append(await pipeline.process([event]))
        except Exception as exc:
            if isinstance(exc, _TRANSIENT):
                raise
            rejected = Rejected(index, event.id, _reason(exc), event.model_dump(mode="json"))
            outcome.rejected.append(rejected)
            log.error("event_rejected", index=index, event_id=event.id, reason=rejected.reason, **context)
    return outcome


def _reason(exc: BaseException) -> str:
    """The error text without the SQL and parameters (which can be megabytes of event data)."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"[:500]
