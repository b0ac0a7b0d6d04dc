"""Covering pattern indexes for SIEM entity searches on PostgreSQL (spec §28, issue #15).

``ix_siem_logs_{host,user_name,process_executable}_prefix`` become ``(lower(col) text_pattern_ops,
timestamp, id) INCLUDE (col)``. Why: at 10M events a host prefix (``host:ws-0042*``, ~5,000
matches) either walked the event-time index reading ~100,000 rows to fill a page or fetched every
match from the heap to sort them (~250 ms). With the page key and the column in the index, the
capped count and the page's keys are index-only scans, and only the 50 rows of the page are read.
Rebuilding the three indexes takes minutes at 10M events (the table is not rewritten). SQLite has
no such indexes (a prefix is an index range there) and is unchanged.

Revision ID: 0022_siem_prefix_covering
Revises: 0021_siem_search_vector
Create Date: 2026-12-06 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aurorasoc.siem.models import SIEM_PREFIX_COLUMNS

revision: str = "0022_siem_prefix_covering"
down_revision: str | None = "0021_siem_search_vector"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild(*, covering: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in SIEM_PREFIX_COLUMNS:
        name = f"ix_siem_logs_{column}_prefix"
        op.drop_index(name, table_name="siem_logs", if_exists=True)
        pattern = sa.text(f"lower({column}) text_pattern_ops")
        if covering:
            op.create_index(name, "siem_logs", [pattern, "timestamp", "id"], postgresql_include=[column])
        else:
            op.create_index(name, "siem_logs", [pattern])


def upgrade() -> None:
    _rebuild(covering=True)


def downgrade() -> None:
    _rebuild(covering=False)
