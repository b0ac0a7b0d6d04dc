"""Playbook engine throughput with simulated connectors.

Creates a fresh SQLite data dir, imports the showcase playbooks, creates alerts through
AlertService, then starts ``phishing-response`` (4 steps, no approval gate) once per alert,
committing after every step as in production. Prints playbook starts/s (start → finished) and
the median step latency (step start → step end). Target (issue 5): >= 50 starts/s on 2 cores.

Usage: .venv/bin/python bench/playbooks.py [--runs 300] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import datetime

from rich.console import Console
from rich.table import Table


async def main(runs: int) -> None:
    from aurorasoc.alerts.service import AlertService
    from aurorasoc.core.config import get_settings
    from aurorasoc.core.db import dispose_engine, get_engine, session_scope
    from aurorasoc.core.logging import configure_logging
    from aurorasoc.core.models import Base
    from aurorasoc.core.vocabulary import AlertCreate
    from aurorasoc.soar.executions import ExecutionService
    from aurorasoc.soar.playbooks import PlaybookService

    configure_logging(get_settings())
    async with get_engine().begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with session_scope() as session:
        await PlaybookService(session).import_showcase(actor="bench")
        alerts, _ = zip(*await AlertService(session).create_many([
            AlertCreate(title=f"Phishing wave {i}", source="mail", severity="medium",
                        iocs=[f"198.51.{i // 250}.{i % 250 + 1}"], affected_assets=[f"user:u{i}"])
            for i in range(runs)
        ]), strict=True)  # fmt: skip
    step_ms: list[float] = []
    started = time.perf_counter()
    async with session_scope() as session:
        playbook = await PlaybookService(session).by_name("phishing-response")
        assert playbook is not None
        service = ExecutionService(session)
        for alert in alerts:
            execution = await service.execute(playbook, actor="bench", alert_id=alert.id)
            assert execution.status == "completed", execution.error
            step_ms += [_ms(s) for s in execution.steps if s["status"] == "completed" and s["started_at"]]
    elapsed = time.perf_counter() - started
    await dispose_engine()

    table = Table("metric", "value", title=f"{runs} runs of phishing-response (simulated connectors)")
    table.add_row("playbook starts/s (start → completed)", f"{runs / elapsed:,.1f}")
    table.add_row("median step latency", f"{statistics.median(step_ms):.2f} ms")
    table.add_row("p95 step latency", f"{statistics.quantiles(step_ms, n=20)[-1]:.2f} ms")
    table.add_row("database", os.environ["AURORA_DATABASE_URL"].split("://")[0])
    Console().print(table)


def _ms(step: dict) -> float:
    return (
        datetime.fromisoformat(step["finished_at"]) - datetime.fromisoformat(step["started_at"])
    ).total_seconds() * 1e3


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="aurora-bench-playbooks-")
    os.environ.setdefault("AURORA_DATA_DIR", tmp)
    os.environ["AURORA_DATABASE_URL"] = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
    os.environ.setdefault("AURORA_MODE", "real")
    os.environ.setdefault("AURORA_LOG_LEVEL", "WARNING")
    asyncio.run(main(args.runs))
