"""The severity/status filter in the queue's default order (spec §27.1, §28): an index on
``(severity, status, last_seen_at)`` beside the one on ``created_at``. Why: the default sort became
event time, and without it SQLite sorted every match of a severity/status filter (50 ms at 20k alerts).

Revision ID: 0025_alert_status_event_time
Revises: 0024_alert_search_vector
Create Date: 2026-12-07 03:12:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0025_alert_status_event_time"
down_revision: str | None = "0024_alert_search_vector"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_alerts_severity_status_last_seen"


def upgrade() -> None:
    op.create_index(_INDEX, "alerts", ["severity", "status", "last_seen_at"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="alerts")
