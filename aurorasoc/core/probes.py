"""Cheap reachability probes for health reporting (a TCP connect, no protocol handshake)."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlparse

PROBE_TIMEOUT_SECONDS = 1.0


async def tcp_reachable(host: str, port: int) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def url_reachable(url: str, default_port: int) -> bool:
    """The first server of a (possibly comma-separated) URL list answers on TCP."""
    parsed = urlparse(url.split(",")[0].strip())
    return await tcp_reachable(parsed.hostname or "127.0.0.1", parsed.port or default_port)
