"""Sites and the federation topology (spec §10, §20): ``/sites`` and ``/system/topology``.

Both reads keep the local site row current (a system write committed with the read). With the
database down in dummy mode they answer the local site from settings (``data_source=showcase``).
"""

from __future__ import annotations

from fastapi import Depends, Response

from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.config import get_settings
from aurorasoc.core.schemas import DataSource
from aurorasoc.core.web.deps import DataSourceDep, DbSession
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import stamp_source
from aurorasoc.network.schemas import SiteLinkOut, SiteOut, SitesOut, TopologyOut
from aurorasoc.network.sites import SiteService, Topology, local_site

router = IndexedRouter(tags=["sites"])
Reader = Depends(require_permission("sites:read"))


async def _topology(session: DbSession, source: DataSource, response: Response) -> Topology:
    stamp_source(response, source)
    if source == "showcase":
        site = local_site()
        return Topology([site], [], get_settings().federation.enabled, site.site_id)
    return await SiteService(session).topology()


@router.get("/sites", response_model=SitesOut, summary="Sites of the federation mesh. Permission: sites:read")
async def list_sites(
    session: DbSession, source: DataSourceDep, response: Response, _: Principal = Reader
) -> SitesOut:
    found = await _topology(session, source, response)
    return SitesOut(
        items=[SiteOut.model_validate(s) for s in found.sites],
        total=len(found.sites),
        federation_enabled=found.federation_enabled,
        local_site_id=found.local_site_id,
        data_source=source,
    )


@router.get(
    "/system/topology", response_model=TopologyOut,
    summary="Sites and the links between them. Permission: sites:read", tags=["system"],
)  # fmt: skip
async def topology(
    session: DbSession, source: DataSourceDep, response: Response, _: Principal = Reader
) -> TopologyOut:
    found = await _topology(session, source, response)
    return TopologyOut(
        sites=[SiteOut.model_validate(s) for s in found.sites],
        links=[SiteLinkOut.model_validate(link) for link in found.links],
        federation_enabled=found.federation_enabled,
        local_site_id=found.local_site_id,
        data_source=source,
    )
