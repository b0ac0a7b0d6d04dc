"""CPS MQTT ingest: N simulated devices at 1 message/s each against the real broker (issue 7).

Publishers run in a separate process (``--connections`` MQTT connections sharing the devices, each
device sending one telemetry reading per second with its send time in ``ts``). The consumer runs
in this process, exactly as the API runs it (``MQTTEdgeConsumer``: validate, batch, one commit per
batch) into a fresh SQLite file (or ``--database-url``). Reported: sustained stored messages/s over
the measured window, and p50/p95/p99 latency from the device's send time to the commit of its
row (same host clock). Target: 2,000 devices on 2 cores, p95 < 250 ms.

Usage: .venv/bin/python bench/cps.py [--devices 2000] [--seconds 30] [--broker 127.0.0.1:1883]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence

import aiomqtt
import orjson
from rich.console import Console
from rich.table import Table

TARGET_P95_MS = 250.0
WARMUP_SECONDS = 5.0


async def _publish(host: str, port: int, ids: list[str], seconds: float) -> None:
    async with aiomqtt.Client(
        host, port, identifier=f"bench-pub-{uuid.uuid4().hex[:8]}", max_queued_outgoing_messages=0
    ) as client:
        loop = asyncio.get_running_loop()
        start = loop.time()
        tick = 0
        while loop.time() - start < seconds:
            for device_id in ids:
                payload = {"metric": "temperature", "value": 20.0 + (tick % 7) * 0.1, "ts": time.time()}
                await client.publish(f"aurora/sensors/{device_id}/telemetry", orjson.dumps(payload), qos=0)
            tick += 1
            await asyncio.sleep(max(0.0, start + tick - loop.time()))


def _publisher_process(host: str, port: int, groups: list[list[str]], seconds: float) -> None:
    async def _all() -> None:
        await asyncio.gather(*(_publish(host, port, ids, seconds) for ids in groups))

    asyncio.run(_all())


async def _consume(args: argparse.Namespace, ids: Sequence[str]) -> tuple[list[float], int, float]:
    from aurorasoc.config.settings import get_settings, reset_settings
    from aurorasoc.core.db import get_engine
    from aurorasoc.core.models import Base
    from aurorasoc.events.mqtt_consumer import MQTTEdgeConsumer
    from aurorasoc.services.cps_ingest import IngestMessage

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
    proc = multiprocessing.Process(target=_publisher_process, args=(host, int(port), groups, args.seconds))
    proc.start()
    await asyncio.get_running_loop().run_in_executor(None, proc.join)
    await asyncio.sleep(2.0)  # let the queue drain
    await consumer.stop()
    window = args.seconds - WARMUP_SECONDS
    return latencies, counted, window


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--broker", default="127.0.0.1:1883")
    parser.add_argument("--database-url", default=None)
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
    latencies, counted, window = asyncio.run(_consume(args, ids))
    if not latencies:
        print("no messages stored", file=sys.stderr)
        return 1
    cuts = statistics.quantiles(latencies, n=100)
    p95 = cuts[94] * 1000
    table = Table(title=f"CPS MQTT ingest — {args.devices} devices @ 1 msg/s, {os.cpu_count()} CPUs")
    for column in (
        "offered msg/s",
        "stored msg/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        f"p95 < {TARGET_P95_MS:.0f} ms",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        f"{args.devices}", f"{counted / window:,.0f}", f"{cuts[49] * 1000:.1f}", f"{p95:.1f}",
        f"{cuts[98] * 1000:.1f}", "yes" if p95 < TARGET_P95_MS else "NO",
    )  # fmt: skip
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
