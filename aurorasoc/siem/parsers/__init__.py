"""Log parsers: bytes or files in, ``NormalizedEvent`` (or ``ParseError`` per bad record) out.

Bad input never raises out of the iterators: each damaged record yields a ``ParseError`` with its position
and parsing continues. Only an unreadable file raises ``OSError`` (at call time). Gzip input is
decompressed transparently, recognised by its magic bytes; every read is bounded (see ``limits``).
"""

from __future__ import annotations

import hashlib
import io
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.siem.normalize import build_event
from aurorasoc.siem.parsers.auditd import parse_auditd
from aurorasoc.siem.parsers.base import ParseError, ParseResult, ParseStream
from aurorasoc.siem.parsers.cef import parse_cef
from aurorasoc.siem.parsers.detect import EVTX_MAGIC, GZIP_MAGIC, canonical_format, detect_format
from aurorasoc.siem.parsers.eve import parse_eve
from aurorasoc.siem.parsers.evtx_reader import parse_evtx
from aurorasoc.siem.parsers.json_lines import parse_json
from aurorasoc.siem.parsers.limits import (
    BoundedGunzip,
    DecompressionRefused,
    InputLimits,
    LimitExceeded,
    RecordRejected,
    check_event,
    line_blocks,
    read_bounded,
    shift_position,
)
from aurorasoc.siem.parsers.line_time import YEAR_ASSUMED, leading_time
from aurorasoc.siem.parsers.syslog import parse_syslog
from aurorasoc.siem.parsers.w3c import W3CLog
from aurorasoc.siem.parsers.weblog import parse_weblog
from aurorasoc.siem.parsers.zeek import parse_zeek

__all__ = [
    "InputLimits",
    "LimitExceeded",
    "ParseError",
    "ParseResult",
    "RecordRejected",
    "detect_format",
    "parse_bytes",
    "parse_file",
]

TextParser = Callable[..., ParseStream]


def parse_lines(text: str, *, source: str) -> ParseStream:
    """Plain text: one event per non-empty line, message = the line; no host is guessed.

    The file name is the event's log ``source``, never its host (spec §27.1). A line that starts
    with a time happened then (``line_time``); other lines carry their arrival time.
    """
    now = datetime.now(UTC)
    for line in text.splitlines():
        if not line.strip():
            continue
        if (found := leading_time(line, now)) is None:
            yield build_event({"message": line}, format="line", source=source, raw=line)
            continue
        timestamp, year_assumed = found
        yield build_event(
            {"message": line}, format="line", source=source, raw=line, timestamp=timestamp,
            time_source=YEAR_ASSUMED if year_assumed else "record",
        )  # fmt: skip


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
# One per input: a header read in one block of lines names the columns of the next blocks.
_STATEFUL_PARSERS: dict[str, Callable[[], TextParser]] = {"w3c": W3CLog}


_JSON_FORMATS = frozenset({"json", "eve", "zeek"})
_HEAD = 4096


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


_CONTROL_BYTES = bytes(set(range(32)) - set(b"\t\n\r\f") | {127})


def _looks_binary(head: bytes) -> bool:
    """Mostly control bytes or invalid UTF-8: random data, an archive, an image - not a text log.

    A share, never a single byte: a web server's access log keeps the raw bytes (NULs included) of a
    TLS handshake sent to its plain-HTTP port, and that log is evidence.
    """
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    invalid = head.decode("utf-8", errors="replace").count("\ufffd")
    return controls + invalid > len(head) // 10


