"""Correlation baselines seeded from the last 24 h of stored telemetry (spec §18)."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import pytest

from aurorasoc.core.models import CPSTelemetryModel
from aurorasoc.core.vocabulary import CorrelationType
from aurorasoc.cps.baselines import baseline_from_moments, load_baselines
from aurorasoc.cps.correlation import Baseline, CorrelationEngine

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
READINGS = [20.0 + 0.25 * ((i * 7) % 5 - 2) for i in range(40)]


def test_moments_give_the_same_state_as_running_updates():
    running = Baseline(started=NOW)
    for value in READINGS:
        running.add(value, NOW)
    mean = statistics.fmean(READINGS)
    seeded = baseline_from_moments(len(READINGS), mean, statistics.fmean(v * v for v in READINGS), NOW)
    assert seeded.n == running.n == 40
    assert seeded.mean == pytest.approx(running.mean)
    assert seeded.std == pytest.approx(running.std) == pytest.approx(statistics.stdev(READINGS))


def test_a_constant_series_has_zero_spread_not_a_negative_one():
    assert baseline_from_moments(10, 3.3, 3.3 * 3.3 - 1e-15, NOW).std == 0.0


async def test_stored_readings_seed_the_engine(any_db_session):
    rows = [
        CPSTelemetryModel(device_id="pump-1", metric="temp", value=v, timestamp=NOW - timedelta(minutes=i))
        for i, v in enumerate(READINGS)
    ]
    rows.append(
        CPSTelemetryModel(device_id="pump-1", metric="temp", value=900.0, timestamp=NOW - timedelta(days=2))
    )
    any_db_session.add_all(rows)
    await any_db_session.flush()

    baselines = await load_baselines(any_db_session, NOW)
    base = baselines[("pump-1", "temp")]
    assert base.n == 40  # the 2-day-old reading is outside the window
    assert base.mean == pytest.approx(statistics.fmean(READINGS))
    assert base.std == pytest.approx(statistics.stdev(READINGS), rel=1e-6)

    cold, warm = CorrelationEngine(), CorrelationEngine()
    warm.seed(baselines)
    assert cold.telemetry("pump-1", "z1", "temp", 35.0, NOW) == []  # no history yet: nothing to judge
    [finding] = warm.telemetry("pump-1", "z1", "temp", 35.0, NOW)
    assert finding.type is CorrelationType.ANOMALOUS_TELEMETRY and finding.evidence["samples"] == 40
    assert warm.telemetry("pump-1", "z1", "temp", 20.1, NOW) == []


def test_seeding_keeps_a_baseline_built_from_live_readings():
    engine = CorrelationEngine()
    engine.telemetry("pump-1", None, "temp", 1.0, NOW)
    live = engine.baselines[("pump-1", "temp")]
    engine.seed({("pump-1", "temp"): baseline_from_moments(5, 9.0, 81.0, NOW)})
    assert engine.baselines[("pump-1", "temp")] is live
