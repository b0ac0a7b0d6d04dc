"""Events per host, user and log source per UTC day (``siem_entity_days``): what the entity
inventories and the Sources tab count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from aurorasoc.core.config import get_settings
from aurorasoc.core.db import session_scope
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.entity_days import day_counts, entity_days
from aurorasoc.siem.pipeline import DetectionPipeline
from aurorasoc.siem.retention import purge_expired


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _event(n: int, host: str | None, user: str | None, at: str, arrived: str) -> NormalizedEvent:
    return NormalizedEvent(
        timestamp=_at(at), received_at=_at(arrived), source="t", format="json", host=host, user_name=user,
        fields={"n": n}, time_source="record",
    )  # fmt: skip


EVENTS = [
    _event(0, "ws01", "alice", "2026-03-01 08:00:00", "2026-03-01 08:00:05"),
    _event(1, "ws01", "alice", "2026-03-01 23:59:00", "2026-03-02 00:00:01"),  # arrived the next day
    _event(2, "ws01", None, "2026-03-01 09:00:00", "2026-03-01 09:00:01"),
    _event(3, "srv9", "", "2019-05-05 05:05:05", "2026-03-02 10:00:00"),  # old evidence imported
]


def test_activity_counts_on_the_day_of_the_later_of_event_time_and_arrival() -> None:
    """As migration 0026 fills the table from stored events (tests/core/test_migrations.py)."""
    assert day_counts(EVENTS) == {
        ("host", date(2026, 3, 1), "ws01"): (2, _at("2026-03-01 09:00:00")),
        ("host", date(2026, 3, 2), "srv9"): (1, _at("2019-05-05 05:05:05")),
        ("host", date(2026, 3, 2), "ws01"): (1, _at("2026-03-01 23:59:00")),
        ("source", date(2026, 3, 1), "t"): (2, _at("2026-03-01 09:00:00")),
        ("source", date(2026, 3, 2), "t"): (2, _at("2026-03-01 23:59:00")),
        ("user", date(2026, 3, 1), "alice"): (1, _at("2026-03-01 08:00:00")),
        ("user", date(2026, 3, 2), "alice"): (1, _at("2026-03-01 23:59:00")),
    }
    assert list(day_counts(reversed(EVENTS))) == sorted(day_counts(EVENTS))  # one lock order for workers


async def test_batches_add_up_and_a_replayed_batch_counts_nothing(app_db: None) -> None:
    pipeline = DetectionPipeline(SigmaEngine())
    await pipeline.process(EVENTS[:2])
    await pipeline.process(EVENTS)  # the first two again: already stored
    async with session_scope() as session:
        hosts = sorted(await entity_days(session, "host", date(2026, 3, 1)))
        latest_day = await entity_days(session, "user", date(2026, 3, 2))
    assert hosts == [("srv9", 1, _at("2019-05-05 05:05:05")), ("ws01", 3, _at("2026-03-01 23:59:00"))]
    assert latest_day == [("alice", 1, _at("2026-03-01 23:59:00"))]


async def test_retention_forgets_the_days_it_purged(app_db: None) -> None:
    """Whole days go: the day the cutoff falls in keeps its counts until the next day's purge."""
    await DetectionPipeline(SigmaEngine()).process(EVENTS)
    retention = timedelta(days=get_settings().detection.siem_retention_days)
    async with session_scope() as session:
        purged = await purge_expired(session, get_settings(), _at("2026-03-02 05:00:00") + retention)
        await session.commit()
        left = await entity_days(session, "host", date(2000, 1, 1))
    assert purged["siem_logs"] == 3 and purged["siem_entity_days"] == 3  # 2026-03-01's host, user, source
    assert sorted(name for name, _, _ in left) == ["srv9", "ws01"]


def test_a_long_source_name_is_cut_as_the_stored_source_is() -> None:
    """The Sources tab looks a source's day up by its stored name (128 characters)."""
    long = EVENTS[0].model_copy(update={"source": "s" * 300})
    assert [name for kind, _, name in day_counts([long]) if kind == "source"] == ["s" * 128]
