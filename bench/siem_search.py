"""SIEM search at scale (issue #15, spec §28): p95 of the five main query shapes.

Generates realistic events (2,000 hosts, 500 users, Windows process creations, logons, network and
Linux auth lines with varied command lines), loads them through the product's write path
(``DetectionPipeline.process`` in batches, as the detection consumer does) into a fresh SQLite file
or a scratch PostgreSQL database, then times ``SiemSearchService.search`` — what ``GET /siem/logs``
runs: the capped count plus the first page of 50 — for field equality, a rare word, a phrase, a
wildcard suffix and an AND of two fields, and the first page of the Endpoints and UEBA inventories
(``GET /entities/hosts``, ``/entities/users``) over the same store. Prints p95 beside the target
(< 100 ms) with wall time and CPU seconds of this process and, on PostgreSQL, of its server backend.

Usage: .venv/bin/python bench/siem_search.py [--events 100000] [--db sqlite|postgresql|both]
       [--pg-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres] [--queries 40]
       [--keep /tmp/siem-1m.db | --keep aurora_bench_siem_1m]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from aurorasoc.core.models import Base
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.entities import EntityKind, entity_inventory
from aurorasoc.siem.models import SiemLogModel
from aurorasoc.siem.pipeline import DetectionPipeline
from aurorasoc.siem.retention import merge_search_backlog
from aurorasoc.siem.search import LogFilters, SiemSearchService

TARGET_MS = 100.0
BATCH = 500
T0 = datetime(2026, 11, 1, tzinfo=UTC)
PROCESSES = [
    r"C:\Windows\System32\cmd.exe",
    r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
    r"C:\Windows\explorer.exe",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    r"C:\Windows\System32\svchost.exe",
    r"C:\Windows\System32\rundll32.exe",
    r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE",
    "/usr/sbin/sshd",
    "/usr/bin/sudo",
    "/usr/bin/curl",
]
WORDS = [
    "backup",
    "report",
    "invoice",
    "update",
    "service",
    "network",
    "session",
    "config",
    "audit",
    "sync",
    "cache",
]


def _event(rng: random.Random, n: int) -> NormalizedEvent:
    host, user = f"ws-{rng.randrange(2000):04d}.corp.local", f"user{rng.randrange(500):03d}"
    process = rng.choice(PROCESSES)
    arg = f"{rng.choice(WORDS)}-{rng.randrange(10_000)}"
    kind = rng.randrange(4)
    if n % 100_000 == 7:  # a rare word: ~10 events per million
        process, arg = r"C:\Users\Public\mimikatz.exe", "sekurlsa::logonpasswords"
    message = [
        f"Process Create: {process} {arg}",
        f"An account was successfully logged on: {user}",
        f"Failed password for {user} from 10.{rng.randrange(256)}.{rng.randrange(256)}.7 port 22 ssh2",
        f"Connection to 192.168.{rng.randrange(256)}.{rng.randrange(256)}:443 {arg}",
    ][kind]
    fields = {
        "EventID": [1, 4624, 4625, 3][kind],
        "Image": process,
        "CommandLine": f'"{process}" /c {arg}',
        "ParentImage": rng.choice(PROCESSES),
        "User": f"CORP\\{user}",
        "Computer": host,
    }
    return NormalizedEvent(
        id=str(uuid.uuid4()),
        timestamp=T0 + timedelta(seconds=n * 0.5),
        source="bench",
        format="json",
        product="windows",
        event_id=str(fields["EventID"]),
        host=host,
        user_name=user,
        message=message,
        fields=fields,
        raw=f"{n} {message}",
        time_source="record",  # the time comes from the record, as with EVTX / syslog timestamps
        entities={"host.name": host, "user.name": user, "process.executable": process},
    )


def events(count: int) -> Iterator[list[NormalizedEvent]]:
    rng = random.Random(15)
    for start in range(0, count, BATCH):
        yield [_event(rng, n) for n in range(start, min(start + BATCH, count))]


SHAPES: dict[str, Callable[[random.Random], str]] = {
    "field equality": lambda r: f"host:WS-{r.randrange(2000):04d}.corp.local",
    "rare word": lambda r: "mimikatz",
    "phrase": lambda r: f'"failed password for user{r.randrange(500):03d}"',
    "wildcard suffix": lambda r: f"host:ws-{r.randrange(2000):04d}*",
    "AND of two fields": lambda r: (
        f"host:ws-{r.randrange(2000):04d}.corp.local AND user_name:user{r.randrange(500):03d}"
    ),
}


@asynccontextmanager
async def database(kind: str, pg_url: str, keep: str | None) -> AsyncIterator[str]:
    """A fresh store, dropped afterwards; with ``keep`` a named one (SQLite file / PostgreSQL database)
    that survives the run, so a second run with the same name only times the searches."""
    if kind == "sqlite":
        if keep:
            yield f"sqlite+aiosqlite:///{keep}"  # an absolute path gives four slashes
            return
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'siem.db'}"
        return
    import asyncpg

    name = keep or f"aurora_bench_siem_{uuid.uuid4().hex[:8]}"
    admin = pg_url.replace("+asyncpg", "")
    conn = await asyncpg.connect(admin)
    if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
        await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{pg_url.rsplit('/', 1)[0]}/{name}"
    finally:
        if not keep:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def load(kind: str, factory: async_sessionmaker[AsyncSession], count: int, console: Console) -> int:
    """Events stored: ``count`` loaded now, or what a kept store holds already."""
    async with factory() as session:
        stored = int(await session.scalar(select(func.count()).select_from(SiemLogModel)) or 0)
    if stored:
        console.print(f"[{kind}] reusing {stored:,} stored events (--keep)")
        return stored
    pipeline = DetectionPipeline(SigmaEngine(), factory)
    wall, cpu = time.perf_counter(), time.process_time()
    for batch in events(count):
        await pipeline.process(batch)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rate = f"{count / wall:,.0f}/s, {cpu:.0f} CPU s"
    console.print(f"[{kind}] loaded {count:,} events in {wall:.0f} s ({rate})")
    async with factory() as session, session.begin():
        await session.execute(text("ANALYZE" if kind == "sqlite" else "ANALYZE siem_logs"))
        merged = await merge_search_backlog(session)  # what the hourly retention run does
    console.print(f"[{kind}] merged {merged:,} pending full-text index pages (hourly retention's job)")
    if kind == "postgresql":  # autovacuum's job on an insert-only table: marks pages all-visible,
        # which index-only scans (the covering pattern indexes, 0022) need to skip the table
        engine = factory.kw["bind"]
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM (ANALYZE) siem_logs"))
        console.print(f"[{kind}] vacuumed (what autovacuum does after inserts)")
    return count


def backend_cpu(pid: int) -> float:
    """CPU seconds a local PostgreSQL backend has used (``/proc``; 0 where the server is not local)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


