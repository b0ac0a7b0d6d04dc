"""SIEM events in daily partitions on PostgreSQL (spec §28, issue #15; ``core.siem_partitions``).

PostgreSQL: ``siem_logs`` becomes ``PARTITION BY RANGE (timestamp)`` with a ``DEFAULT`` partition and
one partition per UTC day already stored; its rows move over, then every index of the model is
built again (the 0018 search indexes included). A partitioned table's unique keys must hold the
partition key, so the primary key becomes (id, timestamp) and the fingerprint key (fingerprint,
timestamp). No foreign key references ``siem_logs``. Downgrade moves the rows back into a plain
table (a fingerprint stored at two event times keeps its first row). SQLite: nothing changes.

Revision ID: 0019_siem_partitions
Revises: 0018_siem_scale
Create Date: 2026-12-06 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

from aurorasoc.core import siem_partitions
from aurorasoc.siem.models import SiemLogModel

revision: str = "0019_siem_partitions"
down_revision: str | None = "0018_siem_scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW = "siem_logs_new"
_FINGERPRINT = {
    True: siem_partitions.FINGERPRINT_KEYS["postgresql"],
    False: siem_partitions.FINGERPRINT_KEYS["sqlite"],
}


def _indexes(bind: sa.Connection, partitioned: bool) -> None:
    """The model's PostgreSQL indexes, with the fingerprint key of the wanted shape."""
    for index in SiemLogModel.metadata.tables["siem_logs"].indexes:
        if index.name not in _FINGERPRINT.values():
            index.create(bind)
    columns = ["fingerprint", "timestamp"] if partitioned else ["fingerprint"]
    op.create_index(_FINGERPRINT[partitioned], "siem_logs", columns, unique=True)


def _days(bind: sa.Connection) -> list[date]:
    days = "SELECT DISTINCT CAST(timezone('UTC', timestamp) AS date) FROM siem_logs"
    return list(bind.scalars(sa.text(days)))


def _swap(partitioned: bool) -> None:
    bind = op.get_bind()
    shape = " PARTITION BY RANGE (timestamp)" if partitioned else ""
    op.execute(f"CREATE TABLE {_NEW} (LIKE siem_logs INCLUDING DEFAULTS){shape}")
    if partitioned:
        op.execute(f"CREATE TABLE {siem_partitions.DEFAULT_PARTITION} PARTITION OF {_NEW} DEFAULT")
        for day in _days(bind):
            bounds = f"FROM ('{day} 00:00+00') TO ('{day + timedelta(days=1)} 00:00+00')"
            op.execute(
                f"CREATE TABLE {siem_partitions.partition_name(day)} PARTITION OF {_NEW} FOR VALUES {bounds}"
            )
        op.execute(f"INSERT INTO {_NEW} SELECT * FROM siem_logs")  # noqa: S608 (constant)
    else:
        op.execute(f"ALTER TABLE {_NEW} ADD PRIMARY KEY (id)")
        op.execute(f"CREATE UNIQUE INDEX uq_new_fingerprint ON {_NEW} (fingerprint)")
        op.execute(f"INSERT INTO {_NEW} SELECT * FROM siem_logs ORDER BY received_at ON CONFLICT DO NOTHING")  # noqa: S608
        op.execute(f"ALTER TABLE {_NEW} DROP CONSTRAINT {_NEW}_pkey")
        op.execute("DROP INDEX uq_new_fingerprint")
    op.execute("DROP TABLE siem_logs")
    op.execute(f"ALTER TABLE {_NEW} RENAME TO siem_logs")
    key = "id, timestamp" if partitioned else "id"
    op.execute(f"ALTER TABLE siem_logs ADD CONSTRAINT siem_logs_pkey PRIMARY KEY ({key})")
    op.create_foreign_key(None, "siem_logs", "log_sources", ["log_source_id"], ["id"], ondelete="SET NULL")
    _indexes(bind, partitioned)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _swap(partitioned=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _swap(partitioned=False)
