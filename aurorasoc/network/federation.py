"""The federation worker (spec §20): heartbeats, link health and alerts shared between sites.

Each site runs its own NATS with JetStream; peers are reached through it (leafnodes are deployment
configuration). The worker gossips a heartbeat on ``aurora.federation.health.<site_id>``, turns the
heartbeats it hears into ``sites`` / ``site_links`` rows, sweeps links to ``degraded``/``down`` when
a peer falls silent, and feeds peers' alerts from ``AURORA.alerts`` through ``AlertService.create``
with ``origin_site`` (dedup absorbs replays). Its own messages come back on the same subjects and
are ignored. Outgoing alerts leave from the alert pipeline (``forward_alert``), so distributed
pipeline workers share them too. NATS being down never stops the site: the worker retries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from nats.aio.msg import Msg
from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aurorasoc import __version__
from aurorasoc.agents.investigation_workflow import enabled_agents
from aurorasoc.alerts.events import publish_alert_event
from aurorasoc.alerts.models import AlertModel
from aurorasoc.alerts.service import AlertService
from aurorasoc.core import runtime
from aurorasoc.core.bus.nats_jetstream import (
    ALERTS_SUBJECT,
    DURABLE_CONSUMER,
    NATSJetStreamPublisher,
    share,
)
from aurorasoc.core.config import FederationSettings, Settings, get_settings
from aurorasoc.core.db import get_session_factory
from aurorasoc.core.types import utcnow
from aurorasoc.network import federation_rules as rules
from aurorasoc.network.models import SiteLinkModel, SiteModel

log = logging.getLogger(__name__)
RETRY_SECONDS = 5.0
Clock = Callable[[], datetime]


def forward_alert(alert: AlertModel) -> None:
    """The alert pipeline's federation step: share a local alert at or above the floor."""
    cfg = get_settings().federation  # without AURORA_NATS_URL there is no publisher: share() is a no-op
    if cfg.enabled and rules.should_federate(alert.severity, alert.origin_site, cfg.federate_min_severity):
        message = rules.federated_alert(alert, cfg.site_id)
        share(ALERTS_SUBJECT, message.model_dump(mode="json"), msg_id=rules.alert_msg_id(message))


