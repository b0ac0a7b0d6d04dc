"""``probe_database``: the reachability check every live route makes, cached for a few seconds."""

from __future__ import annotations

import asyncio

from sqlalchemy import event

from aurorasoc.core import db


async def test_a_burst_of_requests_shares_one_probe(app_db: None) -> None:
    """60 requests arriving after the cache expired ran 60 probes, more than the pool holds; those
    left waiting past the timeout called a healthy database down (503s on PostgreSQL under load)."""
    await db.dispose_engine()
    probes: list[str] = []

    def keep(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        probes.append(statement)

    engine = db.get_engine().sync_engine
    event.listen(engine, "before_cursor_execute", keep)
    try:
        answers = await asyncio.gather(*(db.probe_database(force=True) for _ in range(60)))
        assert answers == [True] * 60
        assert probes.count("SELECT 1") == 1, probes
        assert await db.probe_database() is True and probes.count("SELECT 1") == 1  # cached
    finally:
        event.remove(engine, "before_cursor_execute", keep)
        await db.dispose_engine()
