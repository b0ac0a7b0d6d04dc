"""The agent loop (spec §16.4): plan with ``think``, bounded tool calls, one JSON verdict.

Tool output goes back to the model only as fenced untrusted data. The model can only reach the
tools bound to its agent (plus ``think`` and, for the orchestrator, handoffs); any other name is
refused. Every step is recorded through :class:`~aurorasoc.agents.recorder.StepRecorder`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from aurorasoc.agents.factory import Agent
from aurorasoc.agents.llm import Budget, ChatRequest, ChatTurn, TokenUsage, ToolCall, ToolExchange
from aurorasoc.agents.prompts import fence, system_prompt
from aurorasoc.agents.recorder import StepRecorder
from aurorasoc.agents.tools.base import ToolContext, ToolResult, error
from aurorasoc.core.vocabulary import AgentResult

PLAN_FIRST = "Call `think` with your investigation plan before anything else."
FINAL_NOW = "Step limit reached. Reply now with the final JSON object only, no tool calls."
FIX_JSON = "Your answer was not the required JSON object. Reply with only that JSON object."
BAD_ARGUMENTS = frozenset({"_unparsable_arguments", "_arguments"})  # set by llm._tool_call
EXTRA_KEYS = ("verdict", "score", "report")
VERDICTS = frozenset({"malicious", "suspicious", "benign", "inconclusive"})
Handoff = Callable[[str, dict[str, Any]], Awaitable[ToolResult]]


class ThinkInput(BaseModel):
    thought: str = Field(..., min_length=1, max_length=4000, description="Your plan or reasoning")


THINK_SCHEMA = {
    "type": "function",
    "function": {
        "name": "think",
        "description": "Write down your plan or reasoning. Call this first.",
        "parameters": ThinkInput.model_json_schema(),
    },
}


@dataclass
class RunOutcome:
    result: dict[str, Any]
    repaired: bool
    usage: TokenUsage
    transcript: list[ToolExchange] = field(default_factory=list)


@dataclass
class AgentRuntime:
    agent: Agent
    recorder: StepRecorder
    ctx: ToolContext
    max_steps: int
    handoffs: dict[str, tuple[dict[str, Any], Handoff]] = field(default_factory=dict)

    @property
    def budget(self) -> Budget | None:
        found = self.ctx.extra.get("budget")
        return found if isinstance(found, Budget) else None

    def tool_schemas(self) -> list[dict[str, Any]]:
        return [
            THINK_SCHEMA,
            *(t.schema() for t in self.agent.tools),
            *(s for s, _ in self.handoffs.values()),
        ]

    async def run(self, task: str, context: dict[str, Any]) -> RunOutcome:
        name = self.agent.name
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system_prompt(self.agent.spec)},
            {"role": "user", "content": f"{task}\n\nContext:\n{fence(context, 'context')}"},
        ]
        req = ChatRequest(name, messages, self.tool_schemas(), context)
        usage = TokenUsage()
        await self.recorder.record(name, "agent_started", {"task": task, "backend": self.agent.llm.name})
        asked_plan = False
        for _ in range(self.max_steps):
            if self.budget is not None and self.budget.exhausted:
                await self.recorder.record(name, "budget_exhausted", self.budget.as_dict())
                return await self._give_up(req, usage, "the investigation's token or step budget ran out")
            turn = await self._turn(req, usage)
            if not turn.tool_calls:
                return await self._finish(req, turn, usage)
            if not req.transcript and turn.tool_calls[0].name != "think" and not asked_plan:
                asked_plan = True
                messages.append({"role": "user", "content": PLAN_FIRST})
                await self.recorder.record(name, "plan_requested", {"tool": turn.tool_calls[0].name})
                continue
            await self._call_tools(req, turn)
        await self.recorder.record(name, "step_limit", {"max_steps": self.max_steps})
        messages.append({"role": "user", "content": FINAL_NOW})
        req.tools = []
        return await self._finish(req, await self._turn(req, usage), usage)

    async def _turn(self, req: ChatRequest, usage: TokenUsage) -> ChatTurn:
        turn = await self.agent.llm.complete(req)
        usage.add(turn.usage)
        if self.budget is not None:
            self.budget.spend(turn.usage)
        if turn.content:
            await self.recorder.record(
                self.agent.name,
                "model_message",
                {"content": turn.content[:4000], "tokens": turn.usage.as_dict()},
            )
        return turn

    async def _call_tools(self, req: ChatRequest, turn: ChatTurn) -> None:
        req.messages.append(
            {
                "role": "assistant",
                "content": turn.content,
                "tool_calls": [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                    }
                    for c in turn.tool_calls
                ],
            }
        )
        for call in turn.tool_calls:
            result = await self._dispatch(call)
            req.transcript.append(ToolExchange(call.name, call.arguments, result))
            req.messages.append({"role": "tool", "tool_call_id": call.id, "content": fence(result, call.id)})

    async def _dispatch(self, call: ToolCall) -> ToolResult:
        name = self.agent.name
        if call.name == "think":
            thought = str(call.arguments.get("thought", ""))[:4000]
            await self.recorder.record(name, "plan", {"thought": thought})
            return {"status": "ok"}
        if call.name in self.handoffs:
            return await self.handoffs[call.name][1](call.name, call.arguments)
        tool = next((t for t in self.agent.tools if t.name == call.name), None)
        if tool is None:
            result = error("permission_denied", f"{call.name} is not a tool of the {name} agent")
        elif BAD_ARGUMENTS.intersection(call.arguments):
            # never run a tool on arguments the model did not manage to write (an unfiltered search)
            result = error("invalid_input", "arguments are not a JSON object; resend them as valid JSON")
        else:
            result = await tool.run(self.ctx, call.arguments)
        await self.recorder.record(
            name, "tool_call", {"tool": call.name, "arguments": call.arguments, "result": result}
        )
        for service in self.ctx.extra.pop("approval_outboxes", []):
            await service.publish()
        return result

    async def _give_up(self, req: ChatRequest, usage: TokenUsage, reason: str) -> RunOutcome:
        """End without asking the model again: no answer is never a benign one."""
        result = {"summary": f"Inconclusive: {reason}", "confidence": 0.0, "verdict": "inconclusive"}
        await self.recorder.record(
            self.agent.name, "agent_result", {"result": result, "repaired": True, "tokens": usage.as_dict()}
        )
        return RunOutcome(result, True, usage, req.transcript)

    async def _finish(self, req: ChatRequest, turn: ChatTurn, usage: TokenUsage) -> RunOutcome:
        parsed = _parse(turn.content)
        repaired = parsed is None
        if parsed is None:
            req.messages += [
                {"role": "assistant", "content": turn.content or ""},
                {"role": "user", "content": FIX_JSON},
            ]
            req.tools = []
            parsed = _parse((await self._turn(req, usage)).content)
        if parsed is None:
            parsed = {
                "summary": (turn.content or "no answer")[:2000],
                "confidence": 0.0,
                "verdict": "inconclusive",
            }
        await self.recorder.record(
            self.agent.name,
            "agent_result",
            {"result": parsed, "repaired": repaired, "tokens": usage.as_dict()},
        )
        return RunOutcome(parsed, repaired, usage, req.transcript)


def _parse(content: str | None) -> dict[str, Any] | None:
    """The AgentResult JSON (tolerating a ```json fence around it), with verdict/score kept."""
    text = (content or "").strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    try:
        raw = json.loads(text)
        result = AgentResult.model_validate(raw).model_dump(mode="json")
    except (json.JSONDecodeError, ValidationError, TypeError):
        return None
    extra = {k: raw[k] for k in EXTRA_KEYS if k in raw}
    if extra.get("verdict") not in VERDICTS:
        extra["verdict"] = "inconclusive"  # never read an unknown or missing verdict as benign
    return {**result, **extra}
