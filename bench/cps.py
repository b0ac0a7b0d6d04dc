"""CPS MQTT ingest: N simulated devices at 1 message/s each against the real broker (issue 7).

Publishers run in a separate process (``--connections`` MQTT connections sharing the devices, each
device sending a status first (so it auto-registers), then one telemetry reading per second with its
send time in ``ts`` and a heartbeat every 30 s, staggered). The consumer runs
in this process, exactly as the API runs it (``MQTTEdgeConsumer``: validate, batch, one commit per
batch) into a fresh SQLite file (or ``--database-url``). Reported: sustained stored messages/s over
the measured window, and p50/p95/p99 latency from the device's send time to the commit of its
row (same host clock), and the CPU share (1 core = 100 %) of the consumer and the publisher
processes, to tell a slow consumer from a saturated machine. Target: 2,000 devices on 2 cores, p95 < 250 ms.

Usage: .venv/bin/python bench/cps.py [--devices 2000] [--seconds 30] [--broker 127.0.0.1:1883] [--burst]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from typing import Any

import aiomqtt
import orjson
from rich.console import Console
from rich.table import Table

TARGET_P95_MS = 250.0
WARMUP_SECONDS = 5.0
HEARTBEAT_EVERY = 30
SLICES = 20
STATUS = orjson.dumps({"device_type": "bench_sensor", "firmware_version": "1.0.0"})


async def _publish(host: str, port: int, ids: list[str], seconds: float, burst: bool) -> None:
    """Each device: a status (auto-registers it), then telemetry every second, a heartbeat every 30 s.

    Devices keep their own phase within the second (sent in ``SLICES`` slices) unless ``burst``, the
    worst case where every device of the connection sends at the top of the second.
    """
    async with aiomqtt.Client(
        host, port, identifier=f"bench-pub-{uuid.uuid4().hex[:8]}", max_queued_outgoing_messages=0
    ) as client:
        loop = asyncio.get_running_loop()
        start, tick, step = loop.time(), 0, max(1, len(ids) // SLICES)
        while loop.time() - start < seconds:
            for first in range(0, len(ids), step):
                if not burst:
                    await asyncio.sleep(max(0.0, start + tick + first / len(ids) - loop.time()))
                for n, device_id in enumerate(ids[first : first + step], start=first):
                    if tick == 0 or (tick + n) % HEARTBEAT_EVERY == 0:
                        await client.publish(f"aurora/sensors/{device_id}/status", STATUS, qos=0)
                    payload = {"metric": "temperature", "value": 20.0 + (tick % 7) * 0.1, "ts": time.time()}
                    await client.publish(
                        f"aurora/sensors/{device_id}/telemetry", orjson.dumps(payload), qos=0
                    )
            tick += 1
            await asyncio.sleep(max(0.0, start + tick - loop.time()))


def _publisher_process(
    host: str, port: int, groups: list[list[str]], seconds: float, burst: bool, cpu: Any
) -> None:
    async def _all() -> None:
        await asyncio.gather(*(_publish(host, port, ids, seconds, burst) for ids in groups))

    asyncio.run(_all())
    cpu.value = time.process_time()


async def _consume(args: argparse.Namespace, ids: Sequence[str]) -> tuple[list[float], int, dict[str, float]]:
    from aurorasoc.core.config import get_settings, reset_settings
    from aurorasoc.core.db import get_engine
    from aurorasoc.core.models import Base
    from aurorasoc.cps.mqtt import MQTTEdgeConsumer
    from aurorasoc.cps.telemetry import IngestMessage

    reset_settings()
    async with get_engine().begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    latencies: list[float] = []
    measured_from = time.time() + WARMUP_SECONDS
    counted = 0

    def on_stored(batch: Sequence[IngestMessage]) -> None:
        nonlocal counted
        now = time.time()
        for message in batch:
            sent = getattr(message.payload, "ts", None)
            if sent and sent >= measured_from:
                latencies.append(now - sent)
                counted += 1

    consumer = MQTTEdgeConsumer(get_settings().mqtt, on_stored=on_stored)
    await consumer.start()
    await asyncio.wait_for(consumer.connected.wait(), 10)
    host, port = args.broker.rsplit(":", 1)
    per = max(1, len(ids) // args.connections)
    groups = [list(ids[i : i + per]) for i in range(0, len(ids), per)]
    publisher_cpu = multiprocessing.Value("d", 0.0)
    proc = multiprocessing.Process(
        target=_publisher_process, args=(host, int(port), groups, args.seconds, args.burst, publisher_cpu)
    )
    cpu_start, wall_start = time.process_time(), time.monotonic()
    proc.start()
    await asyncio.get_running_loop().run_in_executor(None, proc.join)
    await asyncio.sleep(2.0)  # let the queue drain
    await consumer.stop()
    wall = time.monotonic() - wall_start
    cpu = {"window": args.seconds - WARMUP_SECONDS, "consumer": (time.process_time() - cpu_start) / wall,
           "publisher": publisher_cpu.value / args.seconds}  # fmt: skip
    return latencies, counted, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--broker", default="127.0.0.1:1883")
    parser.add_argument(
        "--database-url", default=None, help="a scratch database: the bench migrates it and leaves its rows"
    )
    parser.add_argument("--burst", action="store_true", help="all devices send at the top of each second")
    args = parser.parse_args()
    host, port = args.broker.rsplit(":", 1)
    data_dir = tempfile.mkdtemp(prefix="aurora-bench-cps-")
    os.environ.update({"AURORA_DATA_DIR": data_dir, "MQTT_HOST": host, "MQTT_PORT": port, "MQTT_TLS": "false",
                       "MQTT_CLIENT_ID": f"bench-consumer-{uuid.uuid4().hex[:8]}",
                       "AURORA_LOG_LEVEL": "WARNING"})  # fmt: skip
    if args.database_url:
        os.environ["AURORA_DATABASE_URL"] = args.database_url
    run_id = uuid.uuid4().hex[:6]
    ids = [f"bench-{run_id}-{i:05d}" for i in range(args.devices)]
    try:
        latencies, counted, cpu = asyncio.run(_consume(args, ids))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    if not latencies:
        print("no messages stored", file=sys.stderr)
        return 1
    cuts = statistics.quantiles(latencies, n=100)
    p95 = cuts[94] * 1000
    mode = "synchronised burst" if args.burst else "spread over the second"
    table = Table(title=f"CPS MQTT ingest — {args.devices} devices @ 1 msg/s ({mode}), {os.cpu_count()} CPUs")
    for column in (
        "offered msg/s",
        "stored msg/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        f"p95 < {TARGET_P95_MS:.0f} ms",
        "consumer CPU",
        "publisher CPU",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        f"{args.devices}", f"{counted / cpu['window']:,.0f}", f"{cuts[49] * 1000:.1f}", f"{p95:.1f}",
        f"{cuts[98] * 1000:.1f}", "yes" if p95 < TARGET_P95_MS else "NO",
        f"{cpu['consumer']:.0%}", f"{cpu['publisher']:.0%}",
    )  # fmt: skip
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
