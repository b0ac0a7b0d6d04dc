"""Offline MITRE ATT&CK lookup (spec §13.7) over the bundled compact index.

The index (``data/attack/attack_index.json.gz``) is built by ``scripts/build_attack_index.py``; it is
read once per process on first use and never fetched from the network.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

INDEX_PATH = Path(__file__).resolve().parent.parent / "data" / "attack" / "attack_index.json.gz"
TECHNIQUE_ID = re.compile(r"^T\d{4}(\.\d{3})?$")


@dataclass(frozen=True)
class Technique:
    id: str
    name: str
    tactics: tuple[str, ...]
    parent: str | None
    is_subtechnique: bool
    deprecated: bool
    revoked: bool
    domain: str
    url: str


@dataclass(frozen=True)
class _Index:
    version: str
    source: str
    tactic_order: tuple[str, ...]
    techniques: dict[str, Technique]


@cache
def _index() -> _Index:
    raw: dict[str, Any] = json.loads(gzip.decompress(INDEX_PATH.read_bytes()))
    techniques = {
        tid: Technique(id=tid, **{**fields, "tactics": tuple(fields["tactics"])})
        for tid, fields in raw["techniques"].items()
    }
    return _Index(raw["attack_version"], raw["source"], tuple(raw["tactic_order"]), techniques)


def normalize_id(tid: str) -> str | None:
    """``" t1059.001 "`` → ``"T1059.001"``; None when it is not a technique id."""
    canonical = tid.strip().upper()
    return canonical if TECHNIQUE_ID.match(canonical) else None


def lookup(tid: str) -> Technique | None:
    canonical = normalize_id(tid)
    return _index().techniques.get(canonical) if canonical else None


def tactics_for(tid: str) -> list[str]:
    """The technique's tactics; a sub-technique missing from the index inherits its parent's."""
    found = lookup(tid)
    if found is None and (canonical := normalize_id(tid)) and "." in canonical:
        found = lookup(canonical.split(".")[0])
    return list(found.tactics) if found else []


def kill_chain_order(tactics: Iterable[str]) -> list[str]:
    """Distinct tactics sorted by their matrix column (unknown ones last, alphabetically)."""
    order = {name: rank for rank, name in enumerate(_index().tactic_order)}
    return sorted(set(tactics), key=lambda t: (order.get(t, len(order)), t))


def _rank(technique: Technique, query: str) -> int | None:
    """Lower is better; None means no match (id prefix beats name match)."""
    tid, name = technique.id.casefold(), technique.name.casefold()
    if tid == query:
        return 0
    if tid.startswith(query):
        return 1
    if name == query:
        return 2
    if name.startswith(query):
        return 3
    if f" {query}" in f" {name}":
        return 4
    return 5 if query in name else None


def search(q: str, limit: int | None = 20) -> list[Technique]:
    """Techniques whose id starts with ``q`` or whose name contains it, best match first.

    Within a rank, current techniques come before deprecated/revoked ones, then by id. A blank
    query is a prefix of every id, so it lists the index in id order; ``limit=None`` returns all.
    """
    query = q.strip().casefold()
    scored = [
        ((rank, t.deprecated or t.revoked, t.id), t)
        for t in _index().techniques.values()
        if (rank := _rank(t, query)) is not None
    ]
    return [t for _, t in sorted(scored, key=lambda pair: pair[0])[:limit]]


def attack_version() -> str:
    return _index().version
