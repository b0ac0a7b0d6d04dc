"""CPS MQTT ingest at fleet scale: N registered devices @ 1 msg/s, QoS 1, real broker (issues 7, 20).

One deployment on this machine: the devices are registered in advance (unregistered ids are
rejected); ``--consumers`` consumer processes each run what ``aurorasoc worker --role mqtt`` runs
(``MQTTEdgeConsumer`` on one shared subscription, persistent session, its own client id) and
record, for every stored message, the time from the device's send time (``ts``) to the commit of
its row. With ``--siem`` the same deployment's API (``aurorasoc serve`` on the same database and
Redis, with its embedded detection consumer) ingests SIEM events over HTTP as fast as
``--siem-clients`` clients can post them, all the while. Publishers run in their own process
(``--connections`` raw MQTT connections, :mod:`cps_publisher`: QoS 1, devices spread over the second,
a heartbeat every 30 s), open loop: the offered rate does not wait for the broker's acknowledgements.

Reported: offered and stored msg/s, p50/p95/p99 publish→stored and p95 publish→received (the
broker's and the consumer's socket share; the rest is the wait for the writer), the product
counters summed over the consumers (received, stored, rejected, dropped, failed, reader pauses) and ``lost`` =
published - stored - rejected - dropped - failed, counted once the consumers have drained what the
broker kept for them (``DRAIN_SECONDS`` quiet, at most ``MAX_DRAIN_SECONDS``), the broker's
``$SYS/broker/publish/messages/dropped`` before/after (broker-wide, so other clients' drops count
too), SIEM events accepted, the consumers' CPU per message (start-up excluded), the API server's
CPU seconds, each consumer's share of the wall time on a CPU and runnable but waiting for one
(``/proc/self/schedstat``: a consumer starved by other work on the machine shows a long wait, its
database session meanwhile "idle in transaction") and the load average (the machine may be shared).
Targets: 0 lost, p95 < 250 ms.
Each run uses its own ``AURORA_NAMESPACE`` and share group, so it neither sees nor
disturbs other deployments on the shared broker/Redis.

Usage: .venv/bin/python bench/cps.py [--devices 2000] [--seconds 60] [--consumers 1] [--siem]
       [--database-url postgresql+asyncpg://…] [--redis-url redis://…  (default: AURORA_REDIS_URL)]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import orjson
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from cps_publisher import publisher_process  # noqa: E402
from live_server import admin_token, live_server  # noqa: E402

TARGET_P95_MS = 250.0
WARMUP_SECONDS = 5.0
DRAIN_SECONDS = 5.0  # after the last publish, consumers stop once nothing arrived for this long
MAX_DRAIN_SECONDS = 60.0  # … or after this long: what the broker still holds then counts as lost
SYS_DROPPED = "$SYS/broker/publish/messages/dropped"
SYS_INTERVAL = 10.0  # Mosquitto's default sys_interval


def _until_set(clock: Any) -> None:
    while not clock[1]:
        time.sleep(0.2)


async def _quiet(consumer: Any) -> None:
    """Until nothing was received for ``DRAIN_SECONDS`` (the broker delivered what it kept) and the
    buffer is empty, at most ``MAX_DRAIN_SECONDS``: a slow consumer's backlog is not counted lost."""
    loop = asyncio.get_running_loop()
    deadline, seen, since = loop.time() + MAX_DRAIN_SECONDS, -1, loop.time()
    while loop.time() < deadline:
        if consumer.stats.received != seen:
            seen, since = consumer.stats.received, loop.time()
        elif loop.time() - since >= DRAIN_SECONDS and consumer.queue.empty():
            return
        await asyncio.sleep(0.5)


