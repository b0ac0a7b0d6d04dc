"""The alert pipeline's correlation throughput by batch size (issue 15, spec §28: batches
correlate in one pass), on SQLite and PostgreSQL.

For each database: a fresh store, ``--alerts`` generated alerts stored through ``AlertService`` (the
batch endpoint's service, unpublished; the shapes of ``alerts_store.py``: 2,000 hosts, 600 users,
recurring IOCs, network sources; on PostgreSQL then analysed, as the service's own statistics
upkeep would have), then the pipeline's own handler (``handle_alert_events``: case
correlation, network-attack correlation, automation rules, one transaction per batch) over them
in batches of one size; each of ``--batches`` sizes gets its own fresh store. A batch of one is
what a trickle of single alerts costs, 100 what a backlog costs; the in-process and Redis buses
linger in a burst so that single POSTs are handled in larger batches. The figure is alerts per
CPU-second of this process (PostgreSQL's own CPU is not counted), with the wall time beside it.

Usage: .venv/bin/python bench/alert_pipeline.py [--alerts 3000] [--batches 1,10,100]
       [--db sqlite,postgresql] [--pg-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from alerts_store import BATCH, Generator, pg_database  # noqa: E402


class _Quiet:
    """The bus the handler announces linked alerts on: nobody listens here."""

    async def publish_many(self, stream: str, items: list[dict[str, Any]]) -> None:
        return None


async def _store(count: int) -> list[str]:
    from sqlalchemy import text

    from aurorasoc.alerts.service import AlertService
    from aurorasoc.alerts.statistics import TABLES as ANALYZED
    from aurorasoc.core.db import get_session_factory
    from aurorasoc.core.vocabulary import AlertCreate

    factory, gen, ids = get_session_factory(), Generator(seed=3), []
    for start in range(0, count, BATCH):
        batch = [gen.alert(i, 0.1) for i in range(start, min(count, start + BATCH))]
        async with factory() as session:
            results = await AlertService(session).create_many([AlertCreate.model_validate(a) for a in batch])
            await session.commit()
        ids += [str(alert.id) for alert, created in results if created]
    async with factory() as session:
        if session.bind.dialect.name == "postgresql":  # what alerts.statistics keeps current in service
            for table in ANALYZED:
                await session.execute(text(f"ANALYZE {table}"))
            await session.commit()
    return ids


async def _correlate(ids: list[str], size: int) -> tuple[float, float]:
    from aurorasoc.core.bus.base import BusMessage
    from aurorasoc.workers.alert_pipeline import handle_alert_events

    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        messages = [
            BusMessage(str(n), "aurora:alerts", {"event": "created", "id": i}) for n, i in enumerate(chunk)
        ]
        await handle_alert_events(messages, _Quiet())  # type: ignore[arg-type]  # publish_many only
    return time.process_time() - cpu, time.perf_counter() - wall


def run(url: str | None, count: int, size: int) -> tuple[int, float, float]:
    """One fresh store of ``count`` alerts, correlated in batches of ``size``: (alerts, CPU s, wall s)."""
    os.environ["AURORA_DATA_DIR"] = tempfile.mkdtemp(prefix="aurora-pipeline-")
    os.environ["AURORA_LOG_LEVEL"] = "WARNING"
    if url:
        os.environ["AURORA_DATABASE_URL"] = url
    else:
        os.environ.pop("AURORA_DATABASE_URL", None)
    from aurorasoc.core.config import get_settings, reset_settings
    from aurorasoc.core.db import dispose_engine
    from aurorasoc.core.logging import configure_logging
    from aurorasoc.core.migrate import upgrade

    reset_settings()
    configure_logging(get_settings())
    upgrade()

    async def measure() -> tuple[int, float, float]:
        ids = await _store(count)
        cpu, wall = await _correlate(ids, size)
        await dispose_engine()
        return len(ids), cpu, wall

    return asyncio.run(measure())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=3000)
    parser.add_argument("--batches", default="1,10,100")
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    console = Console(width=110)
    for db in args.db.split(","):
        table = Table(
            title=f"Alert pipeline on {db}: correlation of {args.alerts:,} stored alerts by batch size"
        )
        for name in ("alerts per batch", "alerts", "alerts/CPU-s", "alerts/s wall", "CPU s", "wall s"):
            table.add_column(name, justify="right")
        for size in (int(s) for s in args.batches.split(",")):
            if db == "sqlite":
                count, cpu, wall = run(None, args.alerts, size)
            else:
                with pg_database(args.pg_url) as url:
                    count, cpu, wall = run(url, args.alerts, size)
            rate, wall_rate = f"{count / cpu:,.0f}", f"{count / wall:,.0f}"
            table.add_row(str(size), f"{count:,}", rate, wall_rate, f"{cpu:.1f}", f"{wall:.1f}")
        console.print(table)


if __name__ == "__main__":
    main()
