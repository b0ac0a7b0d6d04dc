"""The alert store at scale (issue 15, spec §28), on SQLite and PostgreSQL, through a real server.

For each database: start `aurorasoc serve` on a fresh store, load ``--alerts`` generated alerts
through the product's own write path (`POST /api/v1/alerts/batch`, 500 per request: that load is
the batch figure), wait for the alert pipeline to correlate it, then measure alert creation with 8
clients and 50 % repeats (single POSTs), wait for the pipeline again (the events it handled per
second and per server CPU-second are reported after each phase), and only then the p95 of the
queue's list shapes: first page, filtered, text search, entity filter, and a cursor page 90 % deep.
Every figure is printed beside its target, with the server's CPU seconds and the wall time (the
machine is shared: per-CPU-second figures are the ones to compare).

Data is realistic in shape: a few hundred detection names over 2,000 hosts and 600 users, IOCs
drawn from a pool (so they recur), ATT&CK techniques, skewed severities, and repeats (a tenth of
the load, half of the creation phase) that fold into open alerts.

``--preload N`` first stores N alerts of the same kind through ``AlertService.create_many`` (the
service behind the batch endpoint, 500 per transaction) before the server starts, without publishing
them: a history the pipeline does not correlate, so the 1M-alert figures take minutes to set up
instead of the hour the HTTP load and the correlation drain would. ``--keep`` names the store (a
data directory for SQLite, a database for PostgreSQL) so later runs reuse what was loaded.

Usage: .venv/bin/python bench/alerts_store.py [--alerts 20000] [--db sqlite,postgresql]
       [--creates 2000] [--reads 40] [--drain-timeout 1800] [--pg-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
       [--redis-url redis://127.0.0.1:6379/11] [--preload 1000000]
       [--keep /tmp/alerts-1m | --keep aurora_bench_alerts_1m]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from live_server import admin_token, live_server  # noqa: E402

from aurorasoc.alerts.events import ALERTS_STREAM  # noqa: E402
from aurorasoc.core.namespace import redis_key  # noqa: E402

URL = "/api/v1/alerts"
BATCH = 500
RATES = ("alerts/s", "events/s")  # figures also shown per server CPU-second
DETECTIONS = [
    "Suspicious PowerShell encoded command", "Mimikatz credential dumping", "LSASS memory access",
    "Scheduled task created for persistence", "New service installed", "RDP brute force",
    "Kerberoasting ticket request", "DCSync replication request", "Rundll32 spawning network activity",
    "Office macro spawned cmd.exe", "Certutil download", "WMI remote execution", "Shadow copy deletion",
    "Suspicious DNS tunnelling", "Outbound connection to known C2", "Registry Run key modified",
]  # fmt: skip
TECHNIQUES = ["T1059.001", "T1003.001", "T1053.005", "T1543.003", "T1110.001", "T1558.003", "T1003.006",
              "T1218.011", "T1566.001", "T1105", "T1047", "T1490", "T1071.004", "T1547.001"]  # fmt: skip
SEVERITIES = ["critical"] * 1 + ["high"] * 3 + ["medium"] * 4 + ["low"] * 3 + ["info"] * 1
WORDS = [
    "process",
    "parent",
    "child",
    "spawned",
    "unusual",
    "network",
    "beacon",
    "encoded",
    "payload",
    "lateral",
    "admin",
    "share",
]


class Generator:
    """Alerts of a plausible SOC: detections x hosts x users, recurring IOCs, some repeats."""

    def __init__(self, seed: int = 7, start: datetime = datetime(2026, 10, 1, tzinfo=UTC)) -> None:
        self.rng = random.Random(seed)
        self.hosts = [f"{p}-{i:04d}" for p in ("WS", "SRV", "DC", "LAP") for i in range(500)]
        self.users = [f"CORP\\user{i:03d}" for i in range(600)]
        self.iocs = [f"203.0.{i // 250}.{i % 250}" for i in range(3000)] + [
            f"c2-{i}.example.net" for i in range(2000)
        ]
        self.sent: list[dict[str, Any]] = []
        self.start = start

    def alert(self, i: int, repeat_share: float) -> dict[str, Any]:
        if self.sent and self.rng.random() < repeat_share:
            return self.rng.choice(self.sent[-5000:])  # a repeat: folds into the open alert
        rng, d = self.rng, self.rng.randrange(len(DETECTIONS))
        host, user = rng.choice(self.hosts), rng.choice(self.users)
        seen = (self.start + timedelta(seconds=i * 3)).isoformat()
        body = {
            "title": f"{DETECTIONS[d]} on {host}",
            "description": f"{' '.join(rng.sample(WORDS, 5))} by {user} (rule {d:03d}-{rng.randrange(40)})",
            "severity": rng.choice(SEVERITIES),
            "source": rng.choice(["sigma", "suricata", "edr", "zeek"]),
            "iocs": rng.sample(self.iocs, rng.randrange(1, 4)),
            "mitre_techniques": [TECHNIQUES[d % len(TECHNIQUES)]],
            "affected_assets": [f"host:{host}", f"user:{user}"],
            "entities": {
                "host.name": host,
                "user.name": user,
                "source.ip": f"10.{i % 200}.{i % 97}.{i % 251}",
            },
            "first_seen_at": seen,
            "last_seen_at": seen,
        }
        self.sent.append(body)
        if len(self.sent) > 10_000:  # repeats are drawn from the last 5,000: bounded memory at 1M
            del self.sent[:5_000]
        return body


def _server_cpu_seconds() -> float:
    """User + system CPU of this process's children (the server), from /proc."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


