"""Dialect-aware ``INSERT … ON CONFLICT`` so upserts are one atomic statement on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_insert(session: AsyncSession, model: Any) -> Any:
    """``insert(model)`` from the dialect of the session's database (both support ON CONFLICT)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
