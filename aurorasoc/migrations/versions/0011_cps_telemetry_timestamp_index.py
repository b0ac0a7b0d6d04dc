"""Index cps_telemetry by timestamp, for the hourly retention delete (spec §21).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 22:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cps_telemetry", schema=None) as batch_op:
        batch_op.create_index("ix_cps_telemetry_timestamp", ["timestamp"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cps_telemetry", schema=None) as batch_op:
        batch_op.drop_index("ix_cps_telemetry_timestamp")