@dataclass
class Figure:
    measure: str
    value: float
    unit: str
    target: str
    met: bool
    wall: float
    cpu: float
    detail: str = ""


async def _timed(work: Callable[[], Awaitable[str]]) -> tuple[float, float, str]:
    cpu, started = _server_cpu_seconds(), time.perf_counter()
    detail = await work()
    return time.perf_counter() - started, _server_cpu_seconds() - cpu, detail


async def load(client: httpx.AsyncClient, gen: Generator, count: int) -> Figure:
    async def work() -> str:
        codes: dict[int, int] = {}
        for start in range(0, count, BATCH):
            alerts = [gen.alert(i, 0.1) for i in range(start, min(count, start + BATCH))]
            resp = await client.post(f"{URL}/batch", json={"alerts": alerts})
            codes[resp.status_code] = codes.get(resp.status_code, 0) + 1
        return f"{codes} (HTTP status: requests)"

    wall, cpu, detail = await _timed(work)
    rate = count / wall
    return Figure(
        "POST /alerts/batch (500/request)", rate, "alerts/s", "≥ 5,000", rate >= 5000, wall, cpu, detail
    )


async def creation(client: httpx.AsyncClient, gen: Generator, count: int, clients: int = 8) -> Figure:
    codes: dict[int, int] = {}
    bodies = [gen.alert(i, 0.5) for i in range(10**7, 10**7 + count)]

    async def worker(mine: list[dict[str, Any]]) -> None:
        for body in mine:
            code = (await client.post(URL, json=body)).status_code
            codes[code] = codes.get(code, 0) + 1

    async def work() -> str:
        await asyncio.gather(*(worker(bodies[k::clients]) for k in range(clients)))
        return f"{codes} (HTTP status: count)"

    wall, cpu, detail = await _timed(work)
    rate, errors = count / wall, sum(n for code, n in codes.items() if code >= 500)
    met = rate >= 1000 and errors == 0
    return Figure(
        f"POST /alerts, {clients} clients, 50 % repeats",
        rate,
        "alerts/s",
        "≥ 1,000, 0 x 5xx",
        met,
        wall,
        cpu,
        detail,
    )


def pipeline_backlog(redis_url: str) -> tuple[int, int]:
    """Entries of ``aurora:alerts`` the alert pipeline has still to handle (pending + not yet read),
    and how many were trimmed (maxlen) before it read them: alerts it never correlated.

    Redis's ``lag`` stays inflated by the trimmed entries once the group has read everything, so a
    group whose last delivered id is the stream's last one has nothing left to read.
    """
    client, key = redis.Redis.from_url(redis_url, decode_responses=True), redis_key(ALERTS_STREAM)
    try:
        groups = client.xinfo_groups(key)
        last = client.xinfo_stream(key)["last-generated-id"]
    except redis.ResponseError:  # no stream yet: nothing published
        return 0, 0
    for g in (g for g in groups if g["name"] == "alert-pipeline"):
        unread = int(g.get("lag") or 0)
        if g["last-delivered-id"] == last:
            return int(g["pending"]), unread
        return int(g["pending"]) + unread, 0
    return 0, 0


async def drain(redis_url: str, patience: float, after: str) -> Figure:
    """Wait until the pipeline has correlated everything written, so the next phase is measured on
    a quiet server (creation was measured while it still correlated the batch load, and reads while
    it worked through the creations). The figure is the alert events it handled per second (and
    per server CPU-second): every event it reads, the created ones being those it correlates."""
    backlog = {"first": pipeline_backlog(redis_url)[0], "left": 0}

    async def work() -> str:
        left, trimmed = backlog["first"], 0
        deadline = time.monotonic() + patience
        while left and time.monotonic() < deadline:  # polled: Redis's state, no event to wait on
            await asyncio.sleep(0.5)
            left, trimmed = pipeline_backlog(redis_url)
        backlog["left"] = left
        lost = f"; {trimmed:,} were trimmed before it read them" if trimmed else ""
        return f"{backlog['first']:,} alert events were waiting, {left:,} still are{lost}"

    wall, cpu, detail = await _timed(work)
    rate = (backlog["first"] - backlog["left"]) / wall if wall else 0.0
    met = not backlog["left"]
    return Figure(f"alert pipeline drains after {after}", rate, "events/s", "drained", met, wall, cpu, detail)


