"""Follow log files as they grow (spec §13.1 *Files*).

Line formats are read from the persisted byte ``offset`` up to the last complete line, so a record
being written is never parsed half-way. EVTX and gzip files cannot be appended to line by line: they
are re-read whole when they change and the records already taken (``offset`` counts them) are
skipped. A new inode means the file was rotated, a size below the offset means it was truncated;
either way reading restarts at the beginning of the new content.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.siem.parsers import ParseError, parse_bytes, parse_file
from aurorasoc.siem.parsers.detect import EVTX_MAGIC, GZIP_MAGIC, detect_format

MAX_READ_BYTES = 8 * 1024 * 1024
_WHOLE_FILE_MAGIC = (EVTX_MAGIC, GZIP_MAGIC)


@dataclass(frozen=True)
class TailPosition:
    """Where a file was left: bytes consumed (line formats) or records consumed (EVTX, gzip)."""

    offset: int = 0
    inode: int | None = None
    size: int = 0


@dataclass
class TailChunk:
    """What one poll of one file produced."""

    position: TailPosition
    events: list[NormalizedEvent] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    restarted: bool = False


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(4096)


def _split(results: list[NormalizedEvent | ParseError], chunk: TailChunk, offset: int = 0) -> TailChunk:
    for item in results:
        if isinstance(item, ParseError):
            where = f"{item.position} after byte {offset}" if offset else item.position
            chunk.errors.append(ParseError(where, item.message))
        else:
            chunk.events.append(item)
    return chunk


def _read_records(path: Path, start: TailPosition, stat: os.stat_result, fmt: str, source: str) -> TailChunk:
    """Whole-file formats: parse everything, keep the records after the ones already taken."""
    if stat.st_size == start.size:
        return TailChunk(position=start)
    results = list(islice(parse_file(path, format=fmt, source=source), start.offset, None))
    position = TailPosition(start.offset + len(results), stat.st_ino, stat.st_size)
    return _split(results, TailChunk(position=position))


def _read_lines(path: Path, start: TailPosition, fmt: str, source: str, max_bytes: int) -> TailChunk:
    """Line formats: the complete lines written since ``start.offset``."""
    with path.open("rb") as handle:
        stat = os.fstat(handle.fileno())
        handle.seek(start.offset)
        data = handle.read(max_bytes)
    end = data.rfind(b"\n") + 1
    if end == 0 and len(data) < max_bytes:
        end = 0  # only a partial line so far: wait for its newline
    elif end == 0:
        end = len(data)  # one line longer than a whole read: take it rather than stall forever
    position = TailPosition(start.offset + end, stat.st_ino, stat.st_size)
    if end == 0:
        return TailChunk(position=position)
    results = list(parse_bytes(data[:end], format=fmt, source=source))
    return _split(results, TailChunk(position=position), start.offset)


def read_new(
    path: Path,
    position: TailPosition,
    *,
    format: str = "auto",
    source: str | None = None,
    max_bytes: int = MAX_READ_BYTES,
) -> TailChunk:
    """Everything appended to ``path`` since ``position``; raises ``OSError`` if it cannot be read."""
    stat = path.stat()
    head = _head(path)
    whole = head.startswith(_WHOLE_FILE_MAGIC)
    shrunk = stat.st_size < (position.size if whole else max(position.size, position.offset))
    restarted = (position.inode is not None and stat.st_ino != position.inode) or shrunk
    start = TailPosition(inode=stat.st_ino) if restarted else position
    name = source or path.name
    if whole:
        chunk = _read_records(path, start, stat, format, name)
    else:
        fmt = detect_format(head) if format == "auto" else format
        chunk = _read_lines(path, start, fmt, name, max_bytes)
    chunk.restarted = restarted
    return chunk
