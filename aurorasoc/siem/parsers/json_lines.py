"""JSON input: NDJSON, a JSON array, a single object, or concatenated (pretty-printed) objects.

``iter_json_records`` yields ``(record, raw_text, position)`` or ``ParseError`` and is shared by the JSON, EVE
and Zeek parsers. NDJSON lines go through orjson; anything that is not one object per line falls back to
walking the text with ``json.JSONDecoder.raw_decode``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson

from aurorasoc.siem.normalize import normalize_record
from aurorasoc.siem.parsers.base import ParseError, ParseStream
from aurorasoc.siem.parsers.limits import RecordRejected, too_deep

JsonItem = tuple[dict[str, Any], str] | ParseError

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\r\n"


def _looks_like_ndjson(text: str) -> bool:
    first = text.lstrip(_WHITESPACE).split("\n", 1)[0].strip()
    if not first.startswith("{"):
        return False
    try:
        return isinstance(orjson.loads(first), dict)
    except orjson.JSONDecodeError:
        return False


def _ndjson(text: str) -> Iterator[JsonItem]:
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        try:
            value = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            yield ParseError(f"line {number}", f"invalid JSON: {exc}")
            continue
        if isinstance(value, dict):
            yield value, stripped
        else:
            yield ParseError(f"line {number}", f"expected a JSON object, got {type(value).__name__}")


def _array(text: str) -> Iterator[JsonItem] | None:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, list):
        return None
    return _array_items(value)


def _array_items(values: list[Any]) -> Iterator[JsonItem]:
    for number, item in enumerate(values, start=1):
        if isinstance(item, dict):
            yield item, orjson.dumps(item).decode()
        else:
            yield ParseError(f"record {number}", f"expected a JSON object, got {type(item).__name__}")


def _stream(text: str) -> Iterator[JsonItem]:
    """Concatenated JSON values; after a bad one, resume at the next line that opens an object."""
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= end:
            return
        try:
            value, after = _DECODER.raw_decode(text, pos)
        except RecursionError:
            yield RecordRejected(f"line {text.count(chr(10), 0, pos) + 1}", "nesting too deep")
            return
        except json.JSONDecodeError as exc:
            yield ParseError(f"line {text.count(chr(10), 0, exc.pos) + 1}", f"invalid JSON: {exc.msg}")
            nxt = text.find("\n{", pos + 1)
            if nxt < 0:
                return
            pos = nxt + 1
            continue
        if isinstance(value, dict):
            yield value, text[pos:after]
        elif isinstance(value, list):
            yield from _array_items(value)
        else:
            yield ParseError(f"line {text.count(chr(10), 0, pos) + 1}", "expected a JSON object")
        pos = after


def _layout(text: str) -> Iterator[JsonItem]:
    if _looks_like_ndjson(text):
        return _ndjson(text)
    if text.lstrip(_WHITESPACE).startswith("["):
        items = _array(text)
        if items is not None:
            return items
    return _stream(text)


def iter_json_records(text: str) -> Iterator[JsonItem]:
    """Walk JSON text in whichever of the supported layouts it uses; over-deep records are rejected."""
    for number, item in enumerate(_layout(text), start=1):
        reason = None if isinstance(item, ParseError) else too_deep(item[0])
        yield item if reason is None else RecordRejected(f"record {number}", reason)


def parse_json(text: str, *, source: str, format: str = "json") -> ParseStream:
    """Parse JSON text into normalised events (Windows event JSON, ECS or arbitrary objects)."""
    for item in iter_json_records(text):
        if isinstance(item, ParseError):
            yield item
        else:
            record, raw = item
            yield normalize_record(record, format=format, source=source, raw=raw)
