"""The SIEM total: exact when cheap, otherwise scaled from the newest days and flagged (siem.counting)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from aurorasoc.core.models import SiemLogModel
from aurorasoc.core.siem_partitions import ensure_day_partitions
from aurorasoc.siem import counting
from aurorasoc.siem.counting import Total, budgeted_count, extrapolate
from aurorasoc.siem.search import LogFilters, SiemSearchService

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)  # noon: an event's day does not depend on when tests run
DAYS, PER_DAY = 30, 10  # every other event of a day is a failed logon: 150 matches in all
FAILED = SiemLogModel.message.like("Failed password%")
RARE = SiemLogModel.message.like("Failed password for user042 from 10.0.0.9")  # 30 matches in all


def _days(count: int = DAYS) -> list[tuple[date, int]]:
    return [((NOW - timedelta(days=day)).date(), PER_DAY) for day in reversed(range(count))]


def test_matches_of_the_newest_days_are_spread_over_their_events() -> None:
    day = date(2026, 11, 1)
    assert extrapolate(70, [(day, 1_000)], [(day, 1_000), (day, 9_000)]) == 700  # 70 per 1,000 events
    assert extrapolate(70, [(day, 0)], [(day, 0)] * 10) == 700  # no statistics yet: per day
    assert extrapolate(70, [(day, 5)], [(day, 5)]) == 70  # the newest days were all of them


@pytest.fixture(autouse=True)
def _any_store_may_be_estimated(monkeypatch: pytest.MonkeyPatch) -> None:
    """These stores are small: below ESTIMATE_ROWS every count finishes, so it is lowered here."""
    monkeypatch.setattr(counting, "ESTIMATE_ROWS", 0)


@pytest.fixture
async def logons(any_db_session):
    stamps = [NOW - timedelta(days=day, minutes=k) for day in range(DAYS) for k in range(PER_DAY)]
    await ensure_day_partitions(any_db_session, stamps)  # PostgreSQL: a partition per day, as ingest makes
    any_db_session.add_all(
        SiemLogModel(
            timestamp=stamp,
            source="auth.log",
            format="syslog",
            severity="info",
            fields={},
            message=f"Failed password for user042 from 10.0.0.{k % 10}"
            if k % 2
            else "Accepted password for bob",
        )
        for k, stamp in enumerate(stamps)
    )
    await any_db_session.flush()
    return any_db_session


async def test_a_count_within_its_budget_is_exact(logons) -> None:
    assert await budgeted_count(logons, [FAILED], _days(), budget=60, first_days=6) == Total(150)


async def test_past_the_budget_the_rest_is_scaled_and_flagged(logons, monkeypatch) -> None:
    monkeypatch.setattr(counting, "MIN_SAMPLE", 10)
    # the newest 6 days hold 30 matches: 5 a day over the 30 days that hold events
    assert await budgeted_count(logons, [FAILED], _days(), budget=0, first_days=6) == Total(
        150, estimated=True
    )


async def test_days_without_events_do_not_scale_the_estimate(logons, monkeypatch) -> None:
    """Only the days that hold events count: years of empty days between imports scale nothing."""
    monkeypatch.setattr(counting, "MIN_SAMPLE", 10)
    days = [(date(2019, 7, 19), 10), (date(2021, 12, 7), 10), *_days()[-6:]]  # two old imports, then 6 days
    assert await budgeted_count(logons, [FAILED], days, budget=0, first_days=6) == Total(40, estimated=True)


async def test_a_store_below_the_estimate_floor_is_always_counted_exactly(logons, monkeypatch) -> None:
    monkeypatch.setattr(counting, "MIN_SAMPLE", 10)
    monkeypatch.setattr(counting, "ESTIMATE_ROWS", 241)  # the 24 older days hold 240 events
    assert await budgeted_count(logons, [FAILED], _days(), budget=0, first_days=6) == Total(150)


async def test_too_few_matches_to_scale_keep_the_count_going(logons, monkeypatch) -> None:
    # 30 matches in the newest 6 days are fewer than 40: the next 12 days are counted, then it scales
    monkeypatch.setattr(counting, "MIN_SAMPLE", 40)
    assert await budgeted_count(logons, [FAILED], _days(), budget=0, first_days=6) == Total(
        150, estimated=True
    )
    # 30 matches in all, never MIN_SAMPLE: counted to the end, exact
    assert await budgeted_count(logons, [RARE], _days(), budget=0, first_days=6) == Total(30)
    assert await budgeted_count(logons, [FAILED], [], budget=0) == Total(150)  # no days known: one count


async def test_a_search_says_when_its_total_is_an_estimate(logons, monkeypatch) -> None:
    """PostgreSQL counts before the page, within the budget; SQLite's FTS5 count stays exact."""
    monkeypatch.setattr(counting, "COUNT_BUDGET_SECONDS", 0.0)
    monkeypatch.setattr(counting, "COUNT_DAYS", 6)
    monkeypatch.setattr(counting, "MIN_SAMPLE", 10)
    found = await SiemSearchService(logons).search(LogFilters(q='"failed password"', range="all"), limit=50)
    assert len(found.rows) == 50 and all(r.message.startswith("Failed password") for r in found.rows)
    postgresql = logons.get_bind().dialect.name == "postgresql"
    assert (found.total, found.estimated, found.truncated) == (150, postgresql, False)
    bounded = LogFilters(q='"failed password"', since=NOW - timedelta(days=2, hours=13))
    found = await SiemSearchService(logons).search(bounded, limit=50)
    assert (found.total, found.estimated) == (15, False)  # 3 days: fewer than the first stretch
