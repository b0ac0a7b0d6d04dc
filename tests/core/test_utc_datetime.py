"""``UTCDateTime`` on SQLite: the text SQLAlchemy writes, compared as text and read back as tz-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text

from aurorasoc.core.db import create_engine_from_settings
from aurorasoc.core.types import UTCDateTime


async def test_sqlite_stores_sqlalchemys_text_and_reads_back_utc(tmp_path: Path) -> None:
    engine = create_engine_from_settings(url=f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    table = Table("stamps", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime))
    paris = timezone(timedelta(hours=2))
    values = [
        datetime(2026, 10, 1, 12, 0, tzinfo=UTC),  # no microseconds: still written with six digits
        datetime(2026, 10, 1, 14, 30, 5, 250, tzinfo=paris),  # another offset: stored as UTC
        datetime(2026, 10, 1, 9, 0),  # naive: taken as UTC
        None,
    ]
    try:
        async with engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)
            await conn.execute(insert(table), [{"at": v} for v in values])
            stored = (await conn.execute(text("SELECT at FROM stamps ORDER BY id"))).scalars().all()
            read = (await conn.execute(select(table.c.at).order_by(table.c.id))).scalars().all()
            # Text written by SQLAlchemy's own processor (rows stored before) compares and reads alike.
            await conn.execute(text("INSERT INTO stamps (at) VALUES ('2026-10-01 12:00:00.000000')"))
            later = select(table.c.id).where(table.c.at >= datetime(2026, 10, 1, 12, tzinfo=UTC))
            matched = (await conn.execute(later.order_by(table.c.id))).scalars().all()
            declared = (await conn.execute(text("SELECT type FROM pragma_table_info('stamps')"))).scalars()
            types = list(declared)
    finally:
        await engine.dispose()
    assert stored == [
        "2026-10-01 12:00:00.000000",
        "2026-10-01 12:30:05.000250",
        "2026-10-01 09:00:00.000000",
        None,
    ]
    assert read == [
        datetime(2026, 10, 1, 12, 0, tzinfo=UTC),
        datetime(2026, 10, 1, 12, 30, 5, 250, tzinfo=UTC),
        datetime(2026, 10, 1, 9, 0, tzinfo=UTC),
        None,
    ]
    assert all(v is None or v.tzinfo is UTC for v in read)
    assert matched == [1, 2, 5]
    assert types == ["INTEGER", "DATETIME"]  # the column is declared as before
