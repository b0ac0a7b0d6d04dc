"""NATSJetStreamPublisher against a real NATS JetStream: stream shape, Nats-Msg-Id dedup, durable
consumer ack/nak, and NATS being down never raising. Alert sharing is in test_federation.py."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import nats
import pytest
from conftest import require_service
from live_server import free_port
from nats.js.api import RetentionPolicy
from nats.js.errors import NotFoundError
from prometheus_client import REGISTRY

from aurorasoc.core.bus import nats_jetstream
from aurorasoc.core.bus.nats_jetstream import (
    ALERTS_SUBJECT,
    DURABLE_CONSUMER,
    MAX_AGE_SECONDS,
    MAX_MSGS,
    SUBJECTS,
    NATSJetStreamPublisher,
)

pytestmark = pytest.mark.integration


async def wait_until(check: Callable[[], Any]) -> None:
    async with asyncio.timeout(10):
        while True:
            result = check()
            if await result if inspect.isawaitable(result) else result:
                return
            await asyncio.sleep(0.05)


@pytest.fixture
async def nats_url() -> AsyncIterator[str]:
    """The real NATS with no ``AURORA`` stream left from an earlier test (nor after this one)."""
    url = require_service("nats")

    async def drop_stream() -> None:
        nc = await nats.connect(url)
        with contextlib.suppress(NotFoundError):
            await nc.jetstream().delete_stream("AURORA")
        await nc.close()

    await drop_stream()
    yield url
    await drop_stream()


@pytest.fixture
async def publisher(nats_url: str) -> AsyncIterator[NATSJetStreamPublisher]:
    pub = NATSJetStreamPublisher(nats_url)
    await pub.start()
    yield pub
    await pub.close()


def failures(subject: str) -> float:
    return REGISTRY.get_sample_value("nats_publish_failures_total", {"subject": subject}) or 0.0


class TestStream:
    async def test_start_creates_the_aurora_stream_as_specified(self, publisher, nats_url):
        nc = await nats.connect(nats_url)
        info = await nc.jetstream().stream_info("AURORA")
        await nc.close()
        assert sorted(info.config.subjects or []) == sorted(SUBJECTS)
        assert info.config.retention == RetentionPolicy.LIMITS
        assert (info.config.max_msgs, info.config.max_age) == (MAX_MSGS, MAX_AGE_SECONDS)

    async def test_a_repeated_msg_id_is_stored_once(self, publisher):
        first = await publisher.publish(ALERTS_SUBJECT, {"n": 1}, msg_id="alert-123")
        again = await publisher.publish(ALERTS_SUBJECT, {"n": 1}, msg_id="alert-123")
        other = await publisher.publish(ALERTS_SUBJECT, {"n": 2})
        assert (first.duplicate, again.duplicate, other.duplicate) == (None, True, None)
        assert again.seq == first.seq and other.seq == first.seq + 1


class TestDurableConsumer:
    async def test_success_acks_and_a_failure_naks_for_redelivery(self, publisher, monkeypatch):
        monkeypatch.setattr(nats_jetstream, "NAK_DELAY_SECONDS", 0.2)  # spec: 5 s; the mechanism is the same
        published_before = [{"n": 0}, {"n": 1}]
        for data in published_before:  # delivered although published before: replay asked for
            await publisher.publish(ALERTS_SUBJECT, data)
        seen: list[int] = []

        async def handler(data: dict[str, Any]) -> None:
            seen.append(data["n"])
            if data["n"] == 1 and seen.count(1) == 1:
                raise RuntimeError("first delivery fails")

        sub = await publisher.subscribe_durable(ALERTS_SUBJECT, handler, replay=True)
        await wait_until(lambda: seen.count(1) == 2)

        async def settled() -> bool:
            info = await sub.consumer_info()
            return info.num_ack_pending == 0 and info.num_pending == 0

        await wait_until(settled)
        info = await sub.consumer_info()
        assert info.name == DURABLE_CONSUMER
        assert (info.delivered.consumer_seq, info.ack_floor.stream_seq) == (3, 2)  # 3 deliveries, all acked
        assert sorted(seen) == [0, 1, 1]
        await sub.unsubscribe()


class TestNatsDown:
    async def test_start_and_background_publish_never_raise(self, caplog):
        pub = NATSJetStreamPublisher(f"nats://127.0.0.1:{free_port()}", connect_timeout=1, publish_timeout=1)
        await pub.start()
        before = failures(ALERTS_SUBJECT)
        pub.publish_nowait(ALERTS_SUBJECT, {"n": 1})
        await wait_until(lambda: failures(ALERTS_SUBJECT) == before + 1)
        await pub.close()
        assert "NATS" in caplog.text
