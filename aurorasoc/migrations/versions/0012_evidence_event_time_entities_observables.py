"""Evidence model (spec §27): event fingerprint, time source and entities on events and alerts; observables.

Revision ID: 0012_evidence
Revises: 0011
Create Date: 2026-12-06 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from aurorasoc.core.types import UTCDateTime

revision: str = "0012_evidence"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ENTITY_TEXT = (
    ("process_executable", sa.String(1024)),
    ("process_command_line", sa.Text()),
    ("process_entity_id", sa.String(128)),
    ("parent_executable", sa.String(1024)),
)


def upgrade() -> None:
    with op.batch_alter_table("siem_logs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_source", sa.String(16), server_default="record", nullable=False))
        batch_op.add_column(sa.Column("fingerprint", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("channel", sa.String(255), nullable=True))
        for name, type_ in _ENTITY_TEXT:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        batch_op.add_column(sa.Column("parent_entity_id", sa.String(128), nullable=True))
        batch_op.add_column(sa.Column("entities", JSON_TYPE, server_default=sa.text("'{}'"), nullable=False))
        batch_op.create_index("uq_siem_logs_fingerprint", ["fingerprint"], unique=True)
        batch_op.create_index("ix_siem_logs_dst_ip", ["dst_ip"])
        batch_op.create_index("ix_siem_logs_event_id", ["event_id"])
        batch_op.create_index("ix_siem_logs_channel", ["channel"])
        batch_op.create_index("ix_siem_logs_process_entity_id", ["process_entity_id"])
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("host", sa.String(255), nullable=True))
        batch_op.add_column(sa.Column("user_name", sa.String(255), nullable=True))
        batch_op.add_column(sa.Column("src_ip", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("dst_ip", sa.String(64), nullable=True))
        for name, type_ in _ENTITY_TEXT:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        batch_op.add_column(sa.Column("parent_command_line", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("entities", JSON_TYPE, server_default=sa.text("'{}'"), nullable=False))
        batch_op.add_column(
            sa.Column("observables", JSON_TYPE, server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.create_index("ix_alerts_src_ip", ["src_ip"])
        batch_op.create_index("ix_alerts_dst_ip", ["dst_ip"])
        batch_op.create_index("ix_alerts_process_executable", ["process_executable"])
        batch_op.create_index("ix_alerts_last_seen_at", ["last_seen_at"])
    # Expression indexes (case-insensitive entity look-ups) outside batch mode: SQLite's table copy
    # cannot carry them.
    op.create_index("ix_siem_logs_host_lower_timestamp", "siem_logs", [sa.text("lower(host)"), "timestamp"])
    op.create_index("ix_siem_logs_user_lower", "siem_logs", [sa.text("lower(user_name)")])
    op.create_index("ix_alerts_host_lower_last_seen", "alerts", [sa.text("lower(host)"), "last_seen_at"])
    op.create_index("ix_alerts_user_lower_last_seen", "alerts", [sa.text("lower(user_name)"), "last_seen_at"])
    op.create_table(
        "observables",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("value", sa.String(2048), nullable=False),
        sa.Column("host", sa.String(255), nullable=False, server_default=""),
        sa.Column("role", sa.String(64), nullable=True),
        sa.Column("context_path", sa.String(1024), nullable=True),
        sa.Column("benign_reason", sa.String(32), nullable=True),
        sa.Column("sightings", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("type", "value", "host", name="uq_observables_type_value_host"),
    )
    op.create_index("ix_observables_value", "observables", ["value"])
    op.create_table(
        "observable_allowlist",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(2048), nullable=False),
        sa.Column("host_scope", sa.String(255), nullable=False, server_default=""),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("kind", "value", "host_scope", name="uq_observable_allowlist_kind_value_scope"),
    )


def downgrade() -> None:
    for index, table in (
        ("ix_siem_logs_host_lower_timestamp", "siem_logs"), ("ix_siem_logs_user_lower", "siem_logs"),
        ("ix_alerts_host_lower_last_seen", "alerts"), ("ix_alerts_user_lower_last_seen", "alerts"),
    ):  # fmt: skip
        op.drop_index(index, table_name=table)
    op.drop_table("observable_allowlist")
    op.drop_index("ix_observables_value", table_name="observables")
    op.drop_table("observables")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        for index in (
            "ix_alerts_src_ip", "ix_alerts_dst_ip", "ix_alerts_process_executable", "ix_alerts_last_seen_at",
        ):  # fmt: skip
            batch_op.drop_index(index)
        for column in (
            "host", "user_name", "src_ip", "dst_ip", *(n for n, _ in _ENTITY_TEXT), "parent_command_line",
            "entities", "observables",
        ):  # fmt: skip
            batch_op.drop_column(column)
    with op.batch_alter_table("siem_logs", schema=None) as batch_op:
        for index in (
            "uq_siem_logs_fingerprint", "ix_siem_logs_dst_ip", "ix_siem_logs_event_id",
            "ix_siem_logs_channel", "ix_siem_logs_process_entity_id",
        ):  # fmt: skip
            batch_op.drop_index(index)
        for column in (
            "time_source", "fingerprint", "channel", *(n for n, _ in _ENTITY_TEXT), "parent_entity_id",
            "entities",
        ):  # fmt: skip
            batch_op.drop_column(column)
