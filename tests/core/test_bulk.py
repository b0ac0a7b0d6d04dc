"""``core.bulk.execute_many``: the rows an executemany writes, converted by the columns' own types."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select, text

from aurorasoc.core.bulk import execute_many
from aurorasoc.intel.models import IOCModel
from aurorasoc.intel.sql import ioc_upsert


def _row(value: str, **changes: object) -> dict[str, object]:
    seen = datetime(2026, 10, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))  # stored as 12:30 UTC
    row: dict[str, object] = {
        "id": uuid.uuid4(), "type": "ipv4", "value": value, "source": "edr", "confidence": 0.5,
        "status": "active", "tags": ["c2", "josé"], "description": None, "tlp": "amber", "sightings": 1,
        "first_seen": seen, "last_seen": seen, "created_at": seen, "updated_at": seen, "origin_site": None,
        "feed": None, "expires_at": None,
    }  # fmt: skip
    return row | changes


async def test_rows_read_back_as_the_orm_writes_them(any_db_session) -> None:
    rows = [_row("203.0.113.7"), _row("203.0.113.8", description="beacon", expires_at=datetime(2027, 1, 1))]
    await execute_many(any_db_session, ioc_upsert(), rows)
    # the same statement again: the upsert adds the sightings and keeps the higher confidence
    await execute_many(any_db_session, ioc_upsert(), [_row("203.0.113.7", id=uuid.uuid4(), confidence=0.9)])
    found = (await any_db_session.scalars(select(IOCModel).order_by(IOCModel.value))).all()
    assert [(i.id, i.value, i.sightings, i.confidence) for i in found] == [
        (rows[0]["id"], "203.0.113.7", 2, 0.9),
        (rows[1]["id"], "203.0.113.8", 1, 0.5),
    ]
    first = found[0]
    assert first.first_seen == datetime(2026, 10, 1, 12, 30, tzinfo=UTC) and first.first_seen.tzinfo is UTC
    assert first.tags == ["c2", "josé"] and first.description is None and first.expires_at is None
    assert found[1].description == "beacon" and found[1].expires_at == datetime(2027, 1, 1, tzinfo=UTC)
    stored = await any_db_session.scalar(text("SELECT count(*) FROM iocs WHERE description IS NULL"))
    assert stored == 1  # None is SQL NULL, not the text 'None'


async def test_no_rows_run_nothing(any_db_session) -> None:
    await execute_many(any_db_session, ioc_upsert(), [])
    assert await any_db_session.scalar(select(IOCModel.id)) is None
