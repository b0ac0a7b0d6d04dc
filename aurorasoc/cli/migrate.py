"""``aurorasoc migrate``: bring the database to the latest Alembic revision."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from aurorasoc.cli.common import console, fail
from aurorasoc.core.config import get_settings
from aurorasoc.core.migrate import upgrade


def migrate() -> None:
    """Apply database migrations up to the latest revision (alembic upgrade head)."""
    try:
        upgrade()
    except (OperationalError, OSError) as exc:
        fail(f"migration failed: {str(getattr(exc, 'orig', exc)).splitlines()[0]}")
    console.print(f"database at head ({get_settings().database_url.split('://')[0]})")
