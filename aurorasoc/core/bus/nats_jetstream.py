"""NATS JetStream publisher (spec §12): the ``AURORA.*`` subjects used for federation and IOC sharing.

Only active with ``AURORA_NATS_URL``. NATS is never required locally: a publisher that cannot reach
the server logs, counts the failure and carries on, and ``publish_nowait`` runs in the background
so an API request never waits for (or fails because of) NATS. Every message carries a
``Nats-Msg-Id`` header, so a retried publish is stored once (JetStream duplicate window). Callers
use the logical names (``AURORA.alerts``); the stream, subjects and durable names sent to NATS
carry ``AURORA_NAMESPACE`` (:mod:`aurorasoc.core.namespace`). A new durable consumer starts with
what is published after it joins (``FEDERATION_REPLAY=true`` asks for what the stream still keeps).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import nats
import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy, PubAck, RetentionPolicy, StreamConfig
from nats.js.errors import BadRequestError
from prometheus_client import Counter

from aurorasoc.core.config import get_settings
from aurorasoc.core.namespace import nats_durable, nats_stream, nats_subject

log = logging.getLogger(__name__)

ALERTS_SUBJECT = "AURORA.alerts"
AGENT_RESULTS_SUBJECT = "AURORA.agent_results"
AUDIT_SUBJECT = "AURORA.audit"
SUBJECTS = (ALERTS_SUBJECT, "AURORA.ioc_sharing", AGENT_RESULTS_SUBJECT, AUDIT_SUBJECT)
DURABLE_CONSUMER = "aurora-site-consumer"
MAX_MSGS = 100_000
MAX_AGE_SECONDS = 7 * 24 * 3600
NAK_DELAY_SECONDS = 5
# close(): pending publishes, then the drain of in-flight handlers, each get this long (SIGTERM must
# end a process within 10 s); a message whose handler is cut off is never acked, so NATS redelivers it.
CLOSE_TIMEOUT_SECONDS = 2.0
NATS_PUBLISH_FAILURES = Counter(
    "nats_publish_failures_total", "JetStream publishes that failed (NATS down or no ack)", ["subject"]
)

JsonHandler = Callable[[dict[str, Any]], Awaitable[object]]


class NATSJetStreamPublisher:
    """One connection and the ``AURORA`` stream; reconnects on its own once it has connected."""

    def __init__(
        self,
        nats_url: str,
        stream_name: str | None = None,
        *,
        connect_timeout: float = 2.0,
        publish_timeout: float = 5.0,
        namespace: str | None = None,
    ) -> None:
        self.nats_url = nats_url
        self.namespace = namespace or get_settings().namespace
        self.stream_name = stream_name or nats_stream(self.namespace)
        self.connect_timeout = connect_timeout
        self.publish_timeout = publish_timeout
        self._nc: Client | None = None
        self._connecting = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Connect and ensure the stream; an unreachable server is logged, not raised."""
        try:
            await self._jetstream()
        except Exception as exc:  # NATS is optional: the first publish tries again
            log.warning("NATS unavailable at start (%s); sharing paused", exc)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=min(self.publish_timeout, CLOSE_TIMEOUT_SECONDS))
        for task in self._tasks:
            task.cancel()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._nc.drain(), CLOSE_TIMEOUT_SECONDS)
            if not self._nc.is_closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._nc.close(), CLOSE_TIMEOUT_SECONDS)
            self._nc = None

    async def _jetstream(self) -> JetStreamContext:
        async with self._connecting:
            if self._nc is None or self._nc.is_closed:
                # Reconnects forever once connected; the first connection gets a hard deadline.
                self._nc = await asyncio.wait_for(
                    nats.connect(
                        self.nats_url,
                        connect_timeout=int(max(1, self.connect_timeout)),
                        max_reconnect_attempts=-1,
                        name="aurorasoc",
                    ),
                    self.connect_timeout * 2,
                )
                await self.ensure_stream(self._nc.jetstream())
            return self._nc.jetstream(timeout=self.publish_timeout)

    async def ensure_stream(self, js: JetStreamContext) -> None:
        config = StreamConfig(
            name=self.stream_name,
            subjects=[self.subject(subject) for subject in SUBJECTS],
            retention=RetentionPolicy.LIMITS,
            max_msgs=MAX_MSGS,
            max_age=MAX_AGE_SECONDS,
        )
        try:
            await js.add_stream(config)
        except BadRequestError:  # exists with another configuration: bring it to ours
            await js.update_stream(config)

    async def publish(self, subject: str, data: dict[str, Any], *, msg_id: str | None = None) -> PubAck:
        """Publish JSON and wait for JetStream's ack; a repeated ``msg_id`` is acked as a duplicate."""
        js = await self._jetstream()
        headers = {"Nats-Msg-Id": msg_id or str(uuid.uuid4())}
        return await js.publish(self.subject(subject), orjson.dumps(data), headers=headers)

    def subject(self, logical: str) -> str:
        """``AURORA.alerts`` / ``aurora.federation…`` as sent on the wire in this namespace."""
        return nats_subject(logical, self.namespace)

    async def client(self) -> Client:
        """The connected client, for core NATS subjects (federation heartbeats)."""
        await self._jetstream()
        assert self._nc is not None
        return self._nc

    def publish_nowait(self, subject: str, data: dict[str, Any], *, msg_id: str | None = None) -> None:
        """Publish in the background; a failure is logged and counted, never raised."""
        task = asyncio.create_task(self._publish_logged(subject, data, msg_id), name=f"nats:{subject}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish_logged(self, subject: str, data: dict[str, Any], msg_id: str | None) -> None:
        try:
            await self.publish(subject, data, msg_id=msg_id)
        except Exception as exc:
            NATS_PUBLISH_FAILURES.labels(subject).inc()
            log.warning("NATS publish on %s failed: %s", subject, exc)

    async def subscribe_durable(
        self,
        subject: str,
        handler: JsonHandler,
        *,
        durable: str = DURABLE_CONSUMER,
        replay: bool | None = None,
    ) -> Subscription:
        """Durable push consumer: ack on success, ``nak(delay=5)`` on error.

        A new durable starts at the next message unless ``replay`` (default ``FEDERATION_REPLAY``);
        an existing one resumes where it stopped, so a restarted site misses nothing.
        """
        replay = get_settings().federation.replay if replay is None else replay

        async def _on_message(msg: Msg) -> None:
            try:
                await handler(orjson.loads(msg.data))
            except Exception:
                log.warning("NATS handler failed on %s; redelivery in %ss", subject, NAK_DELAY_SECONDS)
                await msg.nak(delay=NAK_DELAY_SECONDS)
            else:
                await msg.ack()

        js = await self._jetstream()
        return await js.subscribe(
            self.subject(subject),
            durable=nats_durable(durable, self.namespace),
            stream=self.stream_name,
            cb=_on_message,
            manual_ack=True,
            deliver_policy=DeliverPolicy.ALL if replay else DeliverPolicy.NEW,
        )


_publisher: NATSJetStreamPublisher | None = None


async def start_publisher(nats_url: str) -> NATSJetStreamPublisher | None:
    """The process-wide publisher (lifespan); None when ``AURORA_NATS_URL`` is empty."""
    global _publisher
    if not nats_url:
        return None
    _publisher = NATSJetStreamPublisher(nats_url)
    await _publisher.start()
    return _publisher


async def stop_publisher() -> None:
    global _publisher
    if _publisher is not None:
        await _publisher.close()
        _publisher = None


def share(subject: str, data: dict[str, Any], *, msg_id: str | None = None) -> None:
    """Hand ``data`` to the process-wide publisher, if there is one (fire and forget)."""
    if _publisher is not None:
        _publisher.publish_nowait(subject, data, msg_id=msg_id)


def share_with_federation(subject: str, data: dict[str, Any], *, msg_id: str | None = None) -> None:
    """Share ``data`` stamped with this site's id, only when ``FEDERATION_ENABLED`` (spec §20)."""
    federation = get_settings().federation
    if federation.enabled:
        share(subject, {**data, "origin_site": federation.site_id}, msg_id=msg_id)
