"""Alert tables written in bulk get planner statistics (spec §28): PostgreSQL plans a table that
was never analysed as if empty, and the correlation peer look-up then took seconds per batch."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from aurorasoc.alerts import statistics
from aurorasoc.core.db import get_engine

pytestmark = pytest.mark.postgresql_app  # ANALYZE is PostgreSQL's; SQLite plans without it


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
