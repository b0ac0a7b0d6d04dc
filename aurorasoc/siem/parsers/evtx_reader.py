"""EVTX files through the ``evtx`` package (Rust): records come out as JSON and take the JSON path.

The Rust parser silently drops chunks cut short by truncation, so the file header's chunk count is checked
against the size and a ``ParseError`` reports the damage after the readable events.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import orjson
from evtx import PyEvtxParser, PyRecordsIterator

from aurorasoc.siem.normalize import normalize_record
from aurorasoc.siem.parsers.base import ParseError, ParseStream

EVTX_MAGIC = b"ElfFile\x00"
_HEADER_SIZE = 4096
_CHUNK_SIZE = 65536
_CHUNK_COUNT_OFFSET = 0x2A
_MAX_CONSECUTIVE_ERRORS = 100


def _truncation(header: bytes, size: int) -> ParseError | None:
    if len(header) < _CHUNK_COUNT_OFFSET + 2:
        return ParseError(f"byte {size}", "truncated EVTX: file header incomplete")
    (chunks,) = struct.unpack_from("<H", header, _CHUNK_COUNT_OFFSET)
    expected = _HEADER_SIZE + chunks * _CHUNK_SIZE
    if size < expected:
        message = f"truncated EVTX: header announces {chunks} chunks ({expected} bytes)"
        return ParseError(f"byte {size}", message)
    return None


def parse_evtx(data: bytes | Path, *, source: str) -> ParseStream:
    """Events of an EVTX file (a path is read by the Rust parser directly) or of its bytes."""
    if isinstance(data, Path):
        with data.open("rb") as handle:
            header = handle.read(_HEADER_SIZE)
        size = data.stat().st_size
        target: str | io.BytesIO = str(data)
    else:
        header, size, target = data[:_HEADER_SIZE], len(data), io.BytesIO(data)
    truncated = _truncation(header, size)
    try:
        records = PyEvtxParser(target).records_json()
    except (OSError, RuntimeError) as exc:
        yield truncated or ParseError("byte 0", f"unreadable EVTX: {exc}")
        return
    yield from _records(records, source)
    if truncated is not None:
        yield truncated


def _records(iterator: PyRecordsIterator, source: str) -> ParseStream:
    number, failures = 0, 0
    while failures < _MAX_CONSECUTIVE_ERRORS:
        number += 1
        try:
            record = next(iterator)
        except StopIteration:
            return
        except Exception as exc:  # the Rust binding raises plain RuntimeError/OSError per bad record
            failures += 1
            yield ParseError(f"record {number}", f"corrupt EVTX record: {exc}")
            continue
        failures = 0
        if record is None:
            continue
        data = record["data"]
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            yield ParseError(f"record {number}", f"invalid record JSON: {exc}")
            continue
        yield normalize_record(parsed, format="evtx", source=source, raw=data)
