"""Sigma rule management: list, detail, create, toggle/edit, delete (spec §10, §13.3). Dry-run tests of a
rule against events are ``siem.router_rule_testing`` (they normalise records and read stored logs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request, Response, status

from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.errors import DomainError
from aurorasoc.core.schemas import Page
from aurorasoc.core.web.deps import DbSession, Paging, client_ip, require_database, require_mutations
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import stamp_source
from aurorasoc.detection.rules import DetectionRuleService, RuleFilters
from aurorasoc.detection.schemas import (
    MAX_YAML_CHARS,
    RuleCreate,
    RuleDetail,
    RuleKind,
    RuleOut,
    RulePatch,
    RulesCreated,
)

router = IndexedRouter(prefix="/detections", tags=["detections"])

MAX_BODY_BYTES = MAX_YAML_CHARS + 64 * 1024  # the YAML plus JSON framing and escapes
WriteRules = Depends(require_permission("detections:write"))
ReadRules = Depends(require_permission("siem:read"))
RuleIdent = Annotated[str, Path(min_length=1, max_length=128, description="Row id or Sigma rule id")]


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


async def limit_body(request: Request) -> None:
    """413 before parsing: a rule body is at most 1 MiB of YAML."""
    declared = request.headers.get("content-length", "")
    if (declared.isdigit() and int(declared) > MAX_BODY_BYTES) or len(await request.body()) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"request body exceeds {MAX_BODY_BYTES} bytes")


def rule_filters(
    enabled: bool | None = None,
    level: str | None = Query(None, max_length=32),
    product: str | None = Query(None, max_length=64),
    kind: RuleKind | None = None,
    tag: str | None = Query(None, max_length=128, description="e.g. attack.t1059.001"),
    q: str | None = Query(None, max_length=200, description="Text in the title, or an exact rule id"),
) -> RuleFilters:
    return RuleFilters(enabled, level, product, kind, tag, q)


@router.get(
    "/rules",
    response_model=Page[RuleOut],
    summary="List Sigma rules with hit counters. Permission: siem:read",
    dependencies=[ReadRules, Depends(require_database)],
)
async def list_rules(
    response: Response, session: DbSession, paging: Paging, filters: RuleFilters = Depends(rule_filters)
) -> Page[RuleOut]:
    rows, total = await DetectionRuleService(session).list(filters, skip=paging.skip, limit=paging.limit)
    stamp_source(response, "database")
    items = [RuleOut.model_validate(row) for row in rows]
    return Page(items=items, total=total, skip=paging.skip, limit=paging.limit)


@router.get(
    "/rules/{rule_id}",
    response_model=RuleDetail,
    summary="One Sigma rule with its YAML. Permission: siem:read",
    dependencies=[ReadRules, Depends(require_database)],
)
async def get_rule(rule_id: RuleIdent, response: Response, session: DbSession) -> RuleDetail:
    stamp_source(response, "database")
    return RuleDetail.model_validate(await DetectionRuleService(session).get(rule_id))


@router.post(
    "/rules",
    status_code=status.HTTP_201_CREATED,
    response_model=RulesCreated,
    summary="Add custom Sigma rules (rule or correlation YAML). Permission: detections:write",
    dependencies=[Depends(limit_body), Depends(require_mutations)],
)
async def create_rules(
    body: RuleCreate, request: Request, session: DbSession, principal: Principal = WriteRules
) -> RulesCreated:
    """Rules the engine cannot evaluate are stored with ``supported=false`` and the reason."""
    actor = Actor.of(principal, client_ip(request))
    return RulesCreated(
        items=await DetectionRuleService(session).add(body.yaml, enabled=body.enabled, actor=actor)
    )


@router.patch(
    "/rules/{rule_id}",
    response_model=RuleDetail,
    summary="Enable/disable a rule or replace its YAML. Permission: detections:write",
    dependencies=[Depends(limit_body), Depends(require_mutations)],
)
async def patch_rule(
    rule_id: RuleIdent,
    body: RulePatch,
    request: Request,
    session: DbSession,
    principal: Principal = WriteRules,
) -> RuleDetail:
    actor = Actor.of(principal, client_ip(request))
    return await DetectionRuleService(session).change(
        rule_id, enabled=body.enabled, text=body.yaml, actor=actor
    )


@router.delete(
    "/rules/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a custom rule (bundled rules: 409, disable instead). Permission: detections:write",
    dependencies=[Depends(require_mutations)],
)
async def delete_rule(
    rule_id: RuleIdent, request: Request, session: DbSession, principal: Principal = WriteRules
) -> Response:
    await DetectionRuleService(session).remove(rule_id, actor=Actor.of(principal, client_ip(request)))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
