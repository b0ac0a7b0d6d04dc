"""Ask in words on the SIEM page (issue #19 §7): question → query, shown before it runs.

These routes only write query text; the console shows it and runs it through ``GET /siem/logs``.
"""

from __future__ import annotations

from typing import Literal

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.web.deps import DbSession
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.siem.ask import AskField, Condition, ask, build_query, stored_values

router = IndexedRouter(prefix="/siem/ask", tags=["siem"])


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., min_length=1, max_length=500)


class ConditionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: AskField
    value: str = Field(..., min_length=1, max_length=255)


class BuildRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conditions: list[ConditionIn] = Field(default_factory=list, max_length=12)
    words: str | None = Field(None, max_length=200, description="Free text searched in the message")


class AskOut(BaseModel):
    query: str
    backend: Literal["model", "offline"]
    explanation: str
    conditions: list[ConditionIn] = Field(default_factory=list)


class BuiltOut(BaseModel):
    query: str


@router.post(
    "", response_model=AskOut, summary="Turn a question into a search query (not run). Permission: siem:read"
)
async def ask_in_words(
    body: AskRequest, session: DbSession, _: Principal = Depends(require_permission("siem:read"))
) -> AskOut:
    answer = await ask(session, body.question)
    conditions = [ConditionIn(field=c.field, value=c.value) for c in answer.conditions]
    return AskOut(
        query=answer.query, backend=answer.backend, explanation=answer.explanation, conditions=conditions
    )


@router.get(
    "/values",
    response_model=dict[str, list[str]],
    summary="The stored values the guided builder offers, per field. Permission: siem:read",
)
async def builder_values(
    session: DbSession, _: Principal = Depends(require_permission("siem:read"))
) -> dict[str, list[str]]:
    return await stored_values(session)


@router.post(
    "/build",
    response_model=BuiltOut,
    summary="The query for builder conditions (not run). Permission: siem:read",
)
async def build(body: BuildRequest, _: Principal = Depends(require_permission("siem:read"))) -> BuiltOut:
    conditions = [Condition(c.field, c.value) for c in body.conditions]
    return BuiltOut(query=build_query(conditions, body.words))
