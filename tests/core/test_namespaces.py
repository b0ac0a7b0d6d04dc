"""``AURORA_NAMESPACE`` (issue 20): two deployments on one Redis, NATS and Mosquitto stay apart.

The unit tests pin the name mapping (the default keeps the spec's names). The integration tests run
deployment A and deployment B side by side with different namespaces on the real shared services:
neither sees the other's events, alerts, agent tasks (Redis), federated alerts (NATS) or device
messages (MQTT); and a new federation site only receives what was published after it joined.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

import aiomqtt
import nats
import orjson
import pytest
from conftest import require_service
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from aurorasoc.alerts.events import ALERTS_STREAM
from aurorasoc.core.bus.base import AGENT_TASKS_STREAM, BusMessage
from aurorasoc.core.bus.nats_jetstream import ALERTS_SUBJECT, NATSJetStreamPublisher
from aurorasoc.core.bus.redis_streams import RedisStreamsBus
from aurorasoc.core.config import Settings, get_settings
from aurorasoc.core.db import session_scope
from aurorasoc.core.namespace import nats_durable, nats_stream, nats_subject, redis_key
from aurorasoc.cps.mqtt import MQTTEdgeConsumer
from aurorasoc.cps.mqtt_topics import (
    InvalidMessage,
    command_topic,
    device_topic,
    parse_topic,
    subscriptions,
)
from aurorasoc.cps.service import CPSService
from aurorasoc.cps.telemetry import IngestMessage


class TestNames:
    def test_the_default_namespace_keeps_the_documented_names(self) -> None:
        assert get_settings().namespace == "aurora"
        assert redis_key("aurora:alerts") == "aurora:alerts"
        assert redis_key("decisions:agents") == "decisions:agents"
        assert (nats_stream(), nats_subject("AURORA.alerts")) == ("AURORA", "AURORA.alerts")
        assert nats_subject("aurora.federation.health.*") == "aurora.federation.health.*"
        assert nats_durable("aurora-site-consumer") == "aurora-site-consumer"
        assert subscriptions()[0] == "aurora/sensors/+/status"
        assert command_topic("d-1") == "aurora/access/d-1/command"

    def test_another_namespace_prefixes_every_kind_of_name(self) -> None:
        assert redis_key("aurora:alerts", "plant2") == "plant2:alerts"
        assert redis_key("decisions:agents", "plant2") == "plant2:decisions:agents"
        assert redis_key("ratelimit:api:1.2.3.4", "plant2") == "plant2:ratelimit:api:1.2.3.4"
        assert (nats_stream("plant2"), nats_subject("AURORA.audit", "plant2")) == ("PLANT2", "PLANT2.audit")
        assert nats_subject("aurora.federation.health.s1", "plant2") == "plant2.federation.health.s1"
        assert nats_subject("other.subject", "plant2") == "other.subject"
        assert nats_durable("aurora-site-consumer", "plant2") == "plant2-aurora-site-consumer"
        assert all(topic.startswith("plant2/") for topic in subscriptions("plant2"))
        assert parse_topic("plant2/sensors/d-1/telemetry", "plant2") == ("telemetry", "d-1")
        with pytest.raises(InvalidMessage):
            parse_topic("aurora/sensors/d-1/telemetry", "plant2")

    @pytest.mark.parametrize("bad", ["", "Plant", "a.b", "a/b", "a b", "x" * 33, "#"])
    def test_a_namespace_unsafe_for_any_transport_is_refused(self, bad: str) -> None:
        with pytest.raises(ValidationError):
            Settings(AURORA_NAMESPACE=bad)


def _uid() -> str:
    return uuid.uuid4().hex[:8]


async def _eventually(probe: Callable[[], bool], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while True:
            if probe():
                return
            await asyncio.sleep(0.05)


@pytest.mark.integration
async def test_redis_events_alerts_and_agent_tasks_stay_in_their_namespace() -> None:
    url = require_service("redis")
    names = {"a": f"ns-a-{_uid()}", "b": f"ns-b-{_uid()}"}
    buses = {site: RedisStreamsBus(url, block_ms=100, namespace=ns) for site, ns in names.items()}
    seen: dict[str, list[tuple[str, Any]]] = {"a": [], "b": []}

    def recorder(site: str) -> Callable[[BusMessage], Awaitable[None]]:
        async def handle(message: BusMessage) -> None:
            seen[site].append((message.stream, message.data["n"]))

        return handle

    for site, bus in buses.items():  # the same logical streams and groups in both deployments
        bus.subscribe(ALERTS_STREAM, "alert-pipeline", recorder(site))
        bus.subscribe(AGENT_TASKS_STREAM, "aurora-agents", recorder(site))
        await bus.start()
    try:
        await buses["a"].publish(ALERTS_STREAM, {"n": "alert-a"})
        await buses["a"].publish(AGENT_TASKS_STREAM, {"n": "task-a"})
        await buses["b"].publish(ALERTS_STREAM, {"n": "alert-b"})
        await buses["b"].publish_many(ALERTS_STREAM, [{"n": "many-b1"}, {"n": "many-b2"}])  # one pipeline
        await _eventually(lambda: len(seen["a"]) == 2 and len(seen["b"]) == 3)
        await asyncio.sleep(0.3)  # anything crossing over would have arrived by now
        assert sorted(seen["a"]) == [(AGENT_TASKS_STREAM, "task-a"), (ALERTS_STREAM, "alert-a")]
        assert seen["b"] == [(ALERTS_STREAM, n) for n in ("alert-b", "many-b1", "many-b2")]
        client = buses["a"].client
        assert (await client.xlen(f"{names['a']}:alerts"), await client.xlen(f"{names['b']}:alerts")) == (
            1,
            3,
        )
        assert await client.xlen(f"{names['b']}:agent:tasks") == 0
    finally:
        for site, bus in buses.items():
            keys = [redis_key(stream, names[site]) for stream in (ALERTS_STREAM, AGENT_TASKS_STREAM)]
            await bus.client.delete(*keys)
            await bus.close()


@pytest.fixture
async def nats_pair() -> AsyncIterator[dict[str, NATSJetStreamPublisher]]:
    url = require_service("nats")
    pubs = {site: NATSJetStreamPublisher(url, namespace=f"ns-{site}-{_uid()}") for site in ("a", "b")}
    for pub in pubs.values():
        await pub.start()
    yield pubs
    nc = await nats.connect(url)
    for pub in pubs.values():
        await pub.close()
        with contextlib.suppress(NotFoundError):
            await nc.jetstream().delete_stream(pub.stream_name)
    await nc.close()


@pytest.mark.integration
async def test_federated_alerts_stay_in_their_namespace_and_new_sites_start_at_now(
    nats_pair: dict[str, NATSJetStreamPublisher],
) -> None:
    a, b = nats_pair["a"], nats_pair["b"]
    assert a.stream_name != b.stream_name and a.stream_name.startswith("NS-A-")
    await a.publish(ALERTS_SUBJECT, {"n": "before-join"})
    got: dict[str, list[str]] = {"a-new": [], "a-replay": [], "b": []}

    def into(key: str) -> Callable[[dict[str, Any]], Awaitable[None]]:
        async def handle(data: dict[str, Any]) -> None:
            got[key].append(data["n"])

        return handle

    await a.subscribe_durable(ALERTS_SUBJECT, into("a-new"), durable="site-new")
    await a.subscribe_durable(ALERTS_SUBJECT, into("a-replay"), durable="site-replay", replay=True)
    await b.subscribe_durable(ALERTS_SUBJECT, into("b"), durable="site-new")
    await a.publish(ALERTS_SUBJECT, {"n": "after-join"})
    await b.publish(ALERTS_SUBJECT, {"n": "b-only"})
    await _eventually(lambda: len(got["a-new"]) == 1 and len(got["a-replay"]) == 2 and len(got["b"]) == 1)
    await asyncio.sleep(0.3)
    assert got == {"a-new": ["after-join"], "a-replay": ["before-join", "after-join"], "b": ["b-only"]}


@pytest.mark.integration
async def test_mqtt_device_messages_reach_only_their_own_deployment(app_db: None) -> None:
    url = urlparse(require_service("mqtt"))
    host, port = url.hostname or "127.0.0.1", url.port or 1883
    names = {"a": f"ns-a-{_uid()}", "b": f"ns-b-{_uid()}"}
    async with session_scope() as session:
        for site in names:  # one shared database: only the topic namespace keeps the sites apart
            await CPSService(session).register(
                {"device_id": f"dev-{site}", "device_type": "pump", "name": site, "firmware_stack": "zephyr"}
            )
    stored: dict[str, list[str]] = {"a": [], "b": []}
    consumers: dict[str, MQTTEdgeConsumer] = {}
    for site, ns in names.items():
        mqtt = get_settings().mqtt.model_copy(
            update={"host": host, "port": port, "tls": False, "client_id": f"{ns}-backend"}
        )

        def on_stored(batch: Any, site: str = site) -> None:
            stored[site].extend(f"{m.kind}:{m.device_id}" for m in batch if isinstance(m, IngestMessage))

        consumers[site] = MQTTEdgeConsumer(mqtt, on_stored=on_stored, namespace=ns)
        await consumers[site].start()
    try:
        for consumer in consumers.values():
            await asyncio.wait_for(consumer.connected.wait(), 10)
        async with aiomqtt.Client(host, port, identifier=f"ns-pub-{_uid()}") as device:
            for site, ns in names.items():
                body = orjson.dumps({"metric": "t", "value": 1.0})
                await device.publish(device_topic("sensors", f"dev-{site}", "telemetry", ns), body, qos=1)
        await _eventually(lambda: bool(stored["a"]) and bool(stored["b"]))
        await asyncio.sleep(0.3)
        assert stored == {"a": ["telemetry:dev-a"], "b": ["telemetry:dev-b"]}
    finally:
        for consumer in consumers.values():
            await consumer.stop()
