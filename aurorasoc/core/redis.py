"""The process-wide Redis client (only when ``AURORA_REDIS_URL`` is set)."""

from __future__ import annotations

import redis.asyncio as aioredis

from aurorasoc.core.config import get_settings

_client: aioredis.Redis | None = None
_client_url: str | None = None


async def get_redis() -> aioredis.Redis | None:
    """A shared client, or None when Redis is not configured. Creating it does no I/O."""
    global _client, _client_url
    url = get_settings().messaging.redis_url
    if not url:
        return None
    if _client is None or _client_url != url:
        _client = aioredis.from_url(  # type: ignore[no-untyped-call]
            url, socket_connect_timeout=1, socket_timeout=2, health_check_interval=30
        )
        _client_url = url
    return _client


async def close_redis() -> None:
    global _client, _client_url
    if _client is not None:
        await _client.aclose()
    _client = None
    _client_url = None
