"""Index siem_logs.received_at: retention and per-source EPS filter on it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 20:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_siem_logs_received_at", "siem_logs", ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_siem_logs_received_at", table_name="siem_logs")