def _time_phases(consumer: Any) -> dict[str, list[float]]:
    """Per batch: seconds waiting for SQLite's writer (none on PostgreSQL), seconds of the whole
    handle-and-commit, and the batch size; the SIEM load's share of the latency shows in the first."""
    from aurorasoc.core.db import take_sqlite_writer
    from aurorasoc.cps import mqtt, telemetry

    phases: dict[str, list[float]] = {"writer_wait": [], "commit": [], "size": []}
    commit = consumer._commit

    async def timed_take(session: Any) -> None:
        began = time.monotonic()
        await take_sqlite_writer(session)
        phases["writer_wait"].append(time.monotonic() - began)

    async def timed_commit(batch: Sequence[Any]) -> None:
        began = time.monotonic()
        await commit(batch)
        phases["commit"].append(time.monotonic() - began)
        phases["size"].append(len(batch))

    # where the consumer waits for the writer: before handling the batch (then the ingest's own call
    # finds the transaction open), or, in older versions, in the ingest
    module = mqtt if hasattr(mqtt, "take_sqlite_writer") else telemetry
    module.take_sqlite_writer = timed_take  # type: ignore[attr-defined]
    consumer._commit = timed_commit
    return phases


def _sched() -> tuple[float, float, float]:
    """(wall, seconds on a CPU, seconds runnable but waiting for one) of this process's main thread.

    A consumer whose PostgreSQL session sits "idle in transaction" may be waiting for an await or,
    on a loaded machine, for a CPU (the kernel's run queue): ``/proc/self/schedstat`` tells which.
    NaN where it does not exist (not Linux, or no scheduler statistics).
    """
    try:
        run_ns, wait_ns = Path("/proc/self/schedstat").read_text().split()[:2]
    except (OSError, ValueError):
        return time.monotonic(), float("nan"), float("nan")
    return time.monotonic(), int(run_ns) / 1e9, int(wait_ns) / 1e9


def _consumer_process(member: str, clock: Any, ready: Any, out: Any) -> None:
    """What ``worker --role mqtt`` runs, plus a latency probe on every committed batch.

    ``clock`` holds (measured_from, stop_at), set by the parent once every consumer is ``ready``.
    """

    async def run() -> dict[str, Any]:
        from aurorasoc.core.bus.current import set_bus
        from aurorasoc.core.bus.redis_streams import RedisStreamsBus
        from aurorasoc.core.config import get_settings
        from aurorasoc.cps.mqtt import MQTTEdgeConsumer

        latencies: list[float] = []
        arrivals: list[float] = []  # publish → received: the broker's and the socket's share

        def on_stored(batch: Sequence[Any]) -> None:  # counted in the consumer's CPU: kept lean
            now, since = time.time(), clock[0]
            offset = now - time.monotonic()  # received_mono → wall clock
            for m in batch:
                if (ts := getattr(m.payload, "ts", None)) and ts >= since:
                    latencies.append(now - ts)
                    arrivals.append(m.received_mono + offset - ts)

        bus = RedisStreamsBus() if os.environ.get("AURORA_REDIS_URL") else None
        if bus is not None:
            set_bus(bus)
            await bus.start()
        mqtt = get_settings().mqtt
        consumer = MQTTEdgeConsumer(mqtt, on_stored=on_stored, client_id=f"{mqtt.client_id}-{member}")
        phases = _time_phases(consumer)
        await consumer.start()
        await asyncio.wait_for(consumer.connected.wait(), 60)
        ready.release()
        warm = time.process_time()  # imports, migrations check and connecting are not per-message work
        sched = _sched()
        await asyncio.to_thread(_until_set, clock)
        await asyncio.sleep(max(0.0, clock[1] - time.time()))
        await _quiet(consumer)
        await consumer.stop()
        scheduled = [b - a for a, b in zip(sched, _sched(), strict=True)]
        if bus is not None:
            await bus.close()
        s = consumer.stats
        return {"latencies": latencies, "arrivals": arrivals, "received": s.received, "stored": s.stored,
                "rejected": s.rejected, "dropped": s.dropped, "failed": s.failed, "pauses": s.pauses,
                "broker_dropped": s.broker_dropped, "cpu": time.process_time(), "phases": phases,
                "work_cpu": time.process_time() - warm, "sched": scheduled}  # fmt: skip

    out.put(asyncio.run(run()))


