"""One agent as its own A2A-style HTTP service (spec §16.3).

``GET /.well-known/agent.json`` describes it, ``GET /health`` reports the model, ``POST /task``
runs it (recorded as an investigation like any other run), ``GET /metrics`` is Prometheus.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from aurorasoc.agents.a2a_client import agent_url
from aurorasoc.agents.factory import breaker_for, create_agent
from aurorasoc.agents.investigations import InvestigationService
from aurorasoc.agents.specs import AGENT_SPECS
from aurorasoc.core.auth import ROLE_PERMISSIONS
from aurorasoc.core.config import get_settings
from aurorasoc.core.db import session_scope
from aurorasoc.core.vocabulary import AgentType, Role


class TaskMetadata(BaseModel):
    requester: str = "a2a"
    priority: int = Field(5, ge=1, le=10)
    investigation_id: str | None = None


class TaskRequest(BaseModel):
    task: str = Field(..., min_length=1, max_length=8000)
    context: dict[str, Any] = Field(default_factory=dict)
    thread_id: str | None = None
    metadata: TaskMetadata = Field(default_factory=TaskMetadata)


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def build_app(agent_type: AgentType | str) -> FastAPI:
    spec = AGENT_SPECS[AgentType(agent_type)]
    agent = create_agent(spec.agent_type)
    app = FastAPI(title=f"AuroraSOC {spec.display_name}", docs_url=None, redoc_url=None)
    tags = [t for t in get_settings().agents.agent_tags.split(",") if t] or list(spec.tool_domains)

    @app.get("/.well-known/agent.json")
    async def card() -> dict[str, Any]:
        tools = [t.name for t in agent.tools]
        return {
            "name": spec.name,
            "description": spec.role,
            "url": agent_url(spec),
            "tags": tags,
            "capabilities": {"tools": tools, "memory": "tiered", "streaming": False},
        }

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "agent": spec.name,
            "model": agent.llm.name,
            "llm_available": get_settings().agents.configured,
            "circuit_state": breaker_for(spec.name).state.value,
        }

    @app.post("/task")
    async def task(body: TaskRequest) -> dict[str, Any]:
        thread_id = body.thread_id or uuid.uuid4().hex
        async with session_scope() as session:
            service = InvestigationService(session)
            investigation = await service.create(
                spec.agent_type,
                body.task,
                body.metadata.requester,
                alert_id=_uuid(body.context.get("alert_id")),
                case_id=_uuid(body.context.get("case_id")),
                priority=body.metadata.priority,
            )
            await service.execute(investigation, ROLE_PERMISSIONS[Role.ANALYST])
            result = dict(
                investigation.result or {"summary": investigation.error or "failed", "confidence": 0.0}
            )
            return {
                **result,
                "thread_id": thread_id,
                "investigation_id": str(investigation.id),
                "status": investigation.status,
                **({"error": investigation.error} if investigation.error else {}),
            }

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
