"""Detection tables: siem_logs, log_sources, detection_rules (spec §4, §13).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 18:09:40.800770
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "detection_rules",
        sa.Column("rule_uid", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("logsource_product", sa.String(length=64), nullable=True),
        sa.Column("logsource_category", sa.String(length=64), nullable=True),
        sa.Column("logsource_service", sa.String(length=64), nullable=True),
        sa.Column("tags", JSON_TYPE, nullable=False),
        sa.Column("yaml", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("supported", sa.Boolean(), nullable=False),
        sa.Column("unsupported_reason", sa.Text(), nullable=True),
        sa.Column("hit_count", sa.BigInteger(), nullable=False),
        sa.Column("last_hit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rule_uid"),
    )
    op.create_table(
        "log_sources",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("passthrough_alerts", sa.Boolean(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("inode", sa.BigInteger(), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("events_total", sa.BigInteger(), nullable=False),
        sa.Column("parse_errors", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "siem_logs",
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("log_source_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("service", sa.String(length=64), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("user_name", sa.String(length=255), nullable=True),
        sa.Column("src_ip", sa.String(length=64), nullable=True),
        sa.Column("src_port", sa.Integer(), nullable=True),
        sa.Column("dst_ip", sa.String(length=64), nullable=True),
        sa.Column("dst_port", sa.Integer(), nullable=True),
        sa.Column("severity", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("fields", JSON_TYPE, nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["log_source_id"], ["log_sources.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("siem_logs", schema=None) as batch_op:
        batch_op.create_index("ix_siem_logs_host", ["host"], unique=False)
        batch_op.create_index("ix_siem_logs_source_timestamp", ["source", "timestamp"], unique=False)
        batch_op.create_index("ix_siem_logs_src_ip", ["src_ip"], unique=False)
        batch_op.create_index("ix_siem_logs_timestamp", ["timestamp"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("siem_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_siem_logs_timestamp")
        batch_op.drop_index("ix_siem_logs_src_ip")
        batch_op.drop_index("ix_siem_logs_source_timestamp")
        batch_op.drop_index("ix_siem_logs_host")

    op.drop_table("siem_logs")
    op.drop_table("log_sources")
    op.drop_table("detection_rules")
