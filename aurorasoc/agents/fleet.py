"""Fleet status (spec §16.6) and the A2A mesh view, computed from specs, breakers and activity."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.agents.a2a_client import agent_url
from aurorasoc.agents.factory import CircuitState, breaker_for
from aurorasoc.agents.investigation_workflow import enabled_agents
from aurorasoc.agents.llm import OFFLINE
from aurorasoc.agents.models import InvestigationEventModel, InvestigationModel
from aurorasoc.agents.specs import AGENT_SPECS, AgentSpec
from aurorasoc.agents.tools.registry import implemented_domains, tools_for_domains
from aurorasoc.core.config import get_settings
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import AgentType, InvestigationStatus

ACTIVITY_SCAN = 20_000


def _status(spec: AgentSpec, enabled: bool) -> str:
    state = breaker_for(spec.name).state
    if not enabled:
        return "disabled"
    if not get_settings().agents.configured:
        return "unconfigured"
    if state is CircuitState.OPEN:
        return "offline"
    if state is CircuitState.HALF_OPEN or set(spec.tool_domains) - implemented_domains():
        return "degraded"
    return "online"


async def _activity(session: AsyncSession) -> tuple[Counter[str], dict[str, datetime], Counter[str]]:
    """Runs per agent in the last 24 h, last step time, and pending investigations."""
    since = utcnow() - timedelta(hours=24)
    rows = (
        await session.execute(
            select(InvestigationEventModel.payload, InvestigationEventModel.created_at)
            .where(InvestigationEventModel.created_at >= since)
            .order_by(InvestigationEventModel.created_at.desc())
            .limit(ACTIVITY_SCAN)
        )
    ).all()
    runs: Counter[str] = Counter()
    last: dict[str, datetime] = {}
    for payload, at in rows:
        agent = str(payload.get("agent", ""))
        last.setdefault(agent, at)
        if payload.get("task") is not None and "backend" in payload:
            runs[agent] += 1
    stmt = (
        select(InvestigationModel.agent, func.count())
        .where(InvestigationModel.status == InvestigationStatus.PENDING.value)
        .group_by(InvestigationModel.agent)
    )
    pending: Counter[str] = Counter({agent: int(n) for agent, n in (await session.execute(stmt)).all()})
    return runs, last, pending


async def fleet_status(session: AsyncSession) -> list[dict[str, Any]]:
    cfg = get_settings().agents
    enabled = {a.value for a in enabled_agents()} | {AgentType.ORCHESTRATOR.value}
    runs, last, pending = await _activity(session)
    model = (cfg.llm_model or "default") if cfg.configured else OFFLINE
    return [
        {
            "name": spec.name,
            "display_name": spec.display_name,
            "port": cfg.a2a_base_port + spec.index,
            "enabled": spec.name in enabled,
            "status": _status(spec, spec.name in enabled),
            "circuit_state": breaker_for(spec.name).state.value,
            "model": (cfg.orchestrator_model or model)
            if spec.agent_type is AgentType.ORCHESTRATOR and cfg.configured
            else model,
            "role": spec.role,
            "tool_domains": list(spec.tool_domains),
            "tools": [t.name for t in tools_for_domains(spec.tool_domains)],
            "missing_tools": sorted(set(spec.tool_domains) - implemented_domains()),
            "queue_depth": pending.get(spec.name, 0),
            "last_activity_at": last.get(spec.name),
            "investigations_24h": runs.get(spec.name, 0),
        }
        for spec in AGENT_SPECS.values()
    ]


async def mesh() -> dict[str, Any]:
    """Embedded: every agent runs in this process. Remote: probe each agent's ``/health``."""
    mode = get_settings().agents.a2a_mode
    specs = list(AGENT_SPECS.values())
    if mode == "embedded":
        nodes = [{"name": s.name, "url": "in-process", "mode": mode, "reachable": True} for s in specs]
        return {"mode": mode, "nodes": nodes}
    async with httpx.AsyncClient(timeout=1.0) as client:
        reachable = await asyncio.gather(*(_probe(client, agent_url(s)) for s in specs))
    nodes = [
        {"name": s.name, "url": agent_url(s), "mode": mode, "reachable": ok}
        for s, ok in zip(specs, reachable, strict=True)
    ]
    return {"mode": mode, "nodes": nodes}


async def _probe(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(f"{url}/health")).status_code == 200
    except httpx.HTTPError:
        return False
