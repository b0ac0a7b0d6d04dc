"""Cross-site request refusal (issue 18 finding 3): cookie sessions only act for their own origin.

A browser attaches the ``access_token`` cookie to any request a foreign page makes, including
``text/plain`` POSTs that skip the CORS preflight; ``SameSite=Lax`` does not cover sibling ports or
subdomains. So a write (POST/PUT/PATCH/DELETE) authenticated by that cookie must come with an
``Origin`` (or, without one, a ``Referer``) naming this host or a configured trusted origin, or -
when the client sends neither - the console's ``X-Aurora-CSRF`` header, which no cross-site page
can add without a preflight this API never grants. ``Authorization: Bearer`` and ``X-API-Key``
requests are exempt: a browser never attaches those by itself. WebSocket handshakes carrying a
foreign ``Origin`` are closed with 1008 whatever their credentials.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse
from starlette.status import WS_1008_POLICY_VIOLATION
from starlette.types import ASGIApp, Receive, Scope, Send

from aurorasoc.core.config import get_settings

CSRF_HEADER = "x-aurora-csrf"
# Sign-in acts on the credentials in its body, never with a cookie's authority: a stale session
# cookie must not turn a password sign-in into a refused cross-site write.
SIGN_IN_PATHS = frozenset({"/api/v1/auth/token"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}
REFUSED = {
    "code": "cross_origin_refused",
    "message": "Cookie-authenticated writes must come from the console's own origin "
    "(send Origin/Referer or the X-Aurora-CSRF header, or use a bearer token or API key).",
}


def _netloc(url: str) -> str | None:
    """``host:port`` of an origin/referer URL, default port made explicit; None if unparsable."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.scheme not in _DEFAULT_PORTS:
        return None
    return f"{parts.hostname.lower()}:{port or _DEFAULT_PORTS[parts.scheme]}"


def allowed_origin(value: str, headers: Headers) -> bool:
    """Is ``value`` (an Origin or Referer) this host - either scheme, as TLS may end at a proxy -
    or one of ``AURORA_TRUSTED_ORIGINS``?"""
    netloc = _netloc(value)
    host = headers.get("host")
    if netloc is None or not host:
        return False
    own = {_netloc(f"{scheme}://{host}") for scheme in ("http", "https")}
    trusted = {_netloc(o) for o in get_settings().auth.trusted_origins.split(",") if o.strip()}
    return netloc in own | trusted


def _cookie_session(headers: Headers) -> bool:
    """The request authenticates by the session cookie (no header credential takes precedence)."""
    if headers.get("authorization", "").lower().startswith("bearer ") or headers.get("x-api-key"):
        return False
    return bool(cookie_parser(headers.get("cookie", "")).get("access_token"))


def cross_site_write(scope: Scope) -> bool:
    """True when a cookie-authenticated write cannot prove it comes from an allowed origin."""
    headers = Headers(scope=scope)
    if scope["method"] in SAFE_METHODS or scope["path"] in SIGN_IN_PATHS or not _cookie_session(headers):
        return False
    source = headers.get("origin") or headers.get("referer")
    if source and source != "null":
        return not allowed_origin(source, headers)
    return source == "null" or headers.get(CSRF_HEADER) is None


class OriginGuardMiddleware:
    """Pure ASGI: 403 ``cross_origin_refused`` for cross-site cookie writes; 1008 for foreign WS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and cross_site_write(scope):
            await JSONResponse({"detail": REFUSED}, status_code=403)(scope, receive, send)
            return
        if scope["type"] == "websocket":
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin and not allowed_origin(origin, headers):
                await receive()  # websocket.connect
                await send({"type": "websocket.accept"})  # accept first: browsers then see 1008
                await send({"type": "websocket.close", "code": WS_1008_POLICY_VIOLATION, "reason": "Origin"})
                return
        await self.app(scope, receive, send)
