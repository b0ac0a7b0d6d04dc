"""Saved SIEM hunts: siem_hunts (spec §4, §13.6).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 19:06:57.758309
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "siem_hunts",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("filters", JSON_TYPE, nullable=False),
        sa.Column("tags", JSON_TYPE, nullable=False),
        sa.Column("sharing_mode", sa.String(length=16), nullable=False),
        sa.Column("shared_with_roles", JSON_TYPE, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("schedule_minutes", sa.Integer(), nullable=True),
        sa.Column("alert_on_hits", sa.Boolean(), nullable=False),
        sa.Column("dispatch_agent", sa.Boolean(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_hit_count", sa.Integer(), nullable=False),
        sa.Column("total_hits", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("siem_hunts")
