"""Showcase data: what dummy mode serves when the database is unreachable (spec §6)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from fastapi import Response

SHOWCASE_DIR = Path(__file__).resolve().parents[2] / "data" / "showcase"
SHOWCASE_HEADER = "X-Aurora-Data-Source"


@lru_cache(maxsize=32)
def _load(name: str) -> tuple[dict[str, Any], ...]:
    path = SHOWCASE_DIR / f"{name}.json"
    rows = orjson.loads(path.read_bytes())
    if not isinstance(rows, list):
        raise ValueError(f"showcase file {path} must hold a JSON list")
    return tuple(rows)


def load_showcase(name: str) -> list[dict[str, Any]]:
    """Fresh copies of the rows in ``aurorasoc/data/showcase/<name>.json``."""
    return [dict(row) for row in _load(name)]


def find_showcase(name: str, row_id: str) -> dict[str, Any] | None:
    return next((row for row in load_showcase(name) if str(row.get("id")) == row_id), None)


def stamp_source(response: Response, source: str) -> None:
    """Every DB-backed read says where its data came from (header ``X-Aurora-Data-Source``)."""
    response.headers[SHOWCASE_HEADER] = source
