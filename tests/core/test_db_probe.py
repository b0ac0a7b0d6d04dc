"""``probe_database``: the reachability check every live route makes, cached for a few seconds."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import event, text

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


async def test_down_is_checked_again_after_a_second(app_db: None) -> None:
    """A "down" answer that came from a probe timing out on a loaded machine must not keep a
    working database behind 503s for the whole up-cache lifetime."""
    db._probe_cache = (time.monotonic(), False)
    assert await db.probe_database() is False  # fresh: believed, no new probe
    db._probe_cache = (time.monotonic() - db.PROBE_DOWN_TTL_SECONDS - 0.1, False)
    assert db.PROBE_DOWN_TTL_SECONDS < db.PROBE_TTL_SECONDS
    assert await db.probe_database() is True  # re-probed


async def test_a_connection_handed_out_proves_the_database_up(app_db: None) -> None:
    """Seen in CI: the start-up probe timed out, the test's own writes then succeeded through the
    same pool, and the next request was still answered 503 from the cached "down"."""
    db._probe_cache = (time.monotonic(), False)
    async with db.session_scope() as session:
        await session.execute(text("SELECT 2"))
    assert await db.probe_database() is True
