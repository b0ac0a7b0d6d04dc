"""Alert words stored per row (spec §28, issue #15): ``alerts.search_vector``.

PostgreSQL: a ``tsvector`` column ``GENERATED ALWAYS AS (PG_TSVECTOR) STORED`` (computed by the server
on every write, so no writer changes) and the GIN index ``ix_alerts_search_tsv`` moves from the
expression onto it. Why: the queue's text search checks every candidate row again (a GIN index
keeps no positions and may be lossy), and over the expression that meant re-tokenising the alert's
whole document per candidate: a common word walked ~750 alerts of the time index at 1M alerts,
each re-tokenised. SQLite keeps FTS5 and gets a virtual NULL column (no storage).
Adding the column rewrites ``alerts`` on PostgreSQL (about a minute per million alerts).

Revision ID: 0024_alert_search_vector
Revises: 0023_alert_ioc_event_time
Create Date: 2026-12-07 01:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

from aurorasoc.core import alert_search
from aurorasoc.core.types import PostgresOnly

revision: str = "0024_alert_search_vector"
down_revision: str | None = "0023_alert_ioc_event_time"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_alerts_search_tsv"


def _postgresql() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def upgrade() -> None:
    kind = TSVECTOR() if _postgresql() else sa.Text()
    generated = sa.Computed(PostgresOnly(alert_search.PG_TSVECTOR))
    op.add_column("alerts", sa.Column("search_vector", kind, generated))
    if _postgresql():
        op.execute(f"DROP INDEX IF EXISTS {_INDEX}")
        op.execute(alert_search.PG_TSVECTOR_INDEX)


def downgrade() -> None:
    if _postgresql():
        op.execute(f"DROP INDEX IF EXISTS {_INDEX}")
        op.execute(alert_search.PG_TSVECTOR_INDEX_0017)
    op.drop_column("alerts", "search_vector")
