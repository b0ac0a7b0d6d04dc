"""Open alerts are unique per dedup hash (atomic dedup under concurrent ingest).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 17:10:39
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status NOT IN ('resolved', 'false_positive')")


def _fold_existing_duplicates() -> None:
    """Earlier versions could store two open alerts with one hash; keep the newest open."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, dedup_hash FROM alerts WHERE dedup_hash IS NOT NULL "
            "AND status NOT IN ('resolved', 'false_positive') ORDER BY dedup_hash, created_at DESC"
        )
    ).all()
    keep: dict[str, object] = {}
    for alert_id, digest in rows:
        if digest not in keep:
            keep[digest] = alert_id
            continue
        bind.execute(
            sa.text(
                "UPDATE alerts SET status = 'resolved', resolution = 'duplicate', duplicate_of = :keep "
                "WHERE id = :id"
            ),
            {"keep": keep[digest], "id": alert_id},
        )


def upgrade() -> None:
    _fold_existing_duplicates()
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(
            "uq_alerts_open_dedup_hash", ["dedup_hash"], unique=True, sqlite_where=OPEN, postgresql_where=OPEN
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("uq_alerts_open_dedup_hash", sqlite_where=OPEN, postgresql_where=OPEN)
