"""Events per host, user and log source per UTC day, ``siem_entity_days`` (spec §13.8, §28; issue #15).

Why: the Endpoints and UEBA inventories counted each entity's events with a ``GROUP BY`` over every
event of their 7-day window, 3-4 s at 1M stored events on SQLite and growing with the store; the
Sources tab counted a source's events of the day the same way. The detection pipeline now adds each
batch's counts to this table; the inventories and the Sources tab read it. The table is
filled from the events already stored (one aggregate per kind; minutes at tens of millions).

Revision ID: 0026_siem_entity_days
Revises: 0025_alert_status_event_time
Create Date: 2026-12-07 10:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aurorasoc.core.types import UTCDateTime

revision: str = "0026_siem_entity_days"
down_revision: str | None = "0025_alert_status_event_time"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The UTC day of the later of event time and arrival, as ``entity_days.activity_day`` computes it.
_DAY = {
    "postgresql": "(greatest(timestamp, received_at) AT TIME ZONE 'UTC')::date",
    "sqlite": "date(max(timestamp, received_at))",
}


def upgrade() -> None:
    op.create_table(
        "siem_entity_days",
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("event_count", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
    )
    day = _DAY[op.get_bind().dialect.name]
    for kind, column in (("host", "host"), ("user", "user_name"), ("source", "source")):
        op.execute(
            "INSERT INTO siem_entity_days (kind, day, name, event_count, last_seen) "  # noqa: S608
            f"SELECT '{kind}', {day}, {column}, count(*), max(timestamp) FROM siem_logs "
            f"WHERE {column} IS NOT NULL AND {column} <> '' GROUP BY 2, 3"
        )


def downgrade() -> None:
    op.drop_table("siem_entity_days")
