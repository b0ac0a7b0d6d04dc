"""ArcSight CEF: ``CEF:Version|Vendor|Product|DeviceVersion|SignatureID|Name|Severity|Extension``.

Accepted bare or behind a syslog header (whose host/time are used when the extension has none).
Header fields unescape ``\\|`` and ``\\\\``; extension values unescape ``\\=``, ``\\\\``, ``\\n`` and
``\\r``. Extension keys are kept verbatim (``src``, ``dst``, ``suser``…); the header lands in
``deviceVendor``, ``deviceProduct``, ``deviceVersion``, ``deviceEventClassId``, ``name``, ``severity``
and ``cefVersion``.
"""

from __future__ import annotations

import re
from typing import Any

from aurorasoc.core.vocabulary import NormalizedEvent, Severity
from aurorasoc.siem.normalize import build_event, parse_timestamp
from aurorasoc.siem.parsers.base import ParseError, ParseStream
from aurorasoc.siem.parsers.syslog import parse_syslog_line

HEADER_KEYS = ("deviceVendor", "deviceProduct", "deviceVersion", "deviceEventClassId", "name", "severity")
_HEADER_SPLIT = re.compile(r"(?<!\\)((?:\\\\)*)\|")
_HEADER_UNESCAPE = re.compile(r"\\([|\\])")
_EXT_KEY = re.compile(r"(?:^|\s)([A-Za-z0-9_.\-\[\]]+)=")
_EXT_UNESCAPE = re.compile(r"\\([=\\nr])")
_EXT_ESCAPES = {"=": "=", "\\": "\\", "n": "\n", "r": "\r"}
_WORD_SEVERITY = {"low": 2, "medium": 5, "high": 8, "very-high": 10}


def cef_severity(value: Any) -> Severity:
    """0-3 low, 4-6 medium, 7-8 high, 9-10 critical (spec §13.4); CEF words map likewise."""
    text = str(value).strip().lower()
    number = _WORD_SEVERITY.get(text)
    if number is None:
        try:
            number = int(float(text))
        except ValueError:
            return Severity.INFO
    if number >= 9:
        return Severity.CRITICAL
    if number >= 7:
        return Severity.HIGH
    return Severity.MEDIUM if number >= 4 else Severity.LOW


def _split_header(body: str) -> list[str]:
    """Split on unescaped pipes: at most 7 header fields, the 8th part is the raw extension."""
    parts: list[str] = []
    start = 0
    for match in _HEADER_SPLIT.finditer(body):
        if len(parts) == 7:
            break
        pipe = match.end() - 1
        parts.append(_HEADER_UNESCAPE.sub(r"\1", body[start:pipe]))
        start = pipe + 1
    parts.append(body[start:])
    return parts


def parse_extension(text: str) -> dict[str, str]:
    """``key=value`` pairs; a value runs until the next `` key=``."""
    matches = list(_EXT_KEY.finditer(text))
    result: dict[str, str] = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        value = text[match.end() : end].rstrip()
        result[match.group(1)] = _EXT_UNESCAPE.sub(lambda m: _EXT_ESCAPES[m.group(1)], value)
    return result


def parse_cef_line(line: str, *, source: str) -> NormalizedEvent | ParseError:
    """One CEF record (optionally behind a syslog header)."""
    start = line.find("CEF:")
    if start < 0:
        return ParseError("", "no CEF: marker")
    parts = _split_header(line[start + 4 :])
    if len(parts) < 8:
        return ParseError("", f"CEF header has {len(parts) - 1} of 7 fields")
    fields: dict[str, Any] = {"cefVersion": parts[0]}
    fields.update(zip(HEADER_KEYS, parts[1:7], strict=True))
    fields.update(parse_extension(parts[7]))
    prefix = parse_syslog_line(line[:start].rstrip() + " -", source=source) if start else None
    header_host = prefix.host if isinstance(prefix, NormalizedEvent) else None
    timestamp = parse_timestamp(fields.get("rt")) or (
        prefix.timestamp if isinstance(prefix, NormalizedEvent) else None
    )
    return build_event(
        fields, format="cef", source=source, raw=line, severity=cef_severity(fields["severity"]),
        timestamp=timestamp, event_id=fields["deviceEventClassId"] or None,
        host=fields.get("dvchost") or header_host, message=fields.get("msg") or fields["name"],
    )  # fmt: skip


def parse_cef(text: str, *, source: str) -> ParseStream:
    """Parse CEF text, one record per line."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        result = parse_cef_line(line, source=source)
        yield ParseError(f"line {number}", result.message) if isinstance(result, ParseError) else result
