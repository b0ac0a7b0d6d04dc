"""ATT&CK coverage: the matrix of enabled-rule vs observed techniques, and Navigator layer export (issue 17).

Permission ``siem:read`` (the Detections page). Alerts are scoped by ``since``/``until`` (event
time: an alert whose events reach into the range) and/or ``case_id``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import Depends, Query

from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.web.deps import DbSession, require_database
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.detection.coverage import AlertScope, LayerSource, coverage, matrix, navigator_layer
from aurorasoc.intel import attack
from aurorasoc.intel.schemas_feeds import CoverageMatrix

router = IndexedRouter(prefix="/attack/coverage", tags=["attack"], dependencies=[Depends(require_database)])


def alert_scope(
    since: datetime | None = Query(
        None, description="Alerts whose events reach at or after (event time, ISO 8601)"
    ),
    until: datetime | None = Query(
        None, description="Alerts whose events begin before (event time, ISO 8601)"
    ),
    case_id: uuid.UUID | None = Query(None, description="Only the alerts of this case"),
) -> AlertScope:
    return AlertScope(since, until, case_id)


@router.get(
    "",
    response_model=CoverageMatrix,
    summary="Techniques per tactic: covered by enabled rules vs observed in alerts. Permission: siem:read",
)
async def coverage_matrix(
    session: DbSession,
    scope: AlertScope = Depends(alert_scope),
    _: Principal = Depends(require_permission("siem:read")),
) -> CoverageMatrix:
    found = await coverage(session, scope)
    return CoverageMatrix.model_validate(
        {
            "attack_version": attack.attack_version(),
            "scope": scope.describe(),
            "covered": len(found.rules),
            "observed": len(found.alerts),
            "observed_uncovered": sorted(set(found.alerts) - set(found.rules)),
            "tactics": matrix(found),
        }
    )


@router.get(
    "/layer",
    summary="ATT&CK Navigator layer (4.5) for enabled rules or for alerts in scope. Permission: siem:read",
    response_description="A Navigator layer document; open it in the ATT&CK Navigator",
)
async def coverage_layer(
    session: DbSession,
    source: LayerSource = Query("rules", description="rules: enabled rule coverage; alerts: observed"),
    scope: AlertScope = Depends(alert_scope),
    _: Principal = Depends(require_permission("siem:read")),
) -> dict[str, Any]:
    return navigator_layer(await coverage(session, scope), source, scope)
