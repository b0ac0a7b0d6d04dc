"""``GET /alerts/{alert_id}``: an alert with its IOCs, techniques, case and investigations.

The detail gathers records of several capabilities (intel, cases, agents), so it is composed
here, above all of them, like the dashboard.
"""

from __future__ import annotations

import uuid

from fastapi import Depends, Response

from aurorasoc.agents.investigations import recent_investigations
from aurorasoc.agents.schemas import InvestigationOut
from aurorasoc.alerts.schemas import AlertDetail, AlertOut, CaseRef, TechniqueRef, TypedIOC
from aurorasoc.alerts.service import AlertService
from aurorasoc.cases.models import CaseModel
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.errors import NotFound
from aurorasoc.core.web.deps import DataSourceDep, DbSession
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import find_showcase, stamp_source
from aurorasoc.intel.service import iocs_for_alert

router = IndexedRouter(prefix="/alerts", tags=["alerts"])


@router.get(
    "/{alert_id}",
    response_model=AlertDetail,
    summary="Alert with IOCs, techniques, case. Permission: alerts:read",
)
async def get_alert(
    alert_id: uuid.UUID,
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    _: Principal = Depends(require_permission("alerts:read")),
) -> AlertDetail:
    stamp_source(response, source)
    if source == "showcase":
        row = find_showcase("alerts", str(alert_id))
        if row is None:
            raise NotFound(f"alert {alert_id} does not exist")
        techniques = [TechniqueRef.of(t) for t in row.get("mitre_techniques", [])]
        return AlertDetail.model_validate({**row, "techniques": techniques, "data_source": "showcase"})
    alert = await AlertService(session).get(alert_id)
    case = await session.get(CaseModel, alert.case_id) if alert.case_id else None
    return AlertDetail.model_validate(
        {
            **AlertOut.model_validate(alert).model_dump(),
            "typed_iocs": [TypedIOC.model_validate(i) for i in await iocs_for_alert(session, alert.id)],
            "techniques": [TechniqueRef.of(t) for t in alert.mitre_techniques],
            "case": CaseRef.model_validate(case) if case else None,
            "investigations": [
                InvestigationOut.model_validate(i).model_dump(mode="json")
                for i in await recent_investigations(session, alert_id=alert.id)
            ],
        }
    )
