"""Read indicator feeds: STIX 2.1 bundles, MISP feed events and CSV/text lists (issue 17).

Each reader turns the downloaded document into ``FeedIndicator`` values (canonical type and value, with
the TLP, confidence and expiry the feed gives, or ``None`` for the subscription's defaults). A document
that is not what its kind promises raises ``FeedFormatError`` with the reason; the caller then keeps
the feed's previous indicators.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import stix2
from stix2.exceptions import STIXError
from stix2patterns.v21.pattern import Pattern

from aurorasoc.core.vocabulary import IOCType
from aurorasoc.intel.extraction import classify_ioc, internal_address

FEED_KINDS = ("stix", "misp", "csv", "text")


class FeedFormatError(ValueError):
    """The document is not a valid feed of its kind; the message says why."""


@dataclass(frozen=True)
class FeedIndicator:
    type: str
    value: str
    tlp: str | None = None
    confidence: float | None = None
    expires_at: datetime | None = None
    description: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


_TLP_MARKINGS = {
    stix2.TLP_WHITE.id: "clear",
    stix2.TLP_GREEN.id: "green",
    stix2.TLP_AMBER.id: "amber",
    stix2.TLP_RED.id: "red",
    # TLP 2.0 marking definitions (STIX 2.1 extension, OASIS-published ids)
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber",  # amber+strict
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
}
# STIX cyber-observable property paths that name an indicator value.
_STIX_PATHS = {
    ("ipv4-addr", "value"), ("ipv6-addr", "value"), ("domain-name", "value"), ("url", "value"),
    ("email-addr", "value"), ("file", "hashes"),
}  # fmt: skip
_MISP_TYPES = {
    "ip-dst", "ip-src", "domain", "hostname", "url", "uri", "md5", "sha1", "sha256", "email-src", "email-dst",
    "email", "link",
}  # fmt: skip


def typed(value: str) -> tuple[str, str] | None:
    """``(type, canonical value)`` of a feed value; paths, registry keys and private addresses are skipped."""
    found = classify_ioc(value)
    if found is None or found[0] in (IOCType.FILE_PATH, IOCType.REGISTRY_KEY):
        return None
    if found[0] is IOCType.IP and internal_address(found[1]):  # would match every internal event
        return None
    return found[0].value, found[1]


def _json(data: bytes, what: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FeedFormatError(f"{what} is not valid JSON: {exc}") from None


# --- STIX 2.1 ------------------------------------------------------------------------------------


def _stix_values(pattern: str) -> Iterator[str]:
    try:
        comparisons = Pattern(pattern).inspect().comparisons
    except Exception as exc:  # stix2patterns raises its own ParseException types
        raise FeedFormatError(f"invalid STIX pattern {pattern[:120]!r}: {exc}") from None
    for object_type, items in comparisons.items():
        for path, operator, literal in items:
            if operator == "=" and (object_type, path[0]) in _STIX_PATHS:
                yield str(literal).strip("'").replace("\\'", "'")


def read_stix(data: bytes) -> list[FeedIndicator]:
    """Indicators of a STIX 2.1 bundle: ``pattern_type: stix`` equality comparisons, not revoked."""
    try:
        bundle = stix2.parse(data.decode("utf-8", errors="strict"), allow_custom=True, version="2.1")
    except (STIXError, ValueError, UnicodeDecodeError) as exc:
        raise FeedFormatError(f"not a STIX 2.1 bundle: {exc}") from None
    if getattr(bundle, "type", None) != "bundle":
        raise FeedFormatError(f"not a STIX 2.1 bundle: top-level object is a {getattr(bundle, 'type', '?')}")
    found: list[FeedIndicator] = []
    for obj in bundle.get("objects", []):
        if obj.get("type") != "indicator" or obj.get("revoked") or obj.get("pattern_type") != "stix":
            continue
        tlp = next(
            (_TLP_MARKINGS[ref] for ref in obj.get("object_marking_refs", []) if ref in _TLP_MARKINGS), None
        )
        confidence = obj.get("confidence")
        for value in _stix_values(obj["pattern"]):
            if (key := typed(value)) is not None:
                found.append(
                    FeedIndicator(
                        *key, tlp=tlp, confidence=None if confidence is None else confidence / 100,
                        expires_at=obj.get("valid_until"), description=obj.get("name"),
                        tags=tuple(obj.get("labels", [])),
                    )
                )  # fmt: skip
    return found


# --- MISP feeds ----------------------------------------------------------------------------------


def read_misp_manifest(data: bytes) -> list[str]:
    """The event uuids a MISP feed's ``manifest.json`` lists."""
    manifest = _json(data, "MISP manifest.json")
    if not isinstance(manifest, dict) or not all(isinstance(v, dict) for v in manifest.values()):
        raise FeedFormatError("MISP manifest.json must map event uuids to event summaries")
    return list(manifest)


