"""Building agents from ``AGENT_SPECS`` and guarding each one with a circuit breaker (spec §16.3)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from prometheus_client import Gauge

from aurorasoc.agents.backends import create_backend
from aurorasoc.agents.llm import ChatBackend
from aurorasoc.agents.specs import AGENT_SPECS, AgentSpec
from aurorasoc.agents.tools.base import AuroraTool
from aurorasoc.agents.tools.registry import implemented_domains, tools_for_domains
from aurorasoc.core.config import get_settings
from aurorasoc.core.vocabulary import AgentType

CIRCUIT_GAUGE = Gauge("agent_circuit_state", "0 closed, 1 half-open, 2 open", ["agent"])


class CircuitState(str, Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


_GAUGE_VALUE = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}


class CircuitBreaker:
    """CLOSED counts consecutive failures and opens at ``threshold``; OPEN refuses until ``timeout``
    seconds passed, then HALF_OPEN lets exactly one probe through: success closes, failure reopens."""

    def __init__(
        self, threshold: int, timeout: float, *, clock: Callable[[], float] = time.monotonic, name: str = ""
    ) -> None:
        self.threshold = threshold
        self.timeout = timeout
        self.name = name
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_in_flight = False

    @property
    def state(self) -> CircuitState:
        if self._opened_at is None:
            return CircuitState.CLOSED
        if self._clock() - self._opened_at >= self.timeout:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN

    @property
    def failures(self) -> int:
        return self._failures

    def allow_request(self) -> bool:
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and not self._probe_in_flight:
            self._probe_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probe_in_flight = False
        self._publish()

    def record_failure(self) -> None:
        self._failures += 1
        if self._probe_in_flight or self._failures >= self.threshold:
            self._opened_at = self._clock()
        self._probe_in_flight = False
        self._publish()

    def _publish(self) -> None:
        if self.name:
            CIRCUIT_GAUGE.labels(agent=self.name).set(_GAUGE_VALUE[self.state])


_breakers: dict[str, CircuitBreaker] = {}


def breaker_for(name: str) -> CircuitBreaker:
    """The process-wide breaker of one agent (``AURORA_CIRCUIT_THRESHOLD`` / ``_TIMEOUT_SECONDS``)."""
    if name not in _breakers:
        cfg = get_settings().agents
        _breakers[name] = CircuitBreaker(cfg.circuit_threshold, cfg.circuit_timeout_seconds, name=name)
    return _breakers[name]


def reset_breakers() -> None:
    _breakers.clear()


@dataclass
class Agent:
    spec: AgentSpec
    llm: ChatBackend
    tools: list[AuroraTool]
    breaker: CircuitBreaker
    memory: object | None = None
    missing_tools: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def degraded(self) -> bool:
        return bool(self.missing_tools)


def create_agent(
    agent_type: AgentType | str, *, llm: ChatBackend | None = None, memory: object | None = None
) -> Agent:
    """An agent of ``AGENT_SPECS``: its bound tools, its breaker, and the configured backend
    (the offline analyst when no LLM is configured). Domains with no tool here yet are listed in
    ``missing_tools`` and make the agent ``degraded``."""
    spec = AGENT_SPECS[AgentType(agent_type)]
    backend = llm or create_backend(orchestrator=spec.agent_type is AgentType.ORCHESTRATOR)
    missing = sorted(set(spec.tool_domains) - implemented_domains())
    return Agent(spec, backend, tools_for_domains(spec.tool_domains), breaker_for(spec.name), memory, missing)