async def deep_cursor(client: httpx.AsyncClient, total: int) -> str:
    """A cursor 90 % down the queue, built as the server would from the row found there."""
    from aurorasoc.alerts.filters import AlertFilters
    from aurorasoc.alerts.paging import encode_cursor

    skip, items = min(int(total * 0.9), 1_000_000), []
    while not items:  # ``total`` may be an estimate above the real count: step back until a row
        items = (await client.get(URL, params={"skip": skip, "limit": 1})).json()["items"]
        skip = int(skip * 0.95)
    row = items[0]
    times = {name: datetime.fromisoformat(row[name]) for name in ("created_at", "last_seen_at")}
    alert = argparse.Namespace(id=row["id"], **times)
    return encode_cursor(AlertFilters(), alert)  # type: ignore[arg-type]


async def reads(client: httpx.AsyncClient, gen: Generator, total: int, n: int) -> list[Figure]:
    host = gen.hosts[42]
    shapes = {
        "first page": {},
        "filtered (severity+status)": {"severity": "high", "status": "new"},
        "text search q=mimikatz": {"q": "mimikatz"},
        f"text search q={host}": {"q": host},
        f"entity filter host={host}": {"host": host},
        "cursor page 90 % deep": {"cursor": await deep_cursor(client, total)},
    }
    figures = []
    for label, params in shapes.items():
        samples: list[float] = []

        async def work(params: dict[str, Any] = params, samples: list[float] = samples) -> str:
            for _ in range(n):
                started = time.perf_counter()
                resp = await client.get(URL, params={**params, "limit": 50})
                samples.append((time.perf_counter() - started) * 1000)
                resp.raise_for_status()
            body = resp.json()
            estimate = " (estimate)" if body["total_is_estimate"] else ""
            return f"{len(body['items'])} rows, total {body['total']:,}{estimate}"

        wall, cpu, detail = await _timed(work)
        p95 = sorted(samples)[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
        figures.append(Figure(f"GET /alerts {label}, p95", p95, "ms", "< 50", p95 < 50, wall, cpu, detail))
    return figures


@contextmanager
def pg_database(base_url: str, keep: str | None = None) -> Iterator[str]:
    """A scratch database, dropped afterwards; with ``keep`` a named one, created once and kept."""
    name = keep or f"aurora_bench_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(base_url.replace("+asyncpg", ""))
        try:
            if not keep or not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base_url.rsplit('/', 1)[0]}/{name}"
    finally:
        if not keep:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def preload(data_dir: Path, database_url: str | None, count: int) -> str:
    """Store ``count`` alerts (minus those already there) through the batch endpoint's service,
    unpublished; the figure is reported on its own line (not a target)."""
    os.environ["AURORA_DATA_DIR"] = str(data_dir)
    if database_url:
        os.environ["AURORA_DATABASE_URL"] = database_url
    else:
        os.environ.pop("AURORA_DATABASE_URL", None)
    from sqlalchemy import func, select, text

    from aurorasoc.alerts.models import AlertModel
    from aurorasoc.alerts.service import AlertService
    from aurorasoc.alerts.statistics import TABLES as ANALYZED
    from aurorasoc.core.config import get_settings, reset_settings
    from aurorasoc.core.db import dispose_engine, get_session_factory
    from aurorasoc.core.logging import configure_logging
    from aurorasoc.core.migrate import upgrade
    from aurorasoc.core.vocabulary import AlertCreate

    os.environ["AURORA_LOG_LEVEL"] = "WARNING"
    reset_settings()
    configure_logging(get_settings())
    upgrade()

    async def load() -> str:
        factory = get_session_factory()
        async with factory() as session:
            stored = await session.scalar(select(func.count()).select_from(AlertModel)) or 0
        gen = Generator(seed=1, start=datetime(2026, 10, 1, tzinfo=UTC) - timedelta(seconds=3 * count))
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(stored, count, BATCH):  # a kept store resumes (repeats make it approximate)
            batch = [gen.alert(i, 0.1) for i in range(start, min(count, start + BATCH))]
            async with factory() as session:
                await AlertService(session).create_many([AlertCreate.model_validate(a) for a in batch])
                await session.commit()
        async with factory() as session:
            now = await session.scalar(select(func.count()).select_from(AlertModel)) or 0
            if session.bind.dialect.name == "postgresql":  # what alerts.statistics does after bulk writes
                for table in ANALYZED:
                    await session.execute(text(f"ANALYZE {table}"))
                await session.commit()
        await dispose_engine()
        sent = max(0, count - stored)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        return (
            f"{stored:,} alerts were stored; {sent:,} submitted in {wall:.0f} s ({cpu:.0f} CPU-s), "
            f"repeats folded: {now:,} stored"
        )

    try:
        return asyncio.run(load())
    finally:
        reset_settings()


