"""The SIEM total: exact when cheap, otherwise scaled from the newest days and flagged (siem.counting)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import TEST_START

from aurorasoc.core.models import SiemLogModel
from aurorasoc.siem import counting
from aurorasoc.siem.counting import Total, budgeted_count, extrapolate
from aurorasoc.siem.search import LogFilters, SiemSearchService

NOW = TEST_START
DAYS, PER_DAY = 30, 10  # every other event of a day is a failed logon: 150 matches in all
FAILED = SiemLogModel.message.like("Failed password%")


def test_matches_of_the_newest_stretch_are_spread_over_the_span() -> None:
    assert extrapolate(70, timedelta(days=7), timedelta(days=70)) == 700
    assert extrapolate(70, timedelta(days=70), timedelta(days=7)) == 70  # the stretch held everything
    assert extrapolate(5, timedelta(0), timedelta(days=1)) == 5


@pytest.fixture
async def logons(any_db_session):
    any_db_session.add_all(
        SiemLogModel(
            timestamp=NOW - timedelta(days=day, minutes=k),
            source="auth.log",
            format="syslog",
            severity="info",
            fields={},
            message=f"Failed password for user042 from 10.0.0.{k}"
            if k % 2
            else f"Accepted password for user{k}",
        )
        for day in range(DAYS)
        for k in range(PER_DAY)
    )
    await any_db_session.flush()
    return any_db_session


def _span() -> tuple:
    return NOW - timedelta(days=DAYS - 1, minutes=PER_DAY - 1), NOW


async def test_a_count_within_its_budget_is_exact(logons) -> None:
    assert await budgeted_count(logons, [FAILED], _span(), budget=60, stretch=timedelta(days=6)) == Total(150)


async def test_past_the_budget_the_rest_is_scaled_and_flagged(logons, monkeypatch) -> None:
    monkeypatch.setattr(counting, "MIN_SAMPLE", 10)
    total = await budgeted_count(logons, [FAILED], _span(), budget=0, stretch=timedelta(days=6))
    low, high = _span()
    # the newest 6 days hold 30 matches; the span is 29 days and 9 minutes
    assert total == Total(round(30 * ((high - low) / timedelta(days=6))), estimated=True) == Total(145, True)


async def test_too_few_matches_to_scale_keep_the_count_going(logons, monkeypatch) -> None:
    # 30 matches in the newest 6 days are fewer than 40: the next 12 days are counted, then it scales
    monkeypatch.setattr(counting, "MIN_SAMPLE", 40)
    total = await budgeted_count(logons, [FAILED], _span(), budget=0, stretch=timedelta(days=6))
    low, high = _span()
    assert total == Total(round(90 * ((high - low) / timedelta(days=18))), estimated=True)
    rare = SiemLogModel.message.like("Failed password for user042 from 10.0.0.9")  # 30 matches in all
    assert await budgeted_count(logons, [rare], _span(), budget=0, stretch=timedelta(days=6)) == Total(30)


async def test_a_search_says_when_its_total_is_an_estimate(logons, monkeypatch) -> None:
    """PostgreSQL counts before the page, within the budget; SQLite's FTS5 count stays exact."""
    monkeypatch.setattr(counting, "COUNT_BUDGET_SECONDS", 0.0)
    monkeypatch.setattr(counting, "COUNT_STRETCH", timedelta(days=6))
    monkeypatch.setattr(counting, "MIN_SAMPLE", 10)
    found = await SiemSearchService(logons).search(LogFilters(q='"failed password"', range="all"), limit=50)
    assert len(found.rows) == 50 and all(r.message.startswith("Failed password") for r in found.rows)
    if logons.get_bind().dialect.name == "postgresql":
        assert (found.total, found.estimated, found.truncated) == (145, True, False)
    else:
        assert (found.total, found.estimated, found.truncated) == (150, False, False)
