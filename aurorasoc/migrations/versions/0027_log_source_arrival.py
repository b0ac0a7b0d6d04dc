"""Log sources: when events last arrived (``last_received_at``), and one-shot imports (kind ``import``).

Why: a source's ``stale`` status compared its newest *event time* with the clock, so every file of an
import of 2019 logs read "stale" the minute it was stored, and a followed file replaying old logs
too. Silence is about arrival: the status now reads ``last_received_at``. A file imported once with
``aurorasoc ingest`` (no followed path) has nothing more to send; it becomes kind ``import`` and is
never called stale. Existing rows: arrival is taken from ``updated_at`` (the last counted batch).

Revision ID: 0027_log_source_arrival
Revises: 0026_siem_entity_days
Create Date: 2026-12-07 13:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aurorasoc.core.types import UTCDateTime

revision: str = "0027_log_source_arrival"
down_revision: str | None = "0026_siem_entity_days"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("log_sources") as batch:
        batch.add_column(sa.Column("last_received_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE log_sources SET last_received_at = updated_at WHERE events_total + parse_errors > 0")
    op.execute("UPDATE log_sources SET kind = 'import' WHERE kind = 'file' AND path IS NULL")


def downgrade() -> None:
    op.execute("UPDATE log_sources SET kind = 'file' WHERE kind = 'import'")
    with op.batch_alter_table("log_sources") as batch:
        batch.drop_column("last_received_at")