async def run_backend(base: str, args: argparse.Namespace) -> list[Figure]:
    # A kept store already holds the alerts of earlier runs: new ones, or every write would be a repeat.
    gen = Generator(seed=time.time_ns() if args.keep else 7)
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        client.headers["Authorization"] = f"Bearer {admin_token(base)}"
        figures = [await load(client, gen, args.alerts)]
        figures.append(await drain(args.redis_url, args.drain_timeout, "the batch load"))
        figures.append(await creation(client, gen, args.creates))
        figures.append(await drain(args.redis_url, args.drain_timeout, "the single POSTs"))
        total = (await client.get(URL, params={"limit": 1})).json()["total"]
        figures += await reads(client, gen, total, args.reads)
    return figures


def measure(db: str, args: argparse.Namespace) -> list[Figure]:
    keep = args.keep if args.keep and db == "sqlite" and "/" in args.keep else None
    data_dir = Path(keep) if keep else Path(tempfile.mkdtemp(prefix=f"aurora-bench-{db}-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    # The Redis bus, as in production: the in-process bus's bounded queues deadlock once the alert
    # pipeline falls 10,000 events behind (its handler publishes into a full queue; see the report).
    redis.Redis.from_url(args.redis_url).flushdb()
    env = {"AURORA_REDIS_URL": args.redis_url}
    if db == "sqlite":
        loaded = preload(data_dir, None, args.preload) if args.preload else ""
        with live_server(data_dir, **env) as base:
            return _with_preload(loaded, asyncio.run(run_backend(base, args)))
    pg_keep = args.keep if args.keep and db == "postgresql" and "/" not in args.keep else None
    with pg_database(args.pg_url, pg_keep) as url:
        loaded = preload(data_dir, url, args.preload) if args.preload else ""
        with live_server(data_dir, AURORA_DATABASE_URL=url, **env) as base:
            return _with_preload(loaded, asyncio.run(run_backend(base, args)))


def _with_preload(loaded: str, figures: list[Figure]) -> list[Figure]:
    if not loaded:
        return figures
    return [Figure("preloaded history (AlertService, unpublished)", 0, "", "", True, 0, 0, loaded), *figures]


def report(db: str, args: argparse.Namespace, figures: list[Figure]) -> None:
    table = Table(
        title=f"Alert store on {db}: {args.alerts:,} alerts loaded, server CPU seconds beside wall time "
        f"(load average {os.getloadavg()[0]:.1f})"
    )
    for column in ("measure", "figure", "target", "met", "wall s", "server CPU s", "detail"):
        table.add_column(column, justify="left" if column in {"measure", "detail", "target"} else "right")
    for f in figures:
        per_cpu = f" ({f.value * f.wall / f.cpu:,.0f}/CPU-s)" if f.unit in RATES and f.cpu else ""
        figure = f"{f.value:,.1f} {f.unit}{per_cpu}" if f.unit else "—"
        table.add_row(f.measure, figure, f.target, "yes" if f.met else "NO",
                      f"{f.wall:.1f}", f"{f.cpu:.1f}", f.detail)  # fmt: skip
    Console(width=200).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--alerts", type=int, default=20_000, help="alerts loaded before measuring (1M: the target)"
    )
    parser.add_argument("--creates", type=int, default=2000, help="single POSTs in the creation phase")
    parser.add_argument("--reads", type=int, default=40, help="requests per list shape")
    parser.add_argument(
        "--drain-timeout", type=float, default=1800, help="seconds to wait for the pipeline before reads"
    )
    parser.add_argument("--db", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--pg-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11", help="bus, emptied first")
    parser.add_argument("--preload", type=int, default=0, help="alerts stored before the server starts")
    parser.add_argument(
        "--keep", help="reuse this store: a data directory (SQLite) or a database name (PostgreSQL)"
    )
    args = parser.parse_args()
    for db in args.db.split(","):
        report(db, args, measure(db, args))


if __name__ == "__main__":
    main()