def _siem_lines(n: int) -> bytes:
    rows = (
        {
            "EventID": 4625,
            "Computer": f"ws-{i % 50}",
            "TargetUserName": f"user{i % 97}",
            "IpAddress": f"10.0.{i % 200}.{i % 250}",
            "LogonType": 3,
            "Channel": "Security",
        }
        for i in range(n)
    )
    return b"\n".join(orjson.dumps(r) for r in rows)


async def _siem_load(base: str, clients: int, seconds: float) -> int:
    """Post NDJSON batches to /siem/ingest from ``clients`` loops until ``seconds`` are up."""
    body, accepted = _siem_lines(500), 0
    token = admin_token(base)
    deadline = time.monotonic() + seconds

    async def loop(client: httpx.AsyncClient) -> None:
        nonlocal accepted
        while time.monotonic() < deadline:
            resp = await client.post("/api/v1/siem/ingest", content=body, params={"source": "bench"})
            if resp.status_code == 202:
                accepted += int(resp.json()["accepted"])

    async with httpx.AsyncClient(
        base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}
    ) as c:
        await asyncio.gather(*(loop(c) for _ in range(clients)))
    return accepted


async def _prepare(ids: Sequence[str]) -> None:
    """The migrated schema (as ``serve`` leaves it) plus every device registered in advance."""
    from sqlalchemy import insert

    from aurorasoc.core.db import dispose_engine, get_engine
    from aurorasoc.core.migrate import upgrade_async
    from aurorasoc.core.models import CPSDeviceModel

    await upgrade_async()
    async with get_engine().begin() as conn:
        rows = [{"id": uuid.uuid4(), "device_id": d, "name": d, "device_type": "bench_sensor",
                 "attestation_status": "unknown", "trusted": False, "risk_score": 0.0, "metadata": {}}
                for d in ids]  # fmt: skip
        await conn.execute(insert(CPSDeviceModel.__table__), rows)  # type: ignore[arg-type]
    await dispose_engine()


class _SysWatch(threading.Thread):
    """Mosquitto's ``$SYS`` dropped counter over the whole run (plus one ``sys_interval``).

    Mosquitto publishes it when it changed, every ``sys_interval`` (10 s), retained for 60 s: a
    retained value on subscribing is the current count; none means no drop for a minute (the
    count itself is then unknown until the next drop, whose publication already includes it).
    """

    def __init__(self, host: str, port: int) -> None:
        super().__init__(daemon=True)
        self.host, self.port = host, port
        self.seen: list[tuple[bool, int]] = []  # (retained, value)
        self.done = threading.Event()

    def run(self) -> None:
        with contextlib.suppress(aiomqtt.MqttError, OSError):
            asyncio.run(self._watch())

    async def _watch(self) -> None:
        async with aiomqtt.Client(self.host, self.port, identifier=f"bench-sys-{uuid.uuid4().hex[:8]}") as c:
            await c.subscribe(SYS_DROPPED)
            while not self.done.is_set():
                with contextlib.suppress(TimeoutError):
                    message = await asyncio.wait_for(anext(c.messages), 0.5)
                    with contextlib.suppress(ValueError):
                        self.seen.append((message.retain, int(bytes(message.payload).decode())))

    def delta(self) -> str:
        if not self.seen:
            return "0 (unchanged all run)"
        (retained, first), last = self.seen[0], self.seen[-1][1]
        if retained:
            return str(last - first)
        return f"{last - first}+ (base unknown: the first drops are in {first:,})"