class FederationService:
    """One site's worker; ``start``/``stop`` like the lifespan's other services."""

    def __init__(
        self,
        cfg: FederationSettings,
        nats_url: str,
        *,
        session_factory: async_sessionmaker[AsyncSession] | None = None,
        clock: Clock = utcnow,
        sweep_interval: float | None = None,
    ) -> None:
        self.cfg = cfg
        self.site_id = cfg.site_id
        self.nats = NATSJetStreamPublisher(nats_url)
        self.sessions = session_factory or get_session_factory()
        self.clock = clock
        self.sweep_interval = sweep_interval or float(cfg.heartbeat_interval_seconds)
        self.durable = f"{DURABLE_CONSUMER}-{cfg.site_id}"  # one per site, even on a shared server
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._spawn(self._heartbeat_loop(), "heartbeat")
        self._spawn(self._every(self.sweep_interval, self.sweep), "sweep")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.nats.close()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=f"federation:{self.site_id}:{name}"))

    async def _heartbeat_loop(self) -> None:
        """Subscribe once NATS answers, then gossip every interval; failures wait and retry."""
        while True:
            try:
                await self._subscribe()
                break
            except Exception as exc:
                log.warning("federation: NATS unavailable (%s); retrying in %ss", exc, RETRY_SECONDS)
                await asyncio.sleep(RETRY_SECONDS)
        await self._every(float(self.cfg.heartbeat_interval_seconds), self.send_heartbeat)

    async def _every(self, seconds: float, job: Callable[[], Coroutine[Any, Any, None]]) -> None:
        while True:
            try:
                await job()
            except Exception:
                log.warning("federation: %s failed", job.__name__, exc_info=True)
            await asyncio.sleep(seconds)

    async def _subscribe(self) -> None:
        client = await self.nats.client()
        await client.subscribe(self.nats.subject(rules.HEALTH_SUBJECTS), cb=self._on_heartbeat)
        await self.nats.subscribe_durable(ALERTS_SUBJECT, self.receive_alert, durable=self.durable)
        log.info("federation: site %s listening for peers", self.site_id)

    def heartbeat(self) -> rules.Heartbeat:
        cfg = self.cfg
        return rules.Heartbeat(
            site_id=cfg.site_id,
            name=cfg.site_name,
            tier=cfg.site_tier,
            agent_count=len(enabled_agents()),
            version=__version__,
            ts=self.clock(),
        )

    async def send_heartbeat(self) -> None:
        client = await self.nats.client()
        payload = self.heartbeat().model_dump_json().encode()
        await client.publish(self.nats.subject(rules.health_subject(self.site_id)), payload)

    async def _on_heartbeat(self, msg: Msg) -> None:
        try:
            beat = rules.Heartbeat.model_validate_json(msg.data)
        except ValidationError:
            log.warning("federation: malformed heartbeat on %s dropped", msg.subject)
            return
        if msg.subject != self.nats.subject(rules.health_subject(beat.site_id)):
            log.warning("federation: heartbeat for %s on %s dropped", beat.site_id, msg.subject)
            return
        try:
            await self.record_heartbeat(beat)
        except Exception:  # the next heartbeat tries again; the subscription must live on
            log.warning("federation: recording %s's heartbeat failed", beat.site_id, exc_info=True)

    async def record_heartbeat(self, beat: rules.Heartbeat) -> SiteLinkModel | None:
        """Upsert the peer and its link to this site; None for our own echo or in dummy mode."""
        if beat.site_id == self.site_id or not runtime.write_allowed("pipeline"):
            return None
        now = self.clock()
        async with self.sessions() as session:
            site = await _one(session, SiteModel, SiteModel.site_id == beat.site_id) or SiteModel(
                site_id=beat.site_id, is_local=False
            )
            site.name, site.tier, site.agent_count = beat.name, beat.tier, beat.agent_count
            site.last_heartbeat_at, site.status = now, "healthy"
            key = rules.link_id(self.site_id, beat.site_id)
            link = await _one(session, SiteLinkModel, SiteLinkModel.link_id == key) or SiteLinkModel(
                link_id=key, site_a=min(self.site_id, beat.site_id), site_b=max(self.site_id, beat.site_id)
            )
            link.status, link.last_seen_at = "healthy", now
            link.latency_ms = rules.latency_ms(now, beat.ts)
            session.add_all([site, link])
            await session.commit()
            return link

    async def sweep(self) -> None:
        """Mark this site's links (and their peers) ``degraded``/``down`` after silence."""
        if not runtime.write_allowed("pipeline"):
            return
        now = self.clock()
        mine = or_(SiteLinkModel.site_a == self.site_id, SiteLinkModel.site_b == self.site_id)
        async with self.sessions() as session:
            for link in (await session.scalars(select(SiteLinkModel).where(mine))).all():
                silence = (now - link.last_seen_at).total_seconds() if link.last_seen_at else float("inf")
                status = rules.link_status(silence)
                if status == link.status:
                    continue
                link.status = status
                peer = link.site_b if link.site_a == self.site_id else link.site_a
                site = await _one(session, SiteModel, SiteModel.site_id == peer)
                if site is not None:
                    site.status = status
                log.info("federation: link %s is %s after %.0fs of silence", link.link_id, status, silence)
            await session.commit()

    async def receive_alert(self, data: dict[str, Any]) -> AlertModel | None:
        """A peer's alert through ``AlertService.create``; our own and malformed ones are skipped."""
        try:
            incoming = rules.FederatedAlert.model_validate(data)
        except ValidationError:
            log.warning("federation: malformed alert dropped")
            return None
        if incoming.origin_site == self.site_id or not runtime.write_allowed("pipeline"):
            return None
        async with self.sessions() as session:
            alert, created = await AlertService(session).create(incoming.to_alert_create())
            await session.commit()
        if created:
            await publish_alert_event(alert, "created")
        return alert


async def _one(session: AsyncSession, model: Any, where: Any) -> Any:
    return (await session.scalars(select(model).where(where))).first()


def federation_active(settings: Settings) -> bool:
    """Federation runs only with both ``FEDERATION_ENABLED`` and this site's ``AURORA_NATS_URL``."""
    return settings.federation.enabled and bool(settings.messaging.nats_url)


def federation_service() -> FederationService | None:
    """The lifespan's (or ``worker --role federation``'s) worker; None while federation is off."""
    settings = get_settings()
    if not federation_active(settings):
        if settings.federation.enabled:
            log.warning("FEDERATION_ENABLED without AURORA_NATS_URL: federation stays off")
        return None
    return FederationService(settings.federation, settings.messaging.nats_url)
