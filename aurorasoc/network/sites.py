"""Sites and link health of the federation mesh (spec §20), as the console reads them.

The local site always exists (upserted from ``FEDERATION_SITE_*``). With federation running
(``FEDERATION_ENABLED`` plus ``AURORA_NATS_URL``) the peers and links the federation worker
(``services.federation``) recorded from heartbeats are added; while it is off, the local site is
the only one and there are no links, whatever rows an earlier federated run left behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.agents.investigation_workflow import enabled_agents
from aurorasoc.core import runtime
from aurorasoc.core.config import get_settings
from aurorasoc.core.types import utcnow
from aurorasoc.network.federation import federation_active
from aurorasoc.network.models import SiteLinkModel, SiteModel


@dataclass(frozen=True)
class Topology:
    sites: list[SiteModel]
    links: list[SiteLinkModel]
    federation_enabled: bool
    local_site_id: str


def local_site() -> SiteModel:
    """This deployment as a site row (not persisted): identity from settings, heartbeat now."""
    cfg = get_settings().federation
    return SiteModel(
        site_id=cfg.site_id,
        name=cfg.site_name,
        tier=cfg.site_tier,
        is_local=True,
        agent_count=len(enabled_agents()),
        last_heartbeat_at=utcnow(),
        status="healthy",
    )


class SiteService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ensure_local(self) -> SiteModel:
        """Upsert the local site from settings; flushes, never commits. Modes that block pipeline
        writes (dummy) get the row unsaved."""
        wanted = local_site()
        if not runtime.write_allowed("pipeline"):
            return wanted
        fields = ("name", "tier", "is_local", "agent_count", "last_heartbeat_at", "status")
        # INSERT … ON CONFLICT DO NOTHING: concurrent first calls no longer race on the unique key.
        insert = pg_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        values = {"site_id": wanted.site_id, **{name: getattr(wanted, name) for name in fields}}
        await self.session.execute(
            insert(SiteModel).values(values).on_conflict_do_nothing(index_elements=["site_id"])
        )
        found = (
            await self.session.scalars(select(SiteModel).where(SiteModel.site_id == wanted.site_id))
        ).one()
        for name in fields:
            setattr(found, name, getattr(wanted, name))
        await self.session.flush()
        return found

    async def topology(self) -> Topology:
        """The mesh as this site sees it; the local site row is kept current (a system write,
        committed here with the read)."""
        local = await self.ensure_local()
        enabled = federation_active(get_settings())
        sites, links = [local], []
        if enabled:
            peers = select(SiteModel).where(SiteModel.site_id != local.site_id).order_by(SiteModel.name)
            sites += list((await self.session.scalars(peers)).all())
            links = list(
                (await self.session.scalars(select(SiteLinkModel).order_by(SiteLinkModel.link_id))).all()
            )
        await self.session.commit()
        return Topology(sites, links, enabled, local.site_id)
