"""Routes under /cases (being implemented)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/cases", tags=["cases"])