def _misp_tlp(tags: Iterable[Any]) -> str | None:
    for tag in tags:
        name = str(tag.get("name", "")).lower() if isinstance(tag, dict) else ""
        if name.startswith("tlp:"):
            level = name[4:].replace("white", "clear").split("+")[0]
            if level in ("clear", "green", "amber", "red"):
                return level
    return None


def _misp_attributes(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from event.get("Attribute") or []
    for obj in event.get("Object") or []:
        yield from obj.get("Attribute") or []


def _misp_value(attribute: dict[str, Any]) -> str | None:
    kind, value = str(attribute.get("type", "")), str(attribute.get("value", ""))
    if "|" in kind:  # ip-dst|port, filename|sha256, domain|ip: keep the indicator half
        first, second = kind.split("|", 1)
        left, _, right = value.partition("|")
        kind, value = (first, left) if first in _MISP_TYPES else (second, right)
    return value if kind in _MISP_TYPES else None


def read_misp_event(data: bytes, uuid: str) -> list[FeedIndicator]:
    """The ``to_ids`` attributes of one MISP feed event (``{"Event": {...}}``), TLP from its tags."""
    document = _json(data, f"MISP event {uuid}")
    event = document.get("Event") if isinstance(document, dict) else None
    if not isinstance(event, dict):
        raise FeedFormatError(f"MISP event {uuid} has no 'Event' object")
    event_tlp = _misp_tlp(event.get("Tag") or [])
    found: list[FeedIndicator] = []
    for attribute in _misp_attributes(event):
        if not attribute.get("to_ids") or (value := _misp_value(attribute)) is None:
            continue
        if (key := typed(value)) is not None:
            tlp = _misp_tlp(attribute.get("Tag") or []) or event_tlp
            found.append(FeedIndicator(*key, tlp=tlp, description=str(event.get("info") or "")[:500] or None))
    return found


# --- CSV and plain text lists --------------------------------------------------------------------


def _lines(data: bytes) -> list[str]:
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise FeedFormatError(f"indicator list is not UTF-8 text: {exc}") from None
    if text.lstrip()[:1] == "<":
        raise FeedFormatError("indicator list looks like an HTML/XML page, not a list")
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def read_text(data: bytes) -> list[FeedIndicator]:
    """One indicator per line (``#`` comments); unrecognised lines are skipped."""
    return [FeedIndicator(*key) for line in _lines(data) if (key := typed(line.strip())) is not None]


def read_csv(data: bytes, column: str | None = None) -> list[FeedIndicator]:
    """abuse.ch-style CSV: ``#`` comments; ``column`` names the value column, else each row's first IOC."""
    rows = list(csv.reader(io.StringIO("\n".join(_lines(data)))))
    index: int | None = None
    if column is not None:
        header = [cell.strip().lower() for cell in rows[0]] if rows else []
        if column.lower() not in header:
            raise FeedFormatError(f"CSV column {column!r} not found in header {header[:20]}")
        index, rows = header.index(column.lower()), rows[1:]
    found: list[FeedIndicator] = []
    for row in rows:
        cells = [row[index]] if index is not None and index < len(row) else row
        key = next((k for cell in cells if (k := typed(cell.strip())) is not None), None)
        if key is not None:
            found.append(FeedIndicator(*key))
    return found
