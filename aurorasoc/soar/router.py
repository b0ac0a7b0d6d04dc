"""Playbooks: list, read, author (YAML or JSON), validate, execute; the action registry (spec §10, §15)."""

from __future__ import annotations

import uuid

from fastapi import Depends, Request, Response

from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.errors import NotFound
from aurorasoc.core.schemas import Page, Preview
from aurorasoc.core.web.deps import (
    DataSourceDep,
    DbSession,
    OperatorOrPreview,
    Paging,
    client_ip,
    require_mutations,
)
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import stamp_source
from aurorasoc.soar.default_actions import default_registry
from aurorasoc.soar.executions import ExecutionService
from aurorasoc.soar.loader import showcase_playbooks
from aurorasoc.soar.playbook import PlaybookValidationError, parse_playbook
from aurorasoc.soar.playbooks import PlaybookService
from aurorasoc.soar.schemas import (
    ActionOut,
    ExecuteBody,
    ExecutionOut,
    PlaybookOut,
    ValidationProblem,
    ValidationResult,
)

router = IndexedRouter(tags=["playbooks"])
MAX_BODY_BYTES = 256 * 1024
_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "text/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object", "description": "Playbook (spec §15.1)"}},
        },
    }
}


async def playbook_text(request: Request) -> str:
    """The request body as text (at most 256 KiB); YAML and JSON both parse as YAML (line numbers)."""
    raw = (await request.body())[: MAX_BODY_BYTES + 1]
    if len(raw) > MAX_BODY_BYTES:
        raise PlaybookValidationError(
            [{"field": "<document>", "line": None, "message": "body exceeds 256 KiB"}]
        )
    return raw.decode("utf-8", errors="replace")


def _showcase_rows() -> list[PlaybookOut]:
    return [
        PlaybookOut(
            id=item.definition.name, **item.definition.model_dump(exclude={"steps"}),
            definition=item.definition.model_dump(mode="json"), source_yaml=item.source,
        )
        for item in showcase_playbooks()
    ]  # fmt: skip


@router.get(
    "/playbooks", response_model=Page[PlaybookOut], summary="List playbooks. Permission: playbooks:read"
)
async def list_playbooks(
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    paging: Paging,
    enabled: bool | None = None,
    _: Principal = Depends(require_permission("playbooks:read")),
) -> Page[PlaybookOut]:
    stamp_source(response, source)
    if source == "showcase":
        rows = [r for r in _showcase_rows() if enabled is None or r.enabled is enabled]
        page = rows[paging.skip : paging.skip + paging.limit]
        return Page(items=page, total=len(rows), skip=paging.skip, limit=paging.limit, data_source="showcase")
    playbooks, total = await PlaybookService(session).list(
        enabled=enabled, skip=paging.skip, limit=paging.limit
    )
    items = [PlaybookOut.model_validate(p) for p in playbooks]
    return Page(items=items, total=total, skip=paging.skip, limit=paging.limit)


@router.get(
    "/actions", response_model=list[ActionOut], summary="Registered actions. Permission: playbooks:read"
)
async def list_actions(_: Principal = Depends(require_permission("playbooks:read"))) -> list[ActionOut]:
    return [ActionOut(**spec.describe()) for spec in default_registry().all()]


@router.post(
    "/playbooks/validate",
    response_model=ValidationResult,
    summary="Validate a playbook (YAML or JSON) without storing it. Permission: playbooks:write",
    openapi_extra=_BODY_DOC,
)
async def validate_playbook(
    request: Request, _: Principal = Depends(require_permission("playbooks:write"))
) -> ValidationResult:
    try:
        definition = parse_playbook(await playbook_text(request))
    except PlaybookValidationError as exc:
        return ValidationResult(valid=False, errors=[ValidationProblem(**e) for e in exc.errors])
    return ValidationResult(valid=True, name=definition.name, steps=len(definition.steps))


@router.post(
    "/playbooks",
    response_model=PlaybookOut,
    status_code=201,
    summary="Create a playbook from YAML or JSON. Permission: playbooks:write",
    openapi_extra=_BODY_DOC,
    dependencies=[Depends(require_mutations)],
)
async def create_playbook(
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("playbooks:write")),
) -> PlaybookOut:
    actor = Actor.of(principal, client_ip(request))
    playbook = await PlaybookService(session).add(await playbook_text(request), actor=actor)
    return PlaybookOut.model_validate(playbook)


@router.get(
    "/playbooks/{playbook_id}", response_model=PlaybookOut, summary="One playbook. Permission: playbooks:read"
)
async def get_playbook(
    playbook_id: str,
    response: Response,
    session: DbSession,
    source: DataSourceDep,
    _: Principal = Depends(require_permission("playbooks:read")),
) -> PlaybookOut:
    stamp_source(response, source)
    if source == "showcase":
        found = next((r for r in _showcase_rows() if r.id == playbook_id), None)
        if found is None:
            raise NotFound(f"playbook {playbook_id} does not exist")
        return found
    return PlaybookOut.model_validate(await PlaybookService(session).get(_uuid(playbook_id)))


@router.put(
    "/playbooks/{playbook_id}",
    response_model=PlaybookOut,
    summary="Replace a playbook's definition (new version). Permission: playbooks:write",
    openapi_extra=_BODY_DOC,
    dependencies=[Depends(require_mutations)],
)
async def replace_playbook(
    playbook_id: uuid.UUID,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("playbooks:write")),
) -> PlaybookOut:
    actor = Actor.of(principal, client_ip(request))
    playbook = await PlaybookService(session).replace(playbook_id, await playbook_text(request), actor=actor)
    return PlaybookOut.model_validate(playbook)


@router.delete(
    "/playbooks/{playbook_id}",
    status_code=204,
    summary="Delete a playbook (executions keep their record). Permission: playbooks:write",
    dependencies=[Depends(require_mutations)],
)
async def delete_playbook(
    playbook_id: uuid.UUID,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("playbooks:write")),
) -> Response:
    await PlaybookService(session).remove(playbook_id, actor=Actor.of(principal, client_ip(request)))
    return Response(status_code=204)


@router.post(
    "/playbooks/{playbook_id}/execute",
    response_model=ExecutionOut | Preview,
    summary="Run a playbook (inline; stops at approval gates); ?preview=true. Permission: playbooks:execute",
)
async def execute_playbook(
    playbook_id: uuid.UUID,
    write: OperatorOrPreview,
    request: Request,
    session: DbSession,
    body: ExecuteBody | None = None,
    principal: Principal = Depends(require_permission("playbooks:execute")),
) -> ExecutionOut | Preview:
    actor = Actor.of(principal, client_ip(request))
    outcome = await ExecutionService(session).run(
        playbook_id, body or ExecuteBody(), actor=actor, preview=write.preview
    )
    if outcome.execution is None:
        return Preview(mode=write.mode, effects=outcome.effects)
    return ExecutionOut.model_validate(outcome.execution)


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"playbook {value} does not exist") from None
