"""IOC views that show the alerts carrying the indicator: lookup with enrichment, and the detail.

They sit with alerts, not intel, because they read the alert table (alerts are above intel); the
router is included after ``intel.router`` so ``GET /iocs/similar`` is matched before ``/iocs/{id}``.
"""

from __future__ import annotations

import uuid

from fastapi import Depends, Response

from aurorasoc.alerts.ioc_alerts import alerts_with_ioc
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.errors import NotFound
from aurorasoc.core.web.deps import DataSourceDep, DbSession
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import stamp_source
from aurorasoc.intel.enrichment import default_intel_service
from aurorasoc.intel.schemas import AlertRef, IOCDetail, IOCOut, LookupRequest, LookupResult
from aurorasoc.intel.service import IOCService, parse_ioc

router = IndexedRouter(prefix="/iocs", tags=["iocs"])


@router.post(
    "/lookup",
    response_model=LookupResult,
    summary="Local record, linked alerts and threat-intel enrichment (cached). Permission: iocs:read",
)
async def lookup_ioc(
    body: LookupRequest,
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    _: Principal = Depends(require_permission("iocs:read")),
) -> LookupResult:
    ioc_type, value = parse_ioc(body.value, body.type)
    stamp_source(response, source)
    if source == "showcase":  # providers read the database too: nothing to enrich from
        return LookupResult(
            type=ioc_type, value=value, ioc=None, enrichment=[], cached=False, data_source="showcase"
        )
    service = IOCService(session)
    ioc = await service.find((ioc_type, value))
    alerts, count = await alerts_with_ioc(session, ioc.id) if ioc else ([], 0)
    enrichment = await default_intel_service().enrich(ioc_type, value)
    return LookupResult(
        type=ioc_type,
        value=value,
        ioc=IOCOut.of(ioc) if ioc else None,
        linked_alerts=[AlertRef.model_validate(a) for a in alerts],
        linked_alert_count=count,
        enrichment=enrichment.results,
        cached=enrichment.cached,
    )


@router.get("/{ioc_id}", response_model=IOCDetail, summary="IOC with linked alerts. Permission: iocs:read")
async def get_ioc(
    ioc_id: uuid.UUID,
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    _: Principal = Depends(require_permission("iocs:read")),
) -> IOCDetail:
    stamp_source(response, source)
    if source == "showcase":
        raise NotFound(f"IOC {ioc_id} does not exist (no showcase IOC data)")
    service = IOCService(session)
    ioc = await service.get(ioc_id)
    alerts, count = await alerts_with_ioc(session, ioc.id)
    return IOCDetail(
        **IOCOut.of(ioc).model_dump(),
        linked_alerts=[AlertRef.model_validate(a) for a in alerts],
        linked_alert_count=count,
    )
