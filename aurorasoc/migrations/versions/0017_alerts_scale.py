"""Alerts at scale (spec §28): full-text index, sort-order indexes for keyset pages.

SQLite: an FTS5 external-content table with its triggers, filled from the existing rows.
PostgreSQL: ``pg_trgm``, a ``tsvector`` GIN index, a trigram GIN index and a JSONB GIN index on
``affected_assets``. The statements are the ones ``metadata.create_all`` runs (one definition).

Revision ID: 0017_alerts_scale
Revises: 0016_sec_web
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from aurorasoc.core import alert_search

revision: str = "0017_alerts_scale"
down_revision: str | None = "0016_sec_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_occurrence_count", ["occurrence_count"], unique=False)
        batch_op.create_index("ix_alerts_title", ["title"], unique=False)
    for sql in alert_search.create_statements(op.get_bind().dialect.name, stored_vector=False):
        op.execute(sql)


def downgrade() -> None:
    for sql in alert_search.drop_statements(op.get_bind().dialect.name):
        op.execute(sql)
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_title")
        batch_op.drop_index("ix_alerts_occurrence_count")
