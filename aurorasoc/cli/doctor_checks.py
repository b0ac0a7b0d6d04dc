"""What ``aurorasoc doctor`` checks: which secrets are set (never their values) and each configured service.

Every probe has a short timeout so an unreachable service costs seconds, not minutes; a service that is
not configured is reported as such rather than as down.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx
from pydantic_settings import BaseSettings

from aurorasoc.core.config import Settings, _is_secret

TIMEOUT = 2.0


def secrets_status(settings: Settings) -> dict[str, str]:
    """Environment variable name -> ``set`` / ``not set`` for every secret setting."""
    status: dict[str, str] = {}
    for name in type(settings).model_fields:
        group = getattr(settings, name)
        if not isinstance(group, BaseSettings):
            continue
        for field, info in type(group).model_fields.items():
            if _is_secret(field):
                status[info.alias or field.upper()] = "set" if getattr(group, field) else "not set"
    return status


async def _tcp(host: str, port: int, expect: bytes = b"") -> str:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), TIMEOUT)
    except (OSError, TimeoutError) as exc:
        return f"down ({exc or 'timeout'})"
    try:
        if expect:
            greeting = await asyncio.wait_for(reader.read(64), TIMEOUT)
            if not greeting.startswith(expect):
                return f"down (unexpected greeting {greeting[:20]!r})"
        return "up"
    except (OSError, TimeoutError):
        return "down (no greeting)"
    finally:
        writer.close()


async def check_nats(url: str) -> str:
    if not url:
        return "not configured"
    first = url.split(",")[0]
    parts = urlsplit(first if "://" in first else f"nats://{first}")
    return await _tcp(parts.hostname or "localhost", parts.port or 4222, expect=b"INFO ")


async def check_mqtt(settings: Settings) -> str:
    if not settings.mqtt.enabled:
        return "not configured"
    return await _tcp(settings.mqtt.host, settings.mqtt.port)


async def check_llm(settings: Settings) -> str:
    base = settings.agents.llm_base_url
    if not base:
        return "not configured"
    headers = (
        {"Authorization": f"Bearer {settings.agents.llm_api_key}"} if settings.agents.llm_api_key else {}
    )
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            response = await client.get(base.rstrip("/") + "/models", headers=headers)
    except httpx.HTTPError as exc:
        return f"down ({exc or type(exc).__name__})"
    return "up" if response.status_code < 500 else f"down (HTTP {response.status_code})"
