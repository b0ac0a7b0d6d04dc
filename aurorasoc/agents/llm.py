"""Model backends (spec §16.4): an OpenAI-compatible client and the offline analyst.

Both answer the same :class:`ChatRequest` with a :class:`ChatTurn` (text and/or tool calls), so
the agent runtime, its step log and its tool gating are identical whichever backend answers.
The offline analyst (:mod:`aurorasoc.agents.offline`) is used when no ``AURORA_LLM_BASE_URL`` is
configured; investigations record which backend produced them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from openai import AsyncOpenAI

log = logging.getLogger(__name__)
OFFLINE = "offline"


class LLMUnavailable(Exception):
    """The configured model could not be reached (after the SDK's retries) or answered garbage."""


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass
class TokenUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    def add(self, other: TokenUsage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.calls += other.calls

    def as_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "calls": self.calls,
        }


@dataclass
class Budget:
    """Tokens and model turns one investigation may spend across all its agents."""

    tokens: int
    steps: int
    spent_tokens: int = 0
    spent_steps: int = 0

    def spend(self, usage: TokenUsage) -> None:
        self.spent_tokens += usage.prompt_tokens + usage.completion_tokens
        self.spent_steps += 1

    @property
    def exhausted(self) -> bool:
        return self.spent_tokens >= self.tokens or self.spent_steps >= self.steps

    def as_dict(self) -> dict[str, int]:
        return {
            "tokens": self.tokens,
            "steps": self.steps,
            "spent_tokens": self.spent_tokens,
            "spent_steps": self.spent_steps,
        }


@dataclass(frozen=True)
class ToolExchange:
    """One tool call and its (already enveloped) result, as the runtime saw it."""

    name: str
    arguments: dict[str, Any]
    result: dict[str, Any]


@dataclass
class ChatRequest:
    agent: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    context: dict[str, Any] = field(default_factory=dict)  # structured facts (alert id, plan, …)
    transcript: list[ToolExchange] = field(default_factory=list)


@dataclass
class ChatTurn:
    content: str | None
    tool_calls: list[ToolCall]
    usage: TokenUsage = field(default_factory=TokenUsage)


class ChatBackend(Protocol):
    name: str

    async def complete(self, request: ChatRequest) -> ChatTurn: ...


class LLMClient:
    """Chat completions with tool calling against any OpenAI-compatible server.

    Timeouts and retries (connection errors, 408/409/429/5xx, exponential back-off) are the SDK's;
    anything still failing surfaces as :class:`LLMUnavailable`. The SDK is imported here, not at
    module import: it is half a second of start-up that offline runs (and the CLI) never need.
    """

    def __init__(
        self, base_url: str, model: str, *, api_key: str = "", timeout: float = 60, max_retries: int = 2
    ) -> None:
        from openai import AsyncOpenAI

        self.name = model
        self.model = model
        self._client: AsyncOpenAI = AsyncOpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=max_retries
        )

    async def complete(self, request: ChatRequest) -> ChatTurn:
        import openai

        extra: dict[str, Any] = {"tools": request.tools, "tool_choice": "auto"} if request.tools else {}
        try:
            response = await self._client.chat.completions.create(
                model=self.model,
                messages=request.messages,  # type: ignore[arg-type]
                **extra,
            )
        except openai.APIError as exc:
            raise LLMUnavailable(f"{self.model}: {type(exc).__name__}: {exc}") from exc
        if not response.choices:
            raise LLMUnavailable(f"{self.model}: empty response")
        message = response.choices[0].message
        calls = [
            _tool_call(c.id, c.function.name, c.function.arguments)
            for c in message.tool_calls or []
            if c.type == "function"
        ]
        usage = TokenUsage(calls=1)
        if response.usage is not None:
            usage = TokenUsage(response.usage.prompt_tokens, response.usage.completion_tokens, 1)
        return ChatTurn(content=message.content, tool_calls=calls, usage=usage)

    async def close(self) -> None:
        await self._client.close()


def _tool_call(call_id: str, name: str, raw: str) -> ToolCall:
    """Arguments the model sent; unparsable JSON is passed on so the tool reports invalid_input."""
    try:
        parsed = json.loads(raw or "{}")
    except json.JSONDecodeError:
        parsed = {"_unparsable_arguments": raw[:500]}
    return ToolCall(call_id, name, parsed if isinstance(parsed, dict) else {"_arguments": parsed})