async def server_cpu(factory: async_sessionmaker[AsyncSession]) -> float:
    """CPU seconds of the (single pooled) PostgreSQL backend so far; 0 on SQLite."""
    async with factory() as session:
        if session.bind.dialect.name != "postgresql":
            return 0.0
        return backend_cpu(int(await session.scalar(text("SELECT pg_backend_pid()")) or 0))


Query = Callable[[AsyncSession, random.Random], Awaitable[int]]


def search(make: Callable[[random.Random], str]) -> Query:
    """What ``GET /siem/logs`` runs for a query of this shape; its total."""

    async def run(session: AsyncSession, rng: random.Random) -> int:
        found = await SiemSearchService(session).search(LogFilters(q=make(rng), range="all"), limit=50)
        return found.total

    return run


def inventory(kind: EntityKind) -> Query:
    """What ``GET /entities/hosts`` (Endpoints) or ``/entities/users`` (UEBA) runs: its first page."""

    async def run(session: AsyncSession, _rng: random.Random) -> int:
        return (await entity_inventory(session, kind, limit=50))[1]

    return run


QUERIES: dict[str, Query] = {
    **{shape: search(make) for shape, make in SHAPES.items()},
    "Endpoints inventory": inventory("host"),
    "UEBA inventory": inventory("user"),
}


async def time_shape(
    factory: async_sessionmaker[AsyncSession], query: Query, queries: int
) -> tuple[list[float], float, float, int]:
    """Wall ms per query, this process's and the server's CPU seconds, and the last total."""
    rng, times, total = random.Random(28), [], 0
    cpu, server = time.process_time(), await server_cpu(factory)
    for _ in range(queries):
        async with factory() as session:
            started = time.perf_counter()
            total = await query(session, rng)
            times.append((time.perf_counter() - started) * 1000)
    return times, time.process_time() - cpu, await server_cpu(factory) - server, total


async def run(args: argparse.Namespace, kind: str, console: Console) -> None:
    async with database(kind, args.pg_url, args.keep) as url:
        engine = create_async_engine(url, pool_size=1, max_overflow=0)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        factory = async_sessionmaker(engine, expire_on_commit=False)
        count = await load(kind, factory, args.events, console)
        table = Table(
            title=f"SIEM search, {kind}, {count:,} events (search: count + first 50; inventories: first 50)"
        )
        columns = ("shape", "p50 ms", "p95 ms", "target", "wall s", "CPU ms/query", "server CPU ms/query")
        for column in (*columns, "total (last)"):
            table.add_column(column)
        for shape, query in QUERIES.items():
            times, cpu, server, total = await time_shape(factory, query, args.queries)
            p95 = statistics.quantiles(times, n=20)[18]
            table.add_row(
                shape,
                f"{statistics.median(times):.1f}",
                f"{p95:.1f}",
                f"< {TARGET_MS:.0f} {'ok' if p95 < TARGET_MS else 'MISSED'}",
                f"{sum(times) / 1000:.2f}",
                f"{cpu * 1000 / args.queries:.1f}",
                f"{server * 1000 / args.queries:.1f}" if kind == "postgresql" else "(in process)",
                f"{total:,}",
            )
        console.print(table)
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--queries", type=int, default=40, help="timed searches per shape")
    parser.add_argument(
        "--keep", help="SQLite file / PostgreSQL database to load once and reuse on later runs"
    )
    args = parser.parse_args()
    console = Console(width=150)
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        asyncio.run(run(args, kind, console))


if __name__ == "__main__":
    main()
