"""``aurorasoc worker --role R``: one distributed consumer process (spec §2.4).

Workers share Redis Streams consumer groups, so several processes or machines split the load and a
crashed worker's unacknowledged entries are claimed by the others (``XAUTOCLAIM``). SIGTERM/SIGINT
let the message in hand finish and be acknowledged; entries read but not started stay pending for
another consumer. The API migrates the database; a worker only checks that it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, Protocol, TypeVar

import structlog
import typer

from aurorasoc.cli.common import fail
from aurorasoc.core.bus.base import BatchHandler, BusMessage, EventBus, Handler, set_bus
from aurorasoc.core.bus.nats_jetstream import start_publisher, stop_publisher
from aurorasoc.core.config import get_settings

log = structlog.get_logger(__name__)
DRAIN_TIMEOUT_SECONDS = 60.0
_M = TypeVar("_M", BusMessage, list[BusMessage])  # what a handler takes: one message, or a batch
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


class _Gate:
    """Lets the handler in flight finish on shutdown and starts no new one."""

    def __init__(self) -> None:
        self.stopping = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()

    def wrap(self, handler: Callable[[_M], Awaitable[None]]) -> Callable[[_M], Awaitable[None]]:
        async def guarded(message: _M) -> None:
            if self.stopping.is_set():
                await asyncio.Future()  # never resolves: the entry stays pending for another consumer
            self.idle.clear()
            try:
                await handler(message)
            finally:
                self.idle.set()

        return guarded


class _GatedBus:
    """The worker's bus as consumers see it: every handler goes through the gate, with the CLI's
    consumer name and batch size."""

    def __init__(self, bus: EventBus, gate: _Gate, consumer: str, batch_size: int) -> None:
        self.inner, self.gate, self.consumer, self.batch_size = bus, gate, consumer, batch_size

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
        self.inner.subscribe(
            stream, group, self.gate.wrap(handler), consumer=self.consumer, batch_size=self.batch_size
        )

    def subscribe_batch(
        self,
        stream: str,
        group: str,
        handler: BatchHandler,
        *,
        consumer: str | None = None,
        batch_size: int = 100,
    ) -> None:
        self.inner.subscribe_batch(
            stream, group, self.gate.wrap(handler), consumer=self.consumer, batch_size=self.batch_size
        )


def _register(role: Role) -> Callable[[EventBus], None]:
    if role is Role.detection:
        from aurorasoc.siem.log_stream import register_detection_consumer, stored_rules_pipeline_factory

        factory = stored_rules_pipeline_factory()
        return lambda bus: register_detection_consumer(bus, factory)
    if role is Role.agents:
        from aurorasoc.agents.worker import register_agent_worker

        return register_agent_worker
    if role in (Role.federation, Role.mqtt):
        return lambda bus: None  # no stream group: it listens on NATS / MQTT (started in _run)
    from aurorasoc.workers.alert_pipeline import register_alert_pipeline

    return register_alert_pipeline


class _Service(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


def _role_service(role: Role, consumer: str) -> _Service | None:
    """The role's long-running listener besides the stream groups: NATS (federation) or MQTT."""
    if role is Role.federation:
        from aurorasoc.network.federation import federation_service

        return federation_service()
    if role is Role.mqtt:  # one member of the shared subscription, under its own persistent session
        from aurorasoc.cps.mqtt import MQTTEdgeConsumer

        mqtt = get_settings().mqtt
        return MQTTEdgeConsumer(mqtt, client_id=f"{mqtt.client_id}-{consumer.replace(':', '-')}")
    return None


async def _run(role: Role, consumer: str, batch_size: int) -> None:
    from aurorasoc.core.bus.redis_streams import RedisStreamsBus
    from aurorasoc.core.db import probe_database

    if not await probe_database(force=True):
        raise OSError("the database does not answer")
    messaging = get_settings().messaging
    bus = RedisStreamsBus(
        messaging.redis_url, claim_interval=min(30.0, float(messaging.stream_claim_idle_seconds))
    )
    set_bus(bus)
    gate = _Gate()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, gate.stopping.set)
    gated = _GatedBus(bus, gate, consumer, batch_size)
    _register(role)(gated)
    await gated.start()
    await start_publisher(messaging.nats_url)  # alerts created here are shared like the API's
    service = _role_service(role, consumer)
    if service is not None:
        await service.start()
    log.info("worker_started", role=role.value, consumer=consumer, batch_size=batch_size)
    try:
        await gate.stopping.wait()
        log.info("worker_stopping", role=role.value, consumer=consumer)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(gate.idle.wait(), DRAIN_TIMEOUT_SECONDS)
    finally:
        if service is not None:
            await service.stop()
        await gated.close()
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
    from aurorasoc.cli.common import run
    from aurorasoc.core.logging import configure_logging

    settings = get_settings()
    if not settings.messaging.redis_url:
        fail(NO_REDIS, code=2)
    if role is Role.federation:
        from aurorasoc.network.federation import federation_active

        if not federation_active(settings):
            fail(NO_FEDERATION, code=2)
    configure_logging(settings)
    run(lambda: _run(role, consumer or f"{socket.gethostname()}:{os.getpid()}", batch_size))
