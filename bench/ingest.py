"""Ingest throughput (issue 15): ``aurorasoc ingest`` end to end, and the Redis lane with 1 vs 2 workers.

1. End to end, in this process: the 2,407 SigmaHQ Windows rules (../shared/data/sigma/rules/windows) are
   loaded untimed (reported apart, as the CLI does once per run), then the CLI's own ``ingest_files``
   (parse, detect, store, alerts, case correlation) runs over every EVTX file of
   ../shared/data/evtx-attack-samples into a fresh SQLite store. The figure is events per CPU-second
   (``time.process_time``: every thread of this process, aiosqlite's included), beside the target.
2. Redis lane (``--lane``): the EVTX events are repeated with varied hosts and record ids up to
   ``--events`` (200,000), published with the product's own ``publish_events`` onto ``aurora:logs``
   (Redis db ``--redis-db``), and consumed by 1, then 2 ``aurorasoc worker --role detection`` processes
   against ``--database-url`` (a fresh database each run; PostgreSQL: the lane's store). Reported: wall
   seconds to drain, the workers' CPU seconds (from /proc, rule loading excluded), and the 2-vs-1 ratio of
   throughput (after an untimed warm-up pass of the samples per worker).
   On a shared machine the wall ratio is only meaningful when two cores are free; the
   CPU-seconds per event show whether the second worker costs extra work (contention, retries).

Usage: .venv/bin/python bench/ingest.py [--lane --database-url URL --events 200000 --redis-db 9]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import redis
import structlog

from aurorasoc.cli.common import ensure_schema, run
from aurorasoc.cli.ingest_files import ingest_files
from aurorasoc.core.bus.redis_streams import RedisStreamsBus
from aurorasoc.core.config import reset_settings
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.log_stream import DETECTION_GROUP, LOGS_STREAM, publish_events
from aurorasoc.siem.parsers import parse_file

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("AURORA_SHARED_DATA") or ROOT.parent / "shared" / "data")
RULES = DATA / "sigma" / "rules" / "windows"
LOGS = DATA / "evtx-attack-samples"
TARGET_EVENTS_PER_CPU_S = 10_000.0
TARGET_SCALING = 1.8
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def end_to_end(files: list[Path], data_dir: Path) -> None:
    os.environ["AURORA_DATA_DIR"] = str(data_dir)
    os.environ.pop("AURORA_DATABASE_URL", None)
    reset_settings()
    ensure_schema()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))  # as the CLI
    started = time.process_time()
    engine = SigmaEngine.from_paths([RULES])
    loading = time.process_time() - started
    started, wall = time.process_time(), time.perf_counter()
    report = run(lambda: ingest_files(files, engine, "auto", None))
    cpu, wall = time.process_time() - started, time.perf_counter() - wall
    events = report.result.events
    print(f"rules: {len(engine.rules)} loaded in {loading:.1f} CPU-s (untimed)")
    print(
        f"end to end: {events:,} events, {report.result.alerts_created} alerts, "
        f"{report.cases_created} cases, "
        f"{cpu:.2f} CPU-s ({wall:.1f} s wall): {events / cpu:,.0f} events/CPU-s "
        f"(target >= {TARGET_EVENTS_PER_CPU_S:,.0f}); {_load()}"
    )


def varied(events: list[NormalizedEvent], total: int, round_: int = 0) -> Iterator[NormalizedEvent]:
    """The sample events repeated up to ``total``, each round on other hosts with other record ids."""
    produced = 0
    while True:
        for event in events:
            if produced >= total:
                return
            host = f"{event.host or 'host'}-{round_ % 97}"
            record = f"{round_}{event.fields.get('EventRecordID', '')}"
            raw = f"{event.raw or ''}<!-- {host} {record} -->"
            fields = {**event.fields, "Computer": host, "EventRecordID": record}
            yield event.model_copy(update={"host": host, "fields": fields, "raw": raw})
            produced += 1
        round_ += 1


def _load() -> str:
    """The 1/5/15-minute load average: on a shared machine CPU-seconds inflate under contention."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def proc_cpu(pid: int) -> float:
    parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / CLOCK_TICKS


def reset_database(url: str) -> None:
    """Drop and recreate the lane's PostgreSQL database (URL's last path segment), then migrate it."""
    admin, name = url.replace("+asyncpg", "").rsplit("/", 1)

    async def recreate() -> None:
        conn = await asyncpg.connect(f"{admin}/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(recreate())
    os.environ["AURORA_DATABASE_URL"] = url
    reset_settings()
    ensure_schema()
    subprocess.run([sys.executable, "-m", "aurorasoc.cli", "rules", "import", str(RULES)], check=True)


def lane_run(workers: int, events: list[NormalizedEvent], total: int, url: str, redis_url: str) -> float:
    """Drain ``total`` events with ``workers`` processes; returns events per wall second."""
    reset_database(url)
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    env = {
        **os.environ,
        "AURORA_DATABASE_URL": url,
        "AURORA_REDIS_URL": redis_url,
        "AURORA_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "aurorasoc.cli", "worker", "--role", "detection"]
    procs = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL) for _ in range(workers)]
    try:
        # Warm-up, untimed: every worker loads its rules and builds its candidate indexes.
        asyncio.run(_publish(redis_url, events, len(events) * workers, -workers))
        _drain(client)
        base = sum(proc_cpu(p.pid) for p in procs)
        started = time.perf_counter()
        asyncio.run(_publish(redis_url, events, total))
        _drain(client)
        wall = time.perf_counter() - started
        cpu = sum(proc_cpu(p.pid) for p in procs) - base
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    print(
        f"lane, {workers} worker(s): {total:,} events in {wall:.1f} s wall ({total / wall:,.0f}/s), "
        f"{cpu:.1f} worker CPU-s ({total / cpu:,.0f} events/CPU-s); {_load()}"
    )
    return total / wall


async def _publish(redis_url: str, events: list[NormalizedEvent], total: int, round_: int = 0) -> None:
    bus = RedisStreamsBus(redis_url)
    try:
        await publish_events(bus, varied(events, total, round_), "bench")
    finally:
        await bus.close()


def _drain(client: redis.Redis) -> None:
    while True:
        groups = {g["name"].decode(): g for g in client.xinfo_groups(LOGS_STREAM)}  # type: ignore[union-attr]
        group = groups.get(DETECTION_GROUP)
        if group and group["pending"] == 0 and group["lag"] == 0:
            return
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lane", action="store_true", help="Also run the Redis lane, 1 vs 2 workers")
    parser.add_argument("--lane-only", action="store_true", help="Only the Redis lane")
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/s6_ingest")
    parser.add_argument("--redis-db", type=int, default=9)
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    files = sorted(LOGS.rglob("*.evtx"))
    if not args.lane_only:
        with tempfile.TemporaryDirectory() as data_dir:
            end_to_end(files, Path(data_dir))
    if not (args.lane or args.lane_only):
        return
    events = [e for path in files for e in parse_file(path) if isinstance(e, NormalizedEvent)]
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    one = lane_run(1, events, args.events, args.database_url, redis_url)
    two = lane_run(2, events, args.events, args.database_url, redis_url)
    print(f"lane scaling, 2 workers vs 1: {two / one:.2f}x (target >= {TARGET_SCALING}x)")


if __name__ == "__main__":
    main()