def _run(args: argparse.Namespace, ns: str, ids: list[str]) -> dict[str, Any]:
    """The API first (when ``--siem``), then the consumers, then devices and SIEM load together."""
    host, port = args.broker.rsplit(":", 1)
    watch = _SysWatch(host, int(port))
    watch.start()
    server = live_server(Path(os.environ["AURORA_DATA_DIR"]), **_server_env()) if args.siem else None
    run: dict[str, Any] = {}
    try:
        with server or contextlib.nullcontext() as base:
            run = _fleet(args, ns, ids, host, int(port), base)
    except subprocess.TimeoutExpired:  # a busy API slow to stop must not cost the figures
        if not run:
            raise
    time.sleep(SYS_INTERVAL + 2)  # the last interval's drops get published
    watch.done.set()
    watch.join(5)
    run["broker"] = watch.delta()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # every part has exited and been reaped
    parts = sum(r["cpu"] for r in run["consumers"]) + run["published"]["cpu"]
    run["server_cpu"] = children.ru_utime + children.ru_stime - parts if server else 0.0
    return run


def _fleet(
    args: argparse.Namespace, ns: str, ids: list[str], host: str, port: int, base: str | None
) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    out, pub_out, ready, clock = ctx.Queue(), ctx.Queue(), ctx.Semaphore(0), ctx.Array("d", 2)
    consumers = [ctx.Process(target=_consumer_process, args=(f"m{i}", clock, ready, out))
                 for i in range(args.consumers)]  # fmt: skip
    for proc in consumers:
        proc.start()
    for _ in consumers:  # every member is connected and subscribed before the first message
        ready.acquire(timeout=120)
    start = time.time()
    clock[0], clock[1] = start + WARMUP_SECONDS, start + args.seconds
    per = max(1, len(ids) // args.connections)
    groups = [ids[i : i + per] for i in range(0, len(ids), per)]
    publisher = ctx.Process(target=publisher_process, args=(host, port, ns, groups, args.seconds, pub_out))
    publisher.start()
    siem = asyncio.run(_siem_load(base, args.siem_clients, args.seconds)) if base else 0
    published = pub_out.get(timeout=args.seconds + 120)
    results = [out.get(timeout=120) for _ in consumers]
    for proc in [publisher, *consumers]:
        proc.join(30)
    return {"published": published, "consumers": results, "siem": siem}


def _server_env() -> dict[str, str]:
    return {"MQTT_ENABLED": "false", "AURORA_INGEST_MAX_BODY_MB": "50"}


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94] if len(values) > 1 else float("nan")


WAITED_FOR = {"SQLite": "SQLite's writer", "PostgreSQL": "a pooled connection"}


