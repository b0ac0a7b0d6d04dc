"""Log parsers: bytes or files in, ``NormalizedEvent`` (or ``ParseError`` per bad record) out.

Bad input never raises out of the iterators: each damaged record yields a ``ParseError`` with its position
and parsing continues. Only an unreadable file raises ``OSError`` (at call time). Gzip input is
decompressed transparently, recognised by its magic bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from aurorasoc.detection.normalize import build_event
from aurorasoc.detection.parsers.auditd import parse_auditd
from aurorasoc.detection.parsers.base import ParseError, ParseResult, ParseStream
from aurorasoc.detection.parsers.cef import parse_cef
from aurorasoc.detection.parsers.detect import (
    EVTX_MAGIC,
    GZIP_MAGIC,
    canonical_format,
    detect_format,
    gunzip,
)
from aurorasoc.detection.parsers.eve import parse_eve
from aurorasoc.detection.parsers.evtx_reader import parse_evtx
from aurorasoc.detection.parsers.json_lines import parse_json
from aurorasoc.detection.parsers.syslog import parse_syslog
from aurorasoc.detection.parsers.weblog import parse_weblog
from aurorasoc.detection.parsers.zeek import parse_zeek

__all__ = ["ParseError", "ParseResult", "detect_format", "parse_bytes", "parse_file"]

TextParser = Callable[..., ParseStream]


def parse_lines(text: str, *, source: str) -> ParseStream:
    """Plain text: one event per non-empty line, host = source name, message = the line."""
    for line in text.splitlines():
        if line.strip():
            yield build_event({"message": line}, format="line", source=source, raw=line, host=source)


_TEXT_PARSERS: dict[str, TextParser] = {
    "json": parse_json,
    "eve": parse_eve,
    "zeek": parse_zeek,
    "syslog": parse_syslog,
    "cef": parse_cef,
    "line": parse_lines,
    "auditd": parse_auditd,
    "weblog": parse_weblog,
}


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


def _parse_data(data: bytes, fmt: str, source: str) -> ParseStream:
    damage: ParseError | None = None
    if data[:2] == GZIP_MAGIC:
        data, damage = gunzip(data)
    chosen = detect_format(data[:4096]) if fmt == "auto" else fmt
    if chosen == "evtx":
        yield from parse_evtx(data, source=source)
    else:
        yield from _TEXT_PARSERS[chosen](_decode(data), source=source)
    if damage is not None:
        yield damage


def parse_bytes(data: bytes, *, format: str = "auto", source: str = "upload") -> Iterator[ParseResult]:
    """Parse in-memory log data; ``format`` is auto or one of ``detect.FORMATS`` (or an alias)."""
    return _parse_data(data, canonical_format(format), source)


def parse_file(path: Path | str, *, format: str = "auto", source: str | None = None) -> Iterator[ParseResult]:
    """Parse a log file (``.gz`` or not); the Rust EVTX reader streams plain EVTX files from disk."""
    path = Path(path)
    fmt = canonical_format(format)
    name = source or path.name
    with path.open("rb") as handle:
        head = handle.read(len(EVTX_MAGIC))
        if head == EVTX_MAGIC and fmt in ("auto", "evtx"):
            return parse_evtx(path, source=name)
        data = head + handle.read()
    return _parse_data(data, fmt, name)