def _ndjson_head(head: bytes) -> bool:
    """Whether JSON input is one object per line (streamable) rather than an array or pretty-printed."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    line, newline, _ = text.partition(b"\n")
    if not newline:
        return text.startswith(b"{")
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def _parse_text(stream: Any, head: bytes, fmt: str, source: str, limits: InputLimits) -> ParseStream:
    """Text in blocks of complete lines; a JSON array or pretty-printed JSON is read whole (bounded)."""
    parser = _STATEFUL_PARSERS[fmt]() if fmt in _STATEFUL_PARSERS else _TEXT_PARSERS[fmt]
    if fmt in _JSON_FORMATS and not _ndjson_head(head):
        data = read_bounded(stream, head, limits.max_document_bytes, "JSON that is not NDJSON")
        yield from parser(_decode(data), source=source)
        return
    for block in line_blocks(stream, head, limits):
        if isinstance(block, ParseError):
            yield block
            continue
        line_no, chunk = block
        for item in parser(_decode(chunk), source=source):
            yield shift_position(item, line_no - 1) if isinstance(item, ParseError) else item


def _parse_input(raw: BinaryIO, fmt: str, source: str, limits: InputLimits, evtx_name: bool) -> ParseStream:
    gz: BoundedGunzip | None = None
    stream: Any = raw
    if raw.read(2) == GZIP_MAGIC:
        stream = gz = BoundedGunzip(raw, limits)
    raw.seek(0)
    head = stream.read(_HEAD)
    if head.startswith(EVTX_MAGIC) and fmt in ("auto", "evtx"):
        data = read_bounded(stream, head, limits.max_decompressed_bytes, "EVTX data")
        yield from parse_evtx(data, source=source)
    elif fmt == "evtx" or (evtx_name and fmt == "auto"):
        yield ParseError("byte 0", "not an EVTX file: no ElfFile header (format is detected by content)")
    elif fmt == "auto" and _looks_binary(head):
        yield ParseError("byte 0", "binary data, not a supported log format (EVTX, gzip or text)")
    else:
        yield from _parse_text(stream, head, detect_format(head) if fmt == "auto" else fmt, source, limits)
    if gz is not None and gz.damage is not None:
        yield gz.damage


def _parse_stream(raw: BinaryIO, fmt: str, source: str, limits: InputLimits, evtx_name: bool) -> ParseStream:
    """Parse ``raw`` (closed at the end); a refused input ends with one ``LimitExceeded`` error."""
    try:
        yield from _parse_input(raw, fmt, source, limits, evtx_name)
    except DecompressionRefused as exc:
        yield LimitExceeded("input", str(exc))
    finally:
        raw.close()


REPEAT_MEMORY = 4096


def _guarded(results: ParseStream, limits: InputLimits) -> ParseStream:
    """Reject events over the field-count or field-length limit (counted, with the reason), and number
    byte-identical text records (see ``NormalizedEvent.repeat``).

    Identical lines share their timestamp, so they sit close together: the last ``REPEAT_MEMORY``
    distinct records are remembered (by digest, bounded memory), and the numbering depends only on
    the input's order, so ingesting the same file again gives the same fingerprints.
    """
    recent: OrderedDict[bytes, int] = OrderedDict()
    for number, item in enumerate(results, start=1):
        reason = check_event(item, limits) if isinstance(item, NormalizedEvent) else None
        if reason is not None:
            yield RecordRejected(f"record {number}", reason)
            continue
        if isinstance(item, NormalizedEvent) and item.raw and item.format != "evtx":
            key = hashlib.blake2b(item.raw.encode("utf-8", "surrogatepass"), digest_size=16).digest()
            item.repeat = recent.get(key, -1) + 1
            recent[key] = item.repeat
            recent.move_to_end(key)
            if len(recent) > REPEAT_MEMORY:
                recent.popitem(last=False)
        yield item


def parse_bytes(
    data: bytes, *, format: str = "auto", source: str = "upload", limits: InputLimits | None = None
) -> Iterator[ParseResult]:
    """Parse in-memory log data; ``format`` is auto or one of ``detect.FORMATS`` (or an alias)."""
    fmt = canonical_format(format)
    limits = limits or InputLimits.from_settings()
    return _guarded(_parse_stream(io.BytesIO(data), fmt, source, limits, False), limits)


def parse_file(
    path: Path | str, *, format: str = "auto", source: str | None = None, limits: InputLimits | None = None
) -> Iterator[ParseResult]:
    """Parse a log file (gzip or not) with bounded memory; the Rust EVTX reader streams EVTX from disk.

    The format is read from the content: a ``.evtx`` file without the EVTX header is one error, not text.
    """
    path = Path(path)
    fmt = canonical_format(format)
    name = source or path.name
    limits = limits or InputLimits.from_settings()
    handle = path.open("rb")
    try:
        magic = handle.read(len(EVTX_MAGIC))
        handle.seek(0)
    except OSError:
        handle.close()
        raise
    if magic == EVTX_MAGIC and fmt in ("auto", "evtx"):
        handle.close()
        return _guarded(parse_evtx(path, source=name), limits)
    evtx_name = path.suffix.lower() == ".evtx"
    return _guarded(_parse_stream(handle, fmt, name, limits, evtx_name), limits)
