"""Reaching a remote agent's ``POST /task`` (spec §16.3): one pooled client per agent URL,
three attempts (1, 2, 4 s back-off) on connection errors, timeouts and 5xx only."""

from __future__ import annotations

from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from aurorasoc.agents.specs import AgentSpec
from aurorasoc.core.config import get_settings

_clients: dict[str, httpx.AsyncClient] = {}


def agent_url(spec: AgentSpec) -> str:
    """``AURORA_A2A_URL_TEMPLATE`` with the agent's port (``AURORA_A2A_BASE_PORT`` + index)."""
    cfg = get_settings().agents
    return cfg.a2a_url_template.format(port=cfg.a2a_base_port + spec.index)


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError)


def client_for(url: str, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    if url not in _clients or transport is not None:
        timeout = get_settings().agents.a2a_timeout_seconds
        _clients[url] = httpx.AsyncClient(base_url=url, timeout=timeout, transport=transport)
    return _clients[url]


async def send_task(url: str, payload: dict[str, Any], *, wait_min: float = 1) -> dict[str, Any]:
    """The remote ``AgentResult`` (+ ``thread_id``); raises after the last failed attempt."""
    client = client_for(url)
    async for attempt in AsyncRetrying(
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=wait_min, min=wait_min, max=4 * wait_min),
        retry=retry_if_exception(_transient),
        reraise=True,
    ):
        with attempt:
            response = await client.post("/task", json=payload)
            response.raise_for_status()
            result: dict[str, Any] = response.json()
            return result
    raise AssertionError("unreachable")  # pragma: no cover


async def close_clients() -> None:
    for client in _clients.values():
        await client.aclose()
    _clients.clear()