def _report(args: argparse.Namespace, run: dict[str, Any]) -> bool:
    results = run["consumers"]
    latencies = [x for r in results for x in r["latencies"]]
    total = {k: sum(r[k] for r in results) for k in ("received", "stored", "rejected", "dropped", "failed")}
    lost = run["published"]["sent"] - total["stored"] - total["rejected"] - total["dropped"] - total["failed"]
    broker = run["broker"]
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    p95 = cuts[94] * 1000
    arrivals = [x for r in results for x in r["arrivals"]]
    arrived = statistics.quantiles(arrivals, n=100)[94] * 1000 if len(arrivals) > 1 else float("nan")
    window = args.seconds - WARMUP_SECONDS
    per_message = sum(r["work_cpu"] for r in results) * 1000 / max(1, total["received"])
    db = "PostgreSQL" if (args.database_url or "").startswith("postgresql") else "SQLite"
    title = (f"CPS MQTT ingest — {args.devices} devices @ 1 msg/s QoS 1, {args.consumers} consumer(s), {db}, "
             f"{'with' if args.siem else 'without'} SIEM load, {os.cpu_count()} CPUs")  # fmt: skip
    table = Table(title=title)
    phases = {k: [x for r in results for x in r["phases"][k]] for k in ("writer_wait", "commit", "size")}
    cells = {
        "published": f"{run['published']['sent']:,}", "stored msg/s": f"{len(latencies) / window:,.0f}",
        "p50 ms": f"{cuts[49] * 1000:.1f}", "p95 ms": f"{p95:.1f}", "p99 ms": f"{cuts[98] * 1000:.1f}",
        "p95 publish→received ms": f"{arrived:.1f}",
        "received": f"{total['received']:,}", "stored": f"{total['stored']:,}",
        "rejected": f"{total['rejected']:,}", "dropped": f"{total['dropped']:,}", "lost": f"{lost:,}",
        "reader pauses (buffer full)": f"{sum(r['pauses'] for r in results):,}",
        "batches / mean size": f"{len(phases['size']):,} / {statistics.fmean(phases['size'] or [0]):,.0f}",
        "p95 batch handle+commit ms": f"{_p95(phases['commit']) * 1000:.1f}",
        f"p95 wait for {WAITED_FOR[db]} ms": f"{_p95(phases['writer_wait']) * 1000:.1f}",
        "broker dropped Δ": broker, "SIEM events": f"{run['siem']:,}",
        "publisher CPU": f"{run['published']['cpu'] / args.seconds:.0%}",
        "consumer CPU-s": f"{sum(r['cpu'] for r in results):.1f}",
        "consumer CPU ms/message": f"{per_message:.2f}",
        "consumer on CPU / waiting for one": " · ".join(
            f"{r['sched'][1] / r['sched'][0]:.0%} / {r['sched'][2] / r['sched'][0]:.0%}" for r in results),
        "API server CPU-s (SIEM)": f"{run['server_cpu']:.1f}",
        "load average (1 min)": f"{os.getloadavg()[0]:.1f}",
    }  # fmt: skip
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in cells.items():
        table.add_row(name, value)
    Console().print(table)
    ok = lost == 0 and p95 < TARGET_P95_MS and broker.split()[0] == "0"
    Console().print(f"0 lost and p95 < {TARGET_P95_MS:.0f} ms: {'yes' if ok else 'NO'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument(
        "--consumers", type=int, default=1, help="consumer processes sharing the subscription"
    )
    parser.add_argument("--broker", default="127.0.0.1:1883")
    parser.add_argument("--redis-url", default=os.environ.get("AURORA_REDIS_URL", ""), help="empty: no bus")
    parser.add_argument("--database-url", default=None, help="a scratch database (the bench leaves its rows)")
    parser.add_argument("--siem", action="store_true", help="the API ingests SIEM events over HTTP meanwhile")
    parser.add_argument("--siem-clients", type=int, default=4)
    parser.add_argument("--namespace", default="bench", help="AURORA_NAMESPACE prefix (a run id is appended)")
    args = parser.parse_args()
    host, port = args.broker.rsplit(":", 1)
    run_id = uuid.uuid4().hex[:6]
    ns = f"{args.namespace}-{run_id}"
    os.environ.update({"AURORA_DATA_DIR": tempfile.mkdtemp(prefix="aurora-bench-cps-"), "MQTT_HOST": host,
                       "MQTT_PORT": port, "MQTT_TLS": "false", "MQTT_CLIENT_ID": f"bench-{run_id}",
                       "MQTT_SHARE_GROUP": "ingest", "AURORA_NAMESPACE": ns,
                       "AURORA_REDIS_URL": args.redis_url, "AURORA_LOG_LEVEL": "WARNING",
                       "AURORA_SCHEDULER_ENABLED": "false"})  # fmt: skip
    if args.database_url:
        os.environ["AURORA_DATABASE_URL"] = args.database_url
    ids = [f"bench-{run_id}-{i:05d}" for i in range(args.devices)]
    asyncio.run(_prepare(ids))
    run = _run(args, ns, ids)
    _report(args, run)
    return 0 if any(r["stored"] for r in run["consumers"]) else 1  # a missed target is reported, not fatal


if __name__ == "__main__":
    sys.exit(main())
