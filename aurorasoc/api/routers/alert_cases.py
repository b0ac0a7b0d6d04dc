"""Routes under /alerts (being implemented)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/alerts", tags=["alerts"])
