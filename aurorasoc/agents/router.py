"""The agent fleet: status per agent and the A2A mesh (spec §16.6)."""

from __future__ import annotations

from fastapi import Depends

from aurorasoc.agents.fleet import fleet_status, mesh
from aurorasoc.agents.schemas import AgentList, AgentStatusOut, MeshOut
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.config import get_settings
from aurorasoc.core.errors import NotFound
from aurorasoc.core.web.deps import DbSession
from aurorasoc.core.web.routing import IndexedRouter

router = IndexedRouter(prefix="/agents", tags=["agents"])


@router.get("", response_model=AgentList, summary="Fleet status of every agent. Permission: agents:read")
async def list_agents(
    session: DbSession, _: Principal = Depends(require_permission("agents:read"))
) -> AgentList:
    items = [AgentStatusOut.model_validate(a) for a in await fleet_status(session)]
    return AgentList(items=items, total=len(items), llm_configured=get_settings().agents.configured)


@router.get(
    "/mesh", response_model=MeshOut, summary="A2A reachability of every agent. Permission: agents:read"
)
async def agent_mesh(_: Principal = Depends(require_permission("agents:read"))) -> MeshOut:
    return MeshOut.model_validate(await mesh())


@router.get(
    "/{agent_name}", response_model=AgentStatusOut, summary="One agent's status. Permission: agents:read"
)
async def get_agent(
    agent_name: str, session: DbSession, _: Principal = Depends(require_permission("agents:read"))
) -> AgentStatusOut:
    for agent in await fleet_status(session):
        if agent["name"] == agent_name:
            return AgentStatusOut.model_validate(agent)
    raise NotFound(f"agent {agent_name!r} does not exist")
