"""API latency and alert-ingest throughput on the embedded SQLite default.

Seeds 100,000 alerts into a fresh data dir, starts `aurorasoc serve` as a real uvicorn process
on loopback, then measures:
  * p50/p95/p99 of filtered list reads (`GET /api/v1/alerts?limit=50&…`)
  * alert creation over HTTP (single POSTs, half of them dedup hits) and via the batch endpoint
Targets (spec/issue): list p95 < 50 ms; creation > 1,000 alerts/s on one core.

Usage: .venv/bin/python bench/api_latency.py [--alerts 100000] [--reads 300] [--creates 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from live_server import admin_token, live_server  # noqa: E402

SEVERITIES = ["critical", "high", "medium", "low", "info"]
STATUSES = ["new", "triaged", "investigating", "resolved"]
SOURCES = ["network", "endpoint", "suricata", "windows", "linux", "cps"]


async def seed(count: int) -> float:
    """Insert ``count`` alerts in bulk (core INSERTs, not the API) and return the seconds taken."""
    from sqlalchemy import insert

    from aurorasoc.core.db import dispose_engine, get_engine
    from aurorasoc.core.models import AlertModel

    started = time.perf_counter()
    now = datetime.now(UTC)
    rng = random.Random(7)
    batch: list[dict[str, object]] = []
    async with get_engine().begin() as conn:
        for i in range(count):
            created = now - timedelta(seconds=i * 30)
            batch.append(
                {
                    "id": uuid.uuid4(),
                    "title": f"Seeded detection {i % 500}: suspicious activity on host-{i % 2000}",
                    "description": f"bench alert {i}",
                    "severity": rng.choice(SEVERITIES),
                    "status": rng.choice(STATUSES),
                    "source": rng.choice(SOURCES),
                    "iocs": [f"203.0.113.{i % 250}"],
                    "mitre_techniques": ["T1110.001"],
                    "affected_assets": [f"host:host-{i % 2000}"],
                    "metadata_": {},
                    "dedup_hash": uuid.uuid4().hex + uuid.uuid4().hex,
                    "occurrence_count": 1,
                    "first_seen_at": created,
                    "last_seen_at": created,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            if len(batch) == 5000:
                await conn.execute(insert(AlertModel), batch)
                batch.clear()
        if batch:
            await conn.execute(insert(AlertModel), batch)
    await dispose_engine()
    return time.perf_counter() - started


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def measure_reads(client: httpx.AsyncClient, n: int) -> dict[str, list[float]]:
    queries = {
        "severity=high": {"severity": "high", "limit": 50},
        "severity+status": {"severity": "critical", "status": "new", "limit": 50},
        "source, page 20": {"source": "suricata", "limit": 50, "skip": 1000},
        "text q=host-42": {"q": "host-42", "limit": 50},
    }
    results: dict[str, list[float]] = {}
    for label, params in queries.items():
        samples = []
        for _ in range(n):
            started = time.perf_counter()
            resp = await client.get("/api/v1/alerts", params=params)
            samples.append((time.perf_counter() - started) * 1000)
            resp.raise_for_status()
        results[label] = samples
    return results


async def measure_creates(client: httpx.AsyncClient, n: int, concurrency: int) -> tuple[float, int, int]:
    """Single POSTs from ``concurrency`` workers; every other alert repeats (a dedup hit)."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    codes = {200: 0, 201: 0}

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            body = {
                "title": f"Bench create {i // 2}",
                "source": "bench",
                "severity": "medium",
                "iocs": [f"198.51.100.{i % 200}"],
            }
            if i % 2:
                body["iocs"] = [f"198.51.100.{(i - 1) % 200}"]
            resp = await client.post("/api/v1/alerts", json=body)
            codes[resp.status_code] = codes.get(resp.status_code, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return n / elapsed, codes.get(201, 0), codes.get(200, 0)


async def measure_batch(client: httpx.AsyncClient, n: int, size: int = 500) -> float:
    started = time.perf_counter()
    for start in range(0, n, size):
        alerts = [
            {
                "title": f"Batch alert {i}",
                "source": "bench-batch",
                "severity": "low",
                "iocs": [f"203.0.113.{i % 250}"],
            }
            for i in range(start, min(n, start + size))
        ]
        (await client.post("/api/v1/alerts/batch", json={"alerts": alerts})).raise_for_status()
    return n / (time.perf_counter() - started)


async def main(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="aurora-bench-"))
    os.environ.update({"AURORA_DATA_DIR": str(data_dir), "AURORA_MODE": "real"})
    from aurorasoc.core.migrate import upgrade_async

    await upgrade_async()
    seed_seconds = await seed(args.alerts)
    with live_server(data_dir, pin_core=0) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            client.headers["Authorization"] = f"Bearer {admin_token(base)}"
            await measure_reads(client, 20)  # warm-up
            reads = await measure_reads(client, args.reads)
            create_rate, created, deduped = await measure_creates(client, args.creates, args.concurrency)
            batch_rate = await measure_batch(client, args.creates)
    report(args, seed_seconds, reads, create_rate, created, deduped, batch_rate)


def report(args, seed_seconds, reads, create_rate, created, deduped, batch_rate) -> None:  # type: ignore[no-untyped-def]
    console = Console()
    table = Table(
        title=f"GET /api/v1/alerts latency ({args.alerts:,} alerts, SQLite, {args.reads} requests each)"
    )
    for column in ("query", "p50 ms", "p95 ms", "p99 ms", "mean ms", "target"):
        table.add_column(column, justify="right" if column != "query" else "left")
    for label, samples in reads.items():
        p95 = _percentile(samples, 95)
        table.add_row(
            label,
            f"{_percentile(samples, 50):.1f}",
            f"{p95:.1f}",
            f"{_percentile(samples, 99):.1f}",
            f"{statistics.mean(samples):.1f}",
            "ok (<50)" if p95 < 50 else "MISSED (<50)",
        )
    console.print(table)
    table = Table(title="Alert creation (server pinned to one core)")
    for column in ("path", "alerts/s", "detail", "target"):
        table.add_column(column)
    table.add_row(
        f"POST /alerts x{args.creates}, {args.concurrency} clients",
        f"{create_rate:,.0f}",
        f"{created} new, {deduped} dedup hits",
        "ok (>1000)" if create_rate > 1000 else "below 1000",
    )
    table.add_row(
        "POST /alerts/batch (500 per request)",
        f"{batch_rate:,.0f}",
        f"{args.creates} alerts",
        "ok (>1000)" if batch_rate > 1000 else "below 1000",
    )
    console.print(table)
    console.print(f"seeding {args.alerts:,} alerts took {seed_seconds:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--creates", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    asyncio.run(main(parser.parse_args()))
