"""Alerts: ``(src_ip, last_seen_at)`` replaces the ``src_ip`` index.

Why: case correlation now links alerts that name no host or user (web-server logs) by their source
address, and reads only those seen since its window opens, as it does for hosts and users; with
``src_ip`` alone, a scanner's address with 100,000 alerts would be read whole for each new alert.
The queue's IP filter uses the new index as it used the old one.

Revision ID: 0028_alert_src_ip_last_seen
Revises: 0027_log_source_arrival
Create Date: 2026-12-07 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0028_alert_src_ip_last_seen"
down_revision: str | None = "0027_log_source_arrival"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_alerts_src_ip_last_seen", "alerts", ["src_ip", "last_seen_at"])
    op.drop_index("ix_alerts_src_ip", table_name="alerts")


def downgrade() -> None:
    op.create_index("ix_alerts_src_ip", "alerts", ["src_ip"])
    op.drop_index("ix_alerts_src_ip_last_seen", table_name="alerts")
