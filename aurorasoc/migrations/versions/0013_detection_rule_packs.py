"""Rule packs and tuning (issue #16): ``rule_packs``, ``detection_rules.pack``, exceptions, hits per day.

Revision ID: 0013_detection
Revises: 0012_evidence
Create Date: 2026-12-06 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013_detection"
down_revision: str | None = "0012_evidence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "rule_packs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("license", sa.Text(), nullable=True),
        sa.Column("attribution", sa.Text(), nullable=True),
        sa.Column("statuses", JSON_TYPE, nullable=False),
        sa.Column("min_level", sa.String(length=16), nullable=False),
        sa.Column("rule_count", sa.Integer(), nullable=False),
        sa.Column("compiled", sa.Integer(), nullable=False),
        sa.Column("failures", JSON_TYPE, nullable=False),
        sa.Column("rules", JSON_TYPE, nullable=True),
        sa.Column("installed_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "version", name="uq_rule_packs_name_version"),
    )
    op.create_index("ix_rule_packs_name", "rule_packs", ["name"], unique=False)
    op.create_table(
        "rule_exceptions",
        sa.Column("rule_uid", sa.String(length=128), nullable=False),
        sa.Column("conditions", JSON_TYPE, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_alert_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rule_exceptions_rule_uid", "rule_exceptions", ["rule_uid"], unique=False)
    op.create_table(
        "rule_hit_days",
        sa.Column("rule_uid", sa.String(length=128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hits", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("rule_uid", "day"),
    )
    op.create_index("ix_rule_hit_days_day", "rule_hit_days", ["day"], unique=False)
    with op.batch_alter_table("detection_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pack", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_detection_rules_pack", ["pack"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("detection_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_detection_rules_pack")
        batch_op.drop_column("pack")
    op.drop_index("ix_rule_hit_days_day", table_name="rule_hit_days")
    op.drop_table("rule_hit_days")
    op.drop_index("ix_rule_exceptions_rule_uid", table_name="rule_exceptions")
    op.drop_table("rule_exceptions")
    op.drop_index("ix_rule_packs_name", table_name="rule_packs")
    op.drop_table("rule_packs")
