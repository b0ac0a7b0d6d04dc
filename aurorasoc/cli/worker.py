"""``aurorasoc worker --role R``: one distributed consumer process (spec §2.4).

Workers share Redis Streams consumer groups, so several processes or machines split the load and a
crashed worker's unacknowledged entries are claimed by the others (``XAUTOCLAIM``). SIGTERM/SIGINT
stop reading; the message in hand gets ``AURORA_SHUTDOWN_GRACE_SECONDS`` to finish and be
acknowledged, then is cancelled. What is cancelled, or was read but not started, stays pending for
another consumer; the process is gone within ``AURORA_SHUTDOWN_TIMEOUT_SECONDS`` (spec §28). The API
migrates the database; a worker only checks that it answers.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import Callable
from enum import Enum
from typing import Any, Protocol

import structlog
import typer

from aurorasoc.agents.worker import register_agent_worker
from aurorasoc.cli.common import fail, run
from aurorasoc.cli.shutdown import arm_exit_deadline, skip_final_collection
from aurorasoc.core.bus.base import BatchHandler, EventBus, Handler
from aurorasoc.core.bus.current import set_bus
from aurorasoc.core.bus.nats_jetstream import start_publisher, stop_publisher
from aurorasoc.core.bus.redis_streams import RedisStreamsBus
from aurorasoc.core.config import get_settings
from aurorasoc.core.db import probe_database
from aurorasoc.core.heap import keep_long_lived
from aurorasoc.core.logging import configure_logging
from aurorasoc.cps.mqtt import MQTTEdgeConsumer
from aurorasoc.network.federation import federation_active, federation_service
from aurorasoc.siem.log_stream import register_detection_consumer, stored_rules_pipeline_factory
from aurorasoc.workers.alert_pipeline import register_alert_pipeline

log = structlog.get_logger(__name__)
NO_REDIS = (
    "workers need AURORA_REDIS_URL (the Redis shared with the API); the embedded `aurorasoc serve` needs none"
)
NO_FEDERATION = (
    "the federation worker needs FEDERATION_ENABLED=true and AURORA_NATS_URL (this site's NATS JetStream)"
)


class Role(str, Enum):
    detection = "detection"
    pipeline = "pipeline"
    agents = "agents"
    federation = "federation"
    mqtt = "mqtt"


class _WorkerBus:
    """The worker's bus as consumers see it: every group with the CLI's consumer name and batch size."""

    def __init__(self, bus: RedisStreamsBus, consumer: str, batch_size: int) -> None:
        self.inner, self.consumer, self.batch_size = bus, consumer, batch_size

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        await self.inner.close()

    async def publish(self, stream: str, data: dict[str, Any]) -> str:
        return await self.inner.publish(stream, data)

    async def publish_many(self, stream: str, items: list[dict[str, Any]]) -> None:
        await self.inner.publish_many(stream, items)

    def subscribe(
        self,
        stream: str,
        group: str,
        handler: Handler,
        *,
        consumer: str | None = None,
        batch_size: int = 10,
    ) -> None:
        self.inner.subscribe(stream, group, handler, consumer=self.consumer, batch_size=self.batch_size)

    def subscribe_batch(
        self,
        stream: str,
        group: str,
        handler: BatchHandler,
        *,
        consumer: str | None = None,
        batch_size: int = 100,
        linger: float = 0.0,
    ) -> None:
        self.inner.subscribe_batch(
            stream, group, handler, consumer=self.consumer, batch_size=self.batch_size, linger=linger
        )


def _register(role: Role) -> Callable[[EventBus], None]:
    if role is Role.detection:
        factory = stored_rules_pipeline_factory()
        return lambda bus: register_detection_consumer(bus, factory)
    if role is Role.agents:
        return register_agent_worker
    if role in (Role.federation, Role.mqtt):
        return lambda bus: None  # no stream group: it listens on NATS / MQTT (started in _run)
    return register_alert_pipeline


class _Service(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


def _role_service(role: Role, consumer: str) -> _Service | None:
    """The role's long-running listener besides the stream groups: NATS (federation) or MQTT."""
    if role is Role.federation:
        return federation_service()
    if role is Role.mqtt:  # one member of the shared subscription, under its own persistent session
        mqtt = get_settings().mqtt
        return MQTTEdgeConsumer(mqtt, client_id=f"{mqtt.client_id}-{consumer.replace(':', '-')}")
    return None


async def _run(role: Role, consumer: str, batch_size: int) -> None:
    if not await probe_database(force=True):
        raise OSError("the database does not answer")
    messaging = get_settings().messaging
    bus = RedisStreamsBus(
        messaging.redis_url, claim_interval=min(30.0, float(messaging.stream_claim_idle_seconds))
    )
    set_bus(bus)
    server = get_settings().server
    stopping = asyncio.Event()

    def stop() -> None:
        arm_exit_deadline(server.shutdown_timeout_seconds)
        stopping.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    worker_bus = _WorkerBus(bus, consumer, batch_size)
    _register(role)(worker_bus)
    await worker_bus.start()
    await start_publisher(messaging.nats_url)  # alerts created here are shared like the API's
    service = _role_service(role, consumer)
    if service is not None:
        await service.start()
    keep_long_lived()  # what the role set up lives as long as the process
    log.info("worker_started", role=role.value, consumer=consumer, batch_size=batch_size)
    try:
        await stopping.wait()
        log.info("worker_stopping", role=role.value, consumer=consumer)
        await bus.drain(server.shutdown_grace_seconds)
    finally:
        if service is not None:
            await service.stop()
        await worker_bus.close()
        await stop_publisher()
        set_bus(None)
    log.info("worker_stopped", role=role.value, consumer=consumer)


def worker(
    role: Role = typer.Option(
        ...,
        "--role",
        help="detection (aurora:logs), pipeline (aurora:alerts), agents (aurora:agent:tasks), federation, "
        "mqtt (CPS telemetry; several share the subscription)",
    ),
    consumer: str | None = typer.Option(None, "--consumer", help="Consumer name (default HOST:PID)"),
    batch_size: int = typer.Option(10, "--batch-size", min=1, max=500, help="Stream entries read at once"),
) -> None:
    """Run a distributed worker: a consumer of a shared Redis Streams group (needs AURORA_REDIS_URL)."""
    settings = get_settings()
    if not settings.messaging.redis_url:
        fail(NO_REDIS, code=2)
    if role is Role.federation and not federation_active(settings):
        fail(NO_FEDERATION, code=2)
    configure_logging(settings)
    run(lambda: _run(role, consumer or f"{socket.gethostname()}:{os.getpid()}", batch_size))
    skip_final_collection()
