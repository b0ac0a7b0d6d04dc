"""Automation rules: list, create, change, delete (spec §10, §15.5)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError

from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.errors import InvalidInput
from aurorasoc.core.models import AutomationRuleModel
from aurorasoc.core.schemas import Page
from aurorasoc.core.web.audit_trail import audit_change
from aurorasoc.core.web.deps import DataSourceDep, DbSession, Paging, require_mutations
from aurorasoc.core.web.showcase import stamp_source
from aurorasoc.soar.automation import RuleDefinition
from aurorasoc.soar.automation_rules import AutomationRuleService
from aurorasoc.soar.schemas import AutomationRuleOut, AutomationRulePatch

router = APIRouter(prefix="/automation-rules", tags=["playbooks"])


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
    rule = await AutomationRuleService(session).create(body, actor=principal.username)
    await _audit(session, principal, request, "automation_rule.create", rule)
    await session.commit()
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
    service = AutomationRuleService(session)
    rule = await service.get(automation_rule_id)
    try:
        await service.update(rule, body.model_dump(exclude_unset=True))
    except ValidationError as exc:
        raise InvalidInput(f"invalid rule: {exc.errors()[0]['msg']}", code="invalid_rule") from None
    await _audit(session, principal, request, "automation_rule.update", rule)
    await session.commit()
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
    service = AutomationRuleService(session)
    rule = await service.get(automation_rule_id)
    await _audit(session, principal, request, "automation_rule.delete", rule)
    await service.delete(rule)
    await session.commit()
    return Response(status_code=204)


async def _audit(
    session: DbSession, principal: Principal, request: Request, action: str, rule: AutomationRuleModel
) -> None:
    details = {"name": rule.name, "action": rule.action, "enabled": rule.enabled}
    await audit_change(session, request, principal, action, ("automation_rule", str(rule.id)), details)
