"""Indicator look-ups for case correlation (spec §27.4, §28; issue #15).

Correlation finds the alerts sharing an indicator through ``iocs.value`` and ``alert_iocs.ioc_id``;
without these indexes PostgreSQL scanned both tables for every new alert (``(type, value)`` and
``(alert_id, ioc_id)`` cannot serve a look-up by value or by indicator alone).

Revision ID: 0020_alert_correlation_index
Revises: 0019_siem_partitions
Create Date: 2026-12-06 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020_alert_correlation_index"
down_revision: str | None = "0019_siem_partitions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_iocs_value", "iocs", ["value"], unique=False)
    op.create_index("ix_alert_iocs_ioc_id", "alert_iocs", ["ioc_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_alert_iocs_ioc_id", table_name="alert_iocs")
    op.drop_index("ix_iocs_value", table_name="iocs")
