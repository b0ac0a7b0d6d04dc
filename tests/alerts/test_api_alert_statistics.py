"""Alert tables written in bulk get planner statistics (spec §28): PostgreSQL plans a table that
was never analysed as if empty, and the correlation peer look-up then took seconds per batch."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from aurorasoc.alerts import paging, statistics
from aurorasoc.core.db import get_engine, get_session_factory
from aurorasoc.core.models import AlertModel
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.pipeline import DetectionPipeline

pytestmark = pytest.mark.postgresql_app  # ANALYZE is PostgreSQL's; SQLite plans without it
SEVERITIES = ["critical", "high", "medium", "low", "info"]


async def _reltuples(table: str) -> float:
    async with get_engine().connect() as conn:
        return float(
            (
                await conn.execute(text(f"SELECT reltuples FROM pg_class WHERE relname = '{table}'"))
            ).scalar_one()
        )


async def test_bulk_writes_analyse_the_alert_tables(client, admin_headers, monkeypatch) -> None:
    monkeypatch.setattr(statistics, "ANALYZE_FIRST_ROWS", 20)
    monkeypatch.setattr(statistics, "_analyzer", statistics._Analyzer())
    async with get_engine().begin() as conn:  # statistics of the emptied tables: 0 rows, whatever ran before
        await conn.execute(text("ANALYZE alerts, alert_iocs"))
    assert await _reltuples("alerts") == 0
    alerts = [{"title": f"bulk {i}", "source": "edr", "iocs": [f"10.1.0.{i}"]} for i in range(30)]
    resp = await client.post("/api/v1/alerts/batch", json={"alerts": alerts}, headers=admin_headers)
    assert resp.status_code == 200
    task = statistics._analyzer.task
    assert task is not None
    await task
    assert await _reltuples("alerts") == 30
    assert await _reltuples("alert_iocs") == 30
    assert statistics._analyzer.next_at == 60  # the next run once the count has doubled


RULE = """
title: Test beacon
id: 0b6c2f7e-51c4-4f0e-9a4e-3f1d7f3f0a11
status: test
logsource:
  product: linux
detection:
  keywords:
    - beacon-to-c2
  condition: keywords
level: high
"""


async def test_alerts_from_log_ingest_analyse_the_alert_tables(client, monkeypatch) -> None:
    """The detection pipeline (log ingest: CLI, HTTP, Redis lane) creates alerts without the batch
    endpoint: it keeps the statistics current too."""
    monkeypatch.setattr(statistics, "ANALYZE_FIRST_ROWS", 20)
    monkeypatch.setattr(statistics, "_analyzer", statistics._Analyzer())
    async with get_engine().begin() as conn:
        await conn.execute(text("ANALYZE alerts"))
    assert await _reltuples("alerts") == 0
    engine = SigmaEngine()
    engine.add_yaml(RULE)
    events = [
        NormalizedEvent(
            source="syslog", format="line", product="linux", host=f"srv-{i}", message=f"beacon-to-c2 #{i}",
            fields={"n": i}, entities={"host.name": f"srv-{i}"},
        )
        for i in range(30)
    ]  # fmt: skip
    result = await DetectionPipeline(engine).process(events)
    assert result.alerts_created == 30
    task = statistics._analyzer.task
    assert task is not None
    await task
    assert await _reltuples("alerts") == 30


async def test_the_queue_total_estimate_counts_live_rows_not_dead_ones(client, monkeypatch) -> None:
    """Updates leave dead rows until a vacuum; the planner alone then doubles the estimate."""
    monkeypatch.setattr(paging, "COUNT_CAP", 100)
    flush = text("SELECT pg_stat_force_next_flush()")  # the counters reach pg_stat at this commit
    async with get_session_factory()() as session:
        session.add_all(_alerts(3000))
        await session.execute(flush)
        await session.commit()
    async with get_engine().begin() as conn:
        await conn.execute(text("ANALYZE alerts"))
    async with get_session_factory()() as session:
        await session.execute(text("UPDATE alerts SET status = 'acknowledged'"))
        await session.execute(flush)
        await session.commit()
    async with get_session_factory()() as session:
        planner = await paging._plan_rows(session, select(AlertModel.id))
        total, estimated = await paging.count_alerts(session, [])
        high = [AlertModel.severity == "high"]
        filtered, filtered_estimated = await paging.count_alerts(session, high)
    assert planner > 4500  # what the estimate was: every row counted twice
    assert (total, estimated) == (3000, True)
    assert filtered_estimated and 450 <= filtered <= 750  # a fifth of the live rows


def _alerts(count: int) -> list[AlertModel]:
    return [
        AlertModel(title=f"bulk {i}", severity=SEVERITIES[i % 5], source="edr", dedup_hash=f"estimate-{i}")
        for i in range(count)
    ]
