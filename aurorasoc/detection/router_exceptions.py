"""Rule exceptions (#16 scope 2): list, create, delete; "suppress similar" is ``siem.router_suppress``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.web.deps import DbSession, client_ip, require_database, require_mutations
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.detection.exceptions import RuleExceptionService

router = IndexedRouter(prefix="/detections/exceptions", tags=["detections"])
WriteTuning = Depends(require_permission("detections:write"))
ReadTuning = Depends(require_permission("siem:read"))


class ExceptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    rule_uid: str
    conditions: dict[str, Any]
    host: str | None
    owner: str
    reason: str
    expires_at: datetime | None
    source_alert_id: str | None
    created_at: datetime


class ExceptionCreate(BaseModel):
    rule_uid: str = Field(min_length=1, max_length=128)
    conditions: dict[str, str | int | float | bool] = Field(default_factory=dict)
    host: str | None = Field(None, max_length=255)
    reason: str = Field(min_length=1, max_length=2000)
    expires_at: datetime | None = None


class SuppressSimilar(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    expires_at: datetime | None = None


def actor_of(principal: Principal, request: Request) -> Actor:
    return Actor.of(principal, client_ip(request))


@router.get(
    "",
    response_model=list[ExceptionOut],
    summary="Rule exceptions, newest first. Permission: siem:read",
    dependencies=[ReadTuning, Depends(require_database)],
)
async def list_exceptions(
    session: DbSession, rule_uid: str | None = Query(None, max_length=128)
) -> list[ExceptionOut]:
    return [ExceptionOut.model_validate(row) for row in await RuleExceptionService(session).list(rule_uid)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ExceptionOut,
    summary="Stop a rule firing on events with these field values (optionally on one host). "
    "Permission: detections:write",
    dependencies=[Depends(require_mutations)],
)
async def create_exception(
    body: ExceptionCreate, request: Request, session: DbSession, principal: Principal = WriteTuning
) -> ExceptionOut:
    row = await RuleExceptionService(session).create(**body.model_dump(), actor=actor_of(principal, request))
    return ExceptionOut.model_validate(row)


@router.delete(
    "/{exception_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Remove an exception (the rule fires again). Permission: detections:write",
    dependencies=[Depends(require_mutations)],
)
async def delete_exception(
    exception_id: uuid.UUID, request: Request, session: DbSession, principal: Principal = WriteTuning
) -> Response:
    await RuleExceptionService(session).delete(exception_id, actor=actor_of(principal, request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
