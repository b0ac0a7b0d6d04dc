"""Zeek's default ASCII (TSV) logs: ``#separator``/``#fields``/``#types`` header lines, then one row per line.

Values are typed from ``#types`` as Zeek writes them: ``count``/``int``/``port`` → int, ``double``/
``interval``/``time`` → float (``time`` is epoch seconds), ``bool`` ``T``/``F`` → bool, ``set[…]``/
``vector[…]`` → list split on ``#set_separator``; the ``#unset_field`` value is left out and
``#empty_field`` is an empty string or list. ``#path`` names the log (``conn``, ``dns``…).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aurorasoc.siem.parsers.base import ParseError

TsvRow = tuple[dict[str, Any], str]


@dataclass
class _Header:
    separator: str = "\t"
    set_separator: str = ","
    empty: str = "(empty)"
    unset: str = "-"
    path: str | None = None
    fields: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)


def _unescape(value: str) -> str:
    return value.encode("latin-1", "backslashreplace").decode("unicode_escape") if "\\x" in value else value


def _directive(line: str, header: _Header) -> None:
    name, _, rest = line[1:].partition(header.separator if not line.startswith("#separator") else " ")
    if name == "separator":
        header.separator = _unescape(rest.strip())
    elif name == "set_separator":
        header.set_separator = rest
    elif name == "empty_field":
        header.empty = rest
    elif name == "unset_field":
        header.unset = rest
    elif name == "path":
        header.path = rest
    elif name == "fields":
        header.fields = rest.split(header.separator)
    elif name == "types":
        header.types = rest.split(header.separator)


def _typed(value: str, kind: str, header: _Header) -> Any:
    if kind.startswith(("set[", "vector[")):
        inner = kind[kind.index("[") + 1 : -1]
        return (
            []
            if value == header.empty
            else [_typed(v, inner, header) for v in value.split(header.set_separator)]
        )
    if value == header.empty:
        return ""
    try:
        if kind in ("count", "int", "port"):
            return int(value)
        if kind in ("double", "interval", "time"):
            return float(value)
    except ValueError:
        return value
    if kind == "bool":
        return value == "T"
    return value


def iter_tsv_records(text: str) -> Iterator[TsvRow | ParseError]:
    """Typed rows of a Zeek TSV log (several logs may follow each other), or a ParseError per bad row."""
    header = _Header()
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line:
            continue
        if line.startswith("#"):
            _directive(line, header)
            continue
        values = line.split(header.separator)
        if not header.fields or len(values) != len(header.fields):
            yield ParseError(
                f"line {number}", f"{len(values)} columns where #fields names {len(header.fields)}"
            )
            continue
        kinds = header.types if len(header.types) == len(values) else ["string"] * len(values)
        record = {
            name: _typed(value, kind, header)
            for name, value, kind in zip(header.fields, values, kinds, strict=True)
            if value != header.unset
        }
        if header.path:
            record["_path"] = header.path
        yield record, line
