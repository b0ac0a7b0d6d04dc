"""OIDC sign-in routes (spec §7.5): ``/auth/oidc/login`` redirects out, ``/auth/oidc/callback`` back in.

Both are public (the browser has no session yet) and answer 404 when OIDC is not configured. A
refused sign-in never sets a session: the browser is sent to ``/login?sso_error=<code>``, which
the console turns into a message, and the audit log keeps the reason.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import HTTPException, Query, Request, status
from fastapi.responses import RedirectResponse

from aurorasoc.access.oidc import OIDCClient, OIDCError
from aurorasoc.access.oidc_sessions import (
    PENDING_TTL_SECONDS,
    OIDCSignInService,
    ProviderAnswer,
    seal_pending,
)
from aurorasoc.access.router_auth import _cookie_secure, set_session_cookie
from aurorasoc.core.config import get_settings
from aurorasoc.core.web.deps import DbSession, client_ip
from aurorasoc.core.web.routing import IndexedRouter

router = IndexedRouter(prefix="/auth/oidc", tags=["auth"])

PENDING_COOKIE = "aurora_oidc"
CALLBACK_PATH = "/api/v1/auth/oidc/callback"
NOT_CONFIGURED: dict[int | str, dict[str, Any]] = {404: {"description": "OIDC is not configured"}}


def _client() -> OIDCClient:
    settings = get_settings().oidc
    if not settings.enabled:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "OIDC is not configured")
    return OIDCClient(settings)


def _safe_next(value: str | None) -> str:
    """Only same-site paths: an open redirect would hand the fresh session to another site."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\", "/login")):
        return value
    return "/"


def _refusal(exc: OIDCError) -> RedirectResponse:
    response = RedirectResponse(f"/login?{urlencode({'sso_error': exc.code})}", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(PENDING_COOKIE, path="/api/v1/auth/oidc")
    return response


@router.get(
    "/login",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    summary="Start OIDC sign-in (redirect to the identity provider). Permission: public",
    responses={**NOT_CONFIGURED, 303: {"description": "Provider unreachable: back to /login?sso_error="}},
)
async def oidc_login(request: Request, next: str | None = Query(None, max_length=2000)) -> RedirectResponse:
    client = _client()
    redirect_uri = client.settings.redirect_url or f"{str(request.base_url).rstrip('/')}{CALLBACK_PATH}"
    try:
        url, pending = await client.start(redirect_uri, _safe_next(next))
    except OIDCError as exc:
        return _refusal(exc)
    response = RedirectResponse(url, status.HTTP_302_FOUND)
    response.set_cookie(
        PENDING_COOKIE,
        seal_pending(pending),
        max_age=PENDING_TTL_SECONDS,
        path="/api/v1/auth/oidc",
        httponly=True,
        samesite="lax",  # the provider's redirect back is a top-level GET, which Lax allows
        secure=_cookie_secure(request),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(
    "/logout",
    status_code=status.HTTP_303_SEE_OTHER,
    response_class=RedirectResponse,
    summary="After POST /auth/logout: end the identity provider's session too. Permission: public",
    responses=NOT_CONFIGURED,
)
async def oidc_logout(request: Request) -> RedirectResponse:
    """Only a redirect (the local session is revoked by POST /auth/logout), so it changes nothing here."""
    login = f"{str(request.base_url).rstrip('/')}/login"
    url = await _client().end_session_url(login)
    return RedirectResponse(url or "/login", status.HTTP_303_SEE_OTHER)


@router.get(
    "/callback",
    status_code=status.HTTP_303_SEE_OTHER,
    response_class=RedirectResponse,
    summary="OIDC redirect target: exchange the code, validate the ID token, sign in. Permission: public",
    responses=NOT_CONFIGURED,
)
async def oidc_callback(
    request: Request,
    session: DbSession,
    code: str | None = Query(None, max_length=4096),
    state: str | None = Query(None, max_length=512),
    error: str | None = Query(None, max_length=256),
) -> RedirectResponse:
    answer = ProviderAnswer(request.cookies.get(PENDING_COOKIE), state, code, error)
    try:
        pending, issued = await OIDCSignInService(session).sign_in(_client(), answer, client_ip(request))
    except OIDCError as exc:
        return _refusal(exc)
    response = RedirectResponse(pending.next_path, status.HTTP_303_SEE_OTHER)
    set_session_cookie(response, request, issued.access_token, issued.expires_in)
    response.delete_cookie(PENDING_COOKIE, path="/api/v1/auth/oidc")
    return response
