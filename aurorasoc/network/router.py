"""Correlated network attacks: queue, evidence, case, ``network_security`` dispatch (spec §10, §13.8).

Opening a case is an operator write (real mode); dispatching an agent is a pipeline write, like
``/orchestrator/dispatch``, whose investigation service it reuses (offline it runs in the call,
with an LLM it is queued on ``aurora:agent:tasks``). Showcase serving has no attack rows, so the
list answers empty with ``data_source=showcase`` instead of inventing attacks.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Query, Request, Response, status
from sqlalchemy import select

from aurorasoc.agents import investigations
from aurorasoc.agents.investigations import InvestigationService
from aurorasoc.agents.models import InvestigationModel
from aurorasoc.agents.schemas import InvestigationOut
from aurorasoc.alerts.schemas import AlertOut, TechniqueRef
from aurorasoc.cases.schemas import CaseOut
from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.schemas import Page
from aurorasoc.core.vocabulary import AgentType
from aurorasoc.core.web.deps import (
    DataSourceDep,
    DbSession,
    Paging,
    client_ip,
    require_mutations,
    require_pipeline_writes,
)
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import stamp_source
from aurorasoc.network import facts as nf
from aurorasoc.network.attacks import AttackFilters, NetworkAttackService
from aurorasoc.network.models import NetworkAttackModel
from aurorasoc.network.schemas import AttackDispatchRequest, NetworkAttackDetail, NetworkAttackOut

router = IndexedRouter(prefix="/network", tags=["network"])
AttackId = Annotated[uuid.UUID, Path(description="Network attack id")]
Reader = Depends(require_permission("alerts:read"))


def attack_filters(
    severity: str | None = Query(None, description="critical, high, medium, low, info"),
    category: str | None = Query(None, description=", ".join(nf.CATEGORIES)),
    family: str | None = Query(None, description="Telemetry family: " + ", ".join(nf.FAMILIES)),
    status_: str | None = Query(None, alias="status", description="triage, case, dismissed"),
) -> AttackFilters:
    return AttackFilters(severity, category, family, status_)


@router.get(
    "/attacks", response_model=Page[NetworkAttackOut],
    summary="List correlated network attacks, newest first. Permission: alerts:read",
)  # fmt: skip
async def list_attacks(
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    paging: Paging,
    filters: AttackFilters = Depends(attack_filters),
    _: Principal = Reader,
) -> Page[NetworkAttackOut]:
    stamp_source(response, source)
    if source == "showcase":
        return Page(items=[], total=0, skip=paging.skip, limit=paging.limit, data_source="showcase")
    rows, total = await NetworkAttackService(session).list(filters, skip=paging.skip, limit=paging.limit)
    items = [NetworkAttackOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, skip=paging.skip, limit=paging.limit)


async def _investigations(session: DbSession, attack_id: uuid.UUID) -> list[InvestigationOut]:
    stmt = (
        select(InvestigationModel)
        .where(InvestigationModel.network_attack_id == attack_id)
        .order_by(InvestigationModel.created_at.desc())
        .limit(20)
    )
    return [InvestigationOut.model_validate(i) for i in (await session.scalars(stmt)).all()]


@router.get(
    "/attacks/{attack_id}", response_model=NetworkAttackDetail,
    summary="One attack with its alerts, techniques, findings and dispatches. Permission: alerts:read",
)  # fmt: skip
async def get_attack(attack_id: AttackId, session: DbSession, _: Principal = Reader) -> NetworkAttackDetail:
    service = NetworkAttackService(session)
    attack = await service.get(attack_id)
    alerts = await service.alerts(attack)
    base = NetworkAttackOut.model_validate(attack).model_dump()
    return NetworkAttackDetail(
        **base,
        alerts=[AlertOut.model_validate(a) for a in alerts],
        techniques=[TechniqueRef.of(t) for t in attack.mitre_techniques],
        findings=nf.findings(
            attack.telemetry_families, [a.title for a in alerts], attack.mitre_techniques, attack.confidence
        ),
        investigations=await _investigations(session, attack.id),
    )


@router.post(
    "/attacks/{attack_id}/case", response_model=CaseOut, status_code=status.HTTP_201_CREATED,
    summary="Open a network_attack case (attack id, findings, src/dst observables). "
    "Permission: alerts:write + cases:write",
    dependencies=[Depends(require_mutations)],
)  # fmt: skip
async def open_case(
    attack_id: AttackId,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("alerts:write", "cases:write")),
) -> CaseOut:
    """409 ``attack_in_case`` (with ``case_id``) when the attack already has a case."""
    actor = Actor.of(principal, client_ip(request))
    created = await NetworkAttackService(session).open_attack_case(attack_id, actor=actor)
    return CaseOut.model_validate(created)


def _prompt(attack: NetworkAttackModel, extra: str | None) -> str:
    lines = [
        f"Investigate correlated network attack {attack.id}: {attack.title}.",
        f"Category {attack.category}, severity {attack.severity}, confidence {attack.confidence:.2f}, "
        f"source {attack.src_ip or 'unknown'}, destination {attack.dst_ip or 'unknown'}, "
        f"telemetry {', '.join(attack.telemetry_families)}, "
        f"techniques {', '.join(attack.mitre_techniques) or 'none'}.",
        "Establish what the traffic is, whether it is malicious, and what to contain.",
    ]
    return "\n".join([*lines, extra] if extra else lines)


@router.post(
    "/attacks/{attack_id}/dispatch", response_model=InvestigationOut, status_code=status.HTTP_202_ACCEPTED,
    summary="Dispatch the network_security agent on an attack. Permission: agents:dispatch",
    dependencies=[Depends(require_pipeline_writes)],
)  # fmt: skip
async def dispatch_attack(
    attack_id: AttackId,
    session: DbSession,
    body: AttackDispatchRequest | None = None,
    principal: Principal = Depends(require_permission("agents:dispatch")),
) -> InvestigationOut:
    body = body or AttackDispatchRequest()
    attack = await NetworkAttackService(session).get(attack_id)
    investigations.ensure_llm_available(AgentType.NETWORK_SECURITY)
    latest_alert = uuid.UUID(attack.alert_ids[-1]) if attack.alert_ids else None
    investigation = await InvestigationService(session).create(
        AgentType.NETWORK_SECURITY,
        _prompt(attack, body.prompt),
        principal.username,
        alert_id=latest_alert,
        case_id=attack.case_id,
        priority=body.priority,
    )
    investigation.network_attack_id = attack.id
    await session.flush()
    investigation = await investigations.start(session, investigation, principal.permissions)
    return InvestigationOut.model_validate(investigation)
