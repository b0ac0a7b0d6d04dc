"""Per-principal API rate limiting (pure ASGI, so streaming responses and WebSockets pass untouched).

Only ``/api`` HTTP requests are limited: health probes, ``/metrics``, the static console and WebSocket
upgrades are exempt. The bucket id is the JWT subject, ``key:<sha256 prefix>`` for an API key, or
``ip:<address>``; the token is only decoded (no database), so an invalid token counts against the IP.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aurorasoc.core.api_keys import hash_api_key
from aurorasoc.core.auth import decode_token, extract_credentials
from aurorasoc.core.config import RateLimitSettings
from aurorasoc.core.metrics import RATE_LIMITED
from aurorasoc.core.rate_limit import RedisRateLimiter, rate_limit_headers


def _is_limited(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def rate_limit_identity(conn: HTTPConnection) -> str:
    """Who a request is counted against: principal, API key, or client address."""
    token, api_key = extract_credentials(conn.headers, conn.cookies)
    if api_key:
        return f"key:{hash_api_key(api_key)[:16]}"
    if token:
        try:
            return decode_token(token).sub
        except HTTPException:
            pass
    return f"ip:{conn.client.host if conn.client else 'unknown'}"


class RateLimitMiddleware:
    """Sliding-window limit of ``settings.requests`` per ``settings.window_seconds`` per identity."""

    def __init__(self, app: ASGIApp, settings: RateLimitSettings) -> None:
        self.app = app
        self.limiter = RedisRateLimiter(settings.requests, settings.window_seconds, scope="api")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_limited(scope["path"]):
            await self.app(scope, receive, send)
            return
        allowed, remaining = await self.limiter.check(rate_limit_identity(HTTPConnection(scope)))
        headers = rate_limit_headers(self.limiter, remaining)
        if not allowed:
            RATE_LIMITED.labels(scope=self.limiter.scope).inc()
            window = self.limiter.window_seconds
            body = {
                "detail": {
                    "code": "rate_limited",
                    "message": f"Rate limit of {self.limiter.max_requests} requests per {window} s exceeded; "
                    f"retry in {window} s.",
                }
            }
            response = JSONResponse(body, status_code=429, headers={"Retry-After": str(window), **headers})
            await response(scope, receive, send)
            return
        encoded = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        ]

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *encoded]
            await send(message)

        await self.app(scope, receive, _send)
