"""SIEM store at scale (spec §28, issue #15): indexes the query compiler uses.

Case-insensitive entity lookups get ``lower(column)`` indexes (process, parent process, channel;
host and user have theirs since 0012); PostgreSQL also gets ``text_pattern_ops`` indexes for
wildcard suffixes and a GIN index over the message and field values; SQLite gets the FTS5 table
with its triggers, filled from the rows already stored.

Revision ID: 0018_siem_scale
Revises: 0016_sec_web
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aurorasoc.siem.models import SIEM_FTS_DDL, SIEM_FTS_REPOPULATE, SIEM_PREFIX_COLUMNS, SIEM_SEARCH_VECTOR

revision: str = "0018_siem_scale"
down_revision: str | None = "0017_alerts_scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LOWER = {
    "ix_siem_logs_process_lower": "process_executable",
    "ix_siem_logs_parent_lower": "parent_executable",
}
_LOWER["ix_siem_logs_channel_lower"] = "channel"


def upgrade() -> None:
    for name, column in _LOWER.items():
        op.create_index(name, "siem_logs", [sa.text(f"lower({column})")])
    if op.get_bind().dialect.name == "postgresql":
        for column in SIEM_PREFIX_COLUMNS:
            op.create_index(
                f"ix_siem_logs_{column}_prefix", "siem_logs", [sa.text(f"lower({column}) text_pattern_ops")]
            )
        op.create_index(
            "ix_siem_logs_search", "siem_logs", [sa.text(SIEM_SEARCH_VECTOR)], postgresql_using="gin"
        )
        return
    for statement in (*SIEM_FTS_DDL, *SIEM_FTS_REPOPULATE):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_siem_logs_search", table_name="siem_logs")
        for column in SIEM_PREFIX_COLUMNS:
            op.drop_index(f"ix_siem_logs_{column}_prefix", table_name="siem_logs")
    else:
        for trigger in ("insert", "delete", "update"):  # triggers on siem_logs, not on the FTS table
            op.execute(f"DROP TRIGGER IF EXISTS siem_logs_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS siem_logs_fts")
    for name in _LOWER:
        op.drop_index(name, table_name="siem_logs")
