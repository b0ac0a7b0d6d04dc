"""Per-principal API rate limiting by route class (pure ASGI: streams and WebSockets pass untouched).

Only ``/api`` HTTP requests are limited: health probes, ``/metrics``, the static console and WebSocket
upgrades are exempt. Each request counts in one class, each class is its own bucket, so a console
reading a busy fleet never exhausts the budget for writes, and a forwarder's ingest never starves
the analyst's reads:

* ``auth`` - sign-in routes (``/auth/token``, ``/auth/oidc/*``), counted per client address;
* ``ingest`` - ``POST /siem/ingest`` and device telemetry;
* ``write`` - every other POST/PUT/PATCH/DELETE;
* ``read`` (scope ``api``) - GET/HEAD/OPTIONS.

The bucket id is the JWT subject, ``key:<sha256 prefix>`` for an API key, or ``ip:<address>``; the
token is only decoded (no database), so an invalid token counts against the IP. A 429 carries
``Retry-After`` (the window) and its class, which the console shows as "rate limited, retrying in N s".
"""

from __future__ import annotations

import re

from fastapi import HTTPException
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aurorasoc.core.api_keys import hash_api_key
from aurorasoc.core.auth import decode_token, extract_credentials
from aurorasoc.core.config import RateLimitSettings
from aurorasoc.core.metrics import RATE_LIMITED
from aurorasoc.core.rate_limit import RedisRateLimiter, rate_limit_headers

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
AUTH_PATHS = re.compile(r"^/api/v1/auth/(token|oidc/.*)$")
INGEST_PATHS = re.compile(r"^/api/v1/(siem/ingest|cps/devices/[^/]+/telemetry)$")


def _is_limited(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def route_class(method: str, path: str) -> str:
    """The bucket class of a request (see the module docstring)."""
    if AUTH_PATHS.match(path):
        return "auth"
    if method in READ_METHODS:
        return "read"
    return "ingest" if INGEST_PATHS.match(path) else "write"


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
    return _ip(conn)


def _ip(conn: HTTPConnection) -> str:
    return f"ip:{conn.client.host if conn.client else 'unknown'}"


class RateLimitMiddleware:
    """Sliding-window limits per identity and route class (``AURORA_RATE_LIMIT_*``)."""

    def __init__(self, app: ASGIApp, settings: RateLimitSettings) -> None:
        self.app = app
        window = settings.window_seconds
        self.limiters = {
            "read": RedisRateLimiter(settings.requests, window, scope="api"),
            "write": RedisRateLimiter(settings.writes, window, scope="api_write"),
            "ingest": RedisRateLimiter(settings.ingest, window, scope="api_ingest"),
            "auth": RedisRateLimiter(settings.auth, window, scope="api_auth"),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_limited(scope["path"]):
            await self.app(scope, receive, send)
            return
        kind = route_class(scope["method"], scope["path"])
        limiter = self.limiters[kind]
        conn = HTTPConnection(scope)
        allowed, remaining = await limiter.check(_ip(conn) if kind == "auth" else rate_limit_identity(conn))
        headers = {**rate_limit_headers(limiter, remaining), "X-RateLimit-Class": kind}
        if not allowed:
            await self._reject(limiter, kind, headers)(scope, receive, send)
            return
        encoded = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        ]

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *encoded]
            await send(message)

        await self.app(scope, receive, _send)

    @staticmethod
    def _reject(limiter: RedisRateLimiter, kind: str, headers: dict[str, str]) -> JSONResponse:
        RATE_LIMITED.labels(scope=limiter.scope).inc()
        window = limiter.window_seconds
        limit = f"{limiter.max_requests} {kind} requests per {window} s"
        message = f"Rate limit of {limit} exceeded; retry in {window} s."
        body = {"detail": {"code": "rate_limited", "message": message, "retry_after": window, "class": kind}}
        return JSONResponse(body, status_code=429, headers={"Retry-After": str(window), **headers})
