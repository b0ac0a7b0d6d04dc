"""Handoff tools: how the orchestrator delegates to specialists (spec §16.3).

``handoff_<agent>`` runs the specialist in-process under its circuit breaker. An open circuit
skips the specialist at once (``upstream_unavailable``) and the skip is recorded; a specialist
that raises counts as a failure on its breaker. Each specialist sees what earlier ones found.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from aurorasoc.agents.a2a_client import agent_url, send_task
from aurorasoc.agents.factory import breaker_for, create_agent
from aurorasoc.agents.llm import ChatBackend, TokenUsage
from aurorasoc.agents.recorder import StepRecorder
from aurorasoc.agents.runtime import AgentRuntime, Handoff
from aurorasoc.agents.specs import AGENT_SPECS
from aurorasoc.agents.tools.base import ToolContext, ToolResult, error
from aurorasoc.core.config import get_settings
from aurorasoc.core.vocabulary import AgentType

log = logging.getLogger(__name__)
PREFIX = "handoff_"


def handoff_schema(agent: AgentType) -> dict[str, Any]:
    spec = AGENT_SPECS[agent]
    return {
        "type": "function",
        "function": {
            "name": f"{PREFIX}{spec.name}",
            "description": f"Delegate a task to the {spec.display_name} agent: {spec.role}.",
            "parameters": {
                "type": "object",
                "required": ["task"],
                "properties": {
                    "task": {"type": "string", "description": "What the specialist should find out"}
                },
            },
        },
    }


@dataclass
class Delegator:
    """Runs specialists for one orchestrator run and remembers what they returned or why not."""

    caller: str
    recorder: StepRecorder
    ctx: ToolContext
    max_steps: int
    context: dict[str, Any]
    backend_for: Callable[[AgentType], ChatBackend | None] = lambda _agent: None
    previous: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    repaired: bool = False
    usage: TokenUsage = field(default_factory=TokenUsage)

    def handoffs(self, agents: Iterable[AgentType]) -> dict[str, tuple[dict[str, Any], Handoff]]:
        return {f"{PREFIX}{a.value}": (handoff_schema(a), self.delegate) for a in agents}

    async def delegate(self, tool_name: str, arguments: dict[str, Any]) -> ToolResult:
        name = tool_name.removeprefix(PREFIX)
        task = arguments.get("task")
        if not isinstance(task, str) or not task.strip():
            detail = {"to": name, "reason": "invalid_input", "arguments": str(arguments)[:500]}
            await self.recorder.record(self.caller, "handoff_rejected", detail)
            return error("invalid_input", "task: a non-empty string is required")
        breaker = breaker_for(name)
        if not breaker.allow_request():
            self.skipped.append(name)
            await self.recorder.record(
                self.caller,
                "handoff_skipped",
                {"to": name, "reason": "circuit_open", "circuit_state": breaker.state.value},
            )
            return error("upstream_unavailable", f"{name} is unavailable (circuit open); skipped")
        await self.recorder.record(self.caller, "delegation", {"to": name, "task": task})
        return await self._run(name, task)

    async def _run(self, name: str, task: str) -> ToolResult:
        breaker = breaker_for(name)
        context = {k: v for k, v in self.context.items() if k != "plan"}
        context["previous_findings"] = self.previous
        try:
            if get_settings().agents.a2a_mode == "remote":
                result, repaired = await self._remote(name, task, context), False
            else:
                result, repaired = await self._local(name, task, context)
        except Exception as exc:
            breaker.record_failure()
            log.warning("specialist %s failed", name, exc_info=True)
            detail = {"to": name, "error": str(exc)[:500], "circuit_state": breaker.state.value}
            await self.recorder.record(self.caller, "handoff_failed", detail)
            return error("upstream_unavailable", f"{name} failed: {type(exc).__name__}")
        breaker.record_success()
        self.repaired = self.repaired or repaired
        self.previous.append({"agent": name, "summary": str(result.get("summary", ""))[:1000]})
        return {"status": "ok", "agent": name, "result": result}

    async def _local(self, name: str, task: str, context: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        agent = create_agent(name, llm=self.backend_for(AgentType(name)))
        ctx = replace(self.ctx, actor=f"agent:{name}")
        outcome = await AgentRuntime(agent, self.recorder, ctx, self.max_steps).run(task, context)
        self.usage.add(outcome.usage)
        return outcome.result, outcome.repaired

    async def _remote(self, name: str, task: str, context: dict[str, Any]) -> dict[str, Any]:
        """The same envelope over HTTP to the agent's own service (``AURORA_A2A_MODE=remote``)."""
        run_id = str(self.recorder.investigation_id)
        metadata = {"requester": self.caller, "investigation_id": run_id}
        payload = {"task": task, "context": context, "thread_id": run_id, "metadata": metadata}
        result = await send_task(agent_url(AGENT_SPECS[AgentType(name)]), payload)
        await self.recorder.record(name, "remote_result", {"result": result})
        return result
