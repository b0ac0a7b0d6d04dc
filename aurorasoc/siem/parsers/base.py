"""Types shared by every parser: the per-record error value and the parser output union."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from aurorasoc.core.vocabulary import NormalizedEvent


@dataclass(frozen=True)
class ParseError:
    """A record that could not be parsed; parsing continues after it.

    ``position`` says where, in the unit natural to the format: ``"line 17"``, ``"record 4"``,
    ``"byte 1024"``.
    """

    position: str
    message: str


ParseResult = NormalizedEvent | ParseError
ParseStream = Iterator[ParseResult]
