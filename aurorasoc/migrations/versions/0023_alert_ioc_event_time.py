"""Indicator links carry their alert's event time (spec §27.4, §28; issue #15).

``alert_iocs.last_seen_at`` (the alert's ``last_seen_at``, kept current as repeats extend it) and the
index ``(ioc_id, last_seen_at)``, which replaces ``ix_alert_iocs_ioc_id``. Why: case correlation
found the alerts sharing an indicator through every link the indicator ever had and only then
dropped those outside its window, so at 1M alerts a batch of 50 read ~40,000 links (~13 ms per
alert on SQLite). It now reads the links within the window only. Existing links are filled from
their alerts (one statement; about a minute at millions of links).

Revision ID: 0023_alert_ioc_event_time
Revises: 0022_siem_prefix_covering
Create Date: 2026-12-06 22:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aurorasoc.core.types import UTCDateTime

revision: str = "0023_alert_ioc_event_time"
down_revision: str | None = "0022_siem_prefix_covering"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("alert_iocs", sa.Column("last_seen_at", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE alert_iocs SET last_seen_at = "
        "(SELECT alerts.last_seen_at FROM alerts WHERE alerts.id = alert_iocs.alert_id)"
    )
    op.drop_index("ix_alert_iocs_ioc_id", table_name="alert_iocs")
    op.create_index("ix_alert_iocs_ioc_last_seen", "alert_iocs", ["ioc_id", "last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_iocs_ioc_last_seen", table_name="alert_iocs")
    op.create_index("ix_alert_iocs_ioc_id", "alert_iocs", ["ioc_id"])
    with op.batch_alter_table("alert_iocs") as batch:
        batch.drop_column("last_seen_at")
