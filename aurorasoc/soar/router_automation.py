"""Automation rules: list, create, change, delete (spec §10, §15.5)."""

from __future__ import annotations

import uuid

from fastapi import Depends, Request, Response

from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.schemas import Page
from aurorasoc.core.web.deps import DataSourceDep, DbSession, Paging, client_ip, require_mutations
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import stamp_source
from aurorasoc.soar.automation import RuleDefinition
from aurorasoc.soar.automation_rules import AutomationRuleService
from aurorasoc.soar.schemas import AutomationRuleOut, AutomationRulePatch

router = IndexedRouter(prefix="/automation-rules", tags=["playbooks"])


@router.get(
    "", response_model=Page[AutomationRuleOut], summary="List automation rules. Permission: playbooks:read"
)
async def list_rules(
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    paging: Paging,
    _: Principal = Depends(require_permission("playbooks:read")),
) -> Page[AutomationRuleOut]:
    stamp_source(response, source)
    if source == "showcase":  # no showcase rules ship: an honest empty page
        return Page(items=[], total=0, skip=paging.skip, limit=paging.limit, data_source="showcase")
    rows, total = await AutomationRuleService(session).list(skip=paging.skip, limit=paging.limit)
    return Page(
        items=[AutomationRuleOut.model_validate(r) for r in rows],
        total=total,
        skip=paging.skip,
        limit=paging.limit,
    )


@router.post(
    "",
    response_model=AutomationRuleOut,
    status_code=201,
    summary="Create an automation rule. Permission: playbooks:write",
    dependencies=[Depends(require_mutations)],
)
async def create_rule(
    body: RuleDefinition,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("playbooks:write")),
) -> AutomationRuleOut:
    rule = await AutomationRuleService(session).add(body, actor=Actor.of(principal, client_ip(request)))
    return AutomationRuleOut.model_validate(rule)


@router.patch(
    "/{automation_rule_id}",
    response_model=AutomationRuleOut,
    summary="Change an automation rule (e.g. enable/disable). Permission: playbooks:write",
    dependencies=[Depends(require_mutations)],
)
async def patch_rule(
    automation_rule_id: uuid.UUID,
    body: AutomationRulePatch,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("playbooks:write")),
) -> AutomationRuleOut:
    actor = Actor.of(principal, client_ip(request))
    changes = body.model_dump(exclude_unset=True)
    rule = await AutomationRuleService(session).change(automation_rule_id, changes, actor=actor)
    return AutomationRuleOut.model_validate(rule)


@router.delete(
    "/{automation_rule_id}",
    status_code=204,
    summary="Delete an automation rule. Permission: playbooks:write",
    dependencies=[Depends(require_mutations)],
)
async def delete_rule(
    automation_rule_id: uuid.UUID,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("playbooks:write")),
) -> Response:
    actor = Actor.of(principal, client_ip(request))
    await AutomationRuleService(session).remove(automation_rule_id, actor=actor)
    return Response(status_code=204)
