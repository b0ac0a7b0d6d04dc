"""Input that cannot hurt: bounded decompression, streamed lines and per-record limits (issue #16 scope 4).

Every reader path (CLI, follow, HTTP, the Redis lane) goes through ``parse_file``/``parse_bytes``, and
they read through this module: gzip is inflated in bounded pieces and refused once it passes an absolute
size or a compression ratio; text is cut into blocks of complete lines so memory does not grow with the
file; a line, a field, a field count or a nesting depth over its limit rejects that record with a
``RecordRejected`` error that is counted like any parse error.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from aurorasoc.core.config import get_settings
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.siem.normalize import MAX_RAW_CHARS
from aurorasoc.siem.parsers.base import ParseError
from aurorasoc.siem.parsers.detect import GZIP_MAGIC

MAX_DEPTH = 32
READ_SIZE = 1024 * 1024
_MIN_RATIO_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class InputLimits:
    """Bounds applied while reading one input; ``from_settings`` reads the ``AURORA_INGEST_*`` values."""

    max_decompressed_bytes: int = 1024 * 1024 * 1024
    max_ratio: int = 100
    max_line_bytes: int = 1024 * 1024
    max_document_bytes: int = 64 * 1024 * 1024
    max_fields: int = 1000
    max_field_chars: int = 256 * 1024

    @classmethod
    def from_settings(cls) -> InputLimits:
        s = get_settings().detection
        return cls(
            max_decompressed_bytes=s.ingest_max_decompressed_mb * 1024 * 1024,
            max_ratio=s.ingest_max_compression_ratio,
            max_line_bytes=s.ingest_max_line_kb * 1024,
            max_fields=s.ingest_max_fields,
            max_field_chars=s.ingest_max_field_kb * 1024,
        )


@dataclass(frozen=True)
class LimitExceeded(ParseError):
    """The whole input was refused (decompression bomb, document too large): nothing after it is read."""


@dataclass(frozen=True)
class RecordRejected(ParseError):
    """One record broke a per-record limit and was skipped; reading goes on."""


class DecompressionRefused(Exception):
    """Raised inside the gzip reader; surfaces as a ``LimitExceeded`` error."""


class BoundedGunzip:
    """A read-only stream inflating every gzip member of ``raw`` in pieces of at most ``READ_SIZE``.

    Refuses (``DecompressionRefused``) once the output passes ``max_decompressed_bytes`` or, past the
    first 16 MiB, ``max_ratio`` times the compressed bytes consumed. Damage (corrupt or truncated
    stream) ends the output and is kept in ``damage`` so the caller can report it after the events.
    """

    def __init__(self, raw: BinaryIO, limits: InputLimits) -> None:
        self.raw = raw
        self.limits = limits
        self.damage: ParseError | None = None
        self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        self._pending = b""
        self._consumed = 0
        self._produced = 0
        self._done = False

    def _check(self) -> None:
        limits = self.limits
        if self._produced > limits.max_decompressed_bytes:
            mib = limits.max_decompressed_bytes // (1024 * 1024)
            raise DecompressionRefused(
                f"decompressed size exceeds {mib} MiB (AURORA_INGEST_MAX_DECOMPRESSED_MB)"
            )
        if self._produced > max(_MIN_RATIO_BYTES, limits.max_ratio * self._consumed):
            raise DecompressionRefused(
                f"compression ratio exceeds {limits.max_ratio}:1 (AURORA_INGEST_MAX_COMPRESSION_RATIO); "
                "refusing a likely decompression bomb"
            )

    def _next_member(self) -> bool:
        rest = self._inflater.unused_data
        if not rest:
            rest = self.raw.read(READ_SIZE)
            self._consumed += len(rest)
        if not rest:
            return False
        if rest[:2] != GZIP_MAGIC:
            return False  # trailing garbage after the last member is ignored, as gzip(1) does
        self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        self._pending = rest
        return True

    def read(self, size: int = READ_SIZE) -> bytes:
        """Up to ``size`` inflated bytes; ``b""`` at the end (or after damage)."""
        while not self._done:
            if not self._pending and self._inflater.eof and not self._next_member():
                self._done = True
                break
            if not self._pending:
                self._pending = self.raw.read(READ_SIZE)
                self._consumed += len(self._pending)
                if not self._pending:
                    self.damage = ParseError(f"byte {self._consumed}", "truncated gzip stream")
                    self._done = True
                    break
            try:
                out = self._inflater.decompress(self._pending, size)
            except zlib.error as exc:
                self.damage = ParseError(f"byte {self._consumed}", f"corrupt gzip stream: {exc}")
                self._done = True
                break
            # after the end of a member the rest is in unused_data; unconsumed_tail may be stale then
            self._pending = b"" if self._inflater.eof else self._inflater.unconsumed_tail
            if out:
                self._produced += len(out)
                self._check()
                return out
        return b""


def read_bounded(stream: Any, head: bytes, limit: int, what: str) -> bytes:
    """``head`` plus the rest of ``stream``, refused (``DecompressionRefused``) past ``limit`` bytes."""
    parts = [head]
    total = len(head)
    while piece := stream.read(READ_SIZE):
        total += len(piece)
        if total > limit:
            raise DecompressionRefused(f"{what} larger than {limit // 1024} KiB")
        parts.append(piece)
    return b"".join(parts)


def line_blocks(stream: Any, first: bytes, limits: InputLimits) -> Iterator[tuple[int, bytes] | ParseError]:
    """``(first line number, block of complete lines)`` of about ``READ_SIZE``; overlong lines skipped.

    Only one block and one read are held at a time, so memory stays flat whatever the input size.
    """
    buffer, line_no, skipping, eof = first, 1, False, False
    while not eof:
        piece = stream.read(READ_SIZE)
        eof = not piece
        buffer += piece
        if skipping:
            cut = buffer.find(b"\n")
            if cut < 0:
                buffer = b""
                continue
            buffer, skipping, line_no = buffer[cut + 1 :], False, line_no + 1
        end = len(buffer) if eof else buffer.rfind(b"\n") + 1
        if end:
            block, buffer = buffer[:end], buffer[end:]
            yield from _checked_block(block, line_no, limits)
            line_no += block.count(b"\n")
        if len(buffer) > limits.max_line_bytes:
            yield _line_too_long(line_no, limits)
            buffer, skipping = b"", True


def _checked_block(
    block: bytes, line_no: int, limits: InputLimits
) -> Iterator[tuple[int, bytes] | ParseError]:
    """The block, with lines longer than the limit rejected and blanked (numbering holds)."""
    if len(block) > limits.max_line_bytes:
        lines = block.split(b"\n")
        for number, line in enumerate(lines):
            if len(line) > limits.max_line_bytes:
                yield _line_too_long(line_no + number, limits)
                lines[number] = b""
        block = b"\n".join(lines)
    yield line_no, block


def _line_too_long(line_no: int, limits: InputLimits) -> RecordRejected:
    kib = limits.max_line_bytes // 1024
    return RecordRejected(
        f"line {line_no}", f"line longer than {kib} KiB (AURORA_INGEST_MAX_LINE_KB); skipped"
    )


def shift_position(error: ParseError, offset: int) -> ParseError:
    """Re-number a ``line N`` position of a block that starts at line ``offset + 1``."""
    kind, _, number = error.position.partition(" ")
    if kind != "line" or not number.isdigit() or offset == 0:
        return error
    return type(error)(f"line {int(number) + offset}", error.message)


def _depth(value: Any, limit: int) -> bool:
    """Whether ``value`` nests deeper than ``limit`` (iterative, so no recursion on hostile input)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def too_deep(record: dict[str, Any]) -> str | None:
    """Why a parsed JSON record breaks the nesting limit (checked before flattening recurses), or ``None``."""
    if _depth(record, MAX_DEPTH):
        return f"nesting deeper than {MAX_DEPTH} levels"
    return None


def check_event(event: NormalizedEvent, limits: InputLimits) -> str | None:
    """Why an event breaks the field-count or field-length limit, or ``None``."""
    fields = event.fields
    if len(fields) > limits.max_fields:
        return f"{len(fields)} fields, more than {limits.max_fields} (AURORA_INGEST_MAX_FIELDS)"
    cap = limits.max_field_chars
    raw = event.raw
    if raw is not None and len(raw) < min(cap, MAX_RAW_CHARS):
        return None  # every value was read out of the raw record, so none can be longer (fast path)
    for key, value in fields.items():
        if isinstance(value, str) and len(value) > cap:
            return f"field {key[:80]!r} longer than {cap // 1024} KiB (AURORA_INGEST_MAX_FIELD_KB)"
    return None
