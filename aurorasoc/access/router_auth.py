"""Routes under /auth: login/logout, sign-in providers and API keys (spec §7)."""

from __future__ import annotations

import uuid

from fastapi import Depends, HTTPException, Request, Response, status

from aurorasoc.access.api_keys import ApiKeyService
from aurorasoc.access.schemas_auth import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyInfo,
    LoginRequest,
    Provider,
    ProvidersResponse,
    TokenResponse,
)
from aurorasoc.access.sessions import AuthSessionService, LoginRejected
from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.config import get_settings
from aurorasoc.core.rate_limit import enforce_login_limit
from aurorasoc.core.schemas import Page
from aurorasoc.core.web.deps import CurrentPrincipal, DbSession, Paging, client_ip, require_database
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import SHOWCASE_HEADER

router = IndexedRouter(prefix="/auth", tags=["auth"])

COOKIE_NAME = "access_token"
OIDC_LOGIN_URL = "/api/v1/auth/oidc/login"


def _cookie_secure(request: Request) -> bool:
    """``AURORA_COOKIE_SECURE``: true/false, or auto = Secure when the request came over https."""
    setting = get_settings().auth.cookie_secure
    return request.url.scheme == "https" if setting == "auto" else setting == "true"


def set_session_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    """The session cookie of spec §7.2 (password and OIDC sign-in alike); never cached."""
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_cookie_secure(request),
    )
    response.headers["Cache-Control"] = "no-store"


@router.post(
    "/token",
    response_model=TokenResponse,
    summary="Sign in with username and password. Permission: public",
    responses={
        401: {"description": "Invalid username or password"},
        429: {"description": "Too many attempts"},
    },
)
async def login(
    body: LoginRequest, request: Request, response: Response, session: DbSession
) -> TokenResponse:
    """Issue a JWT and set it as an HttpOnly cookie; failures are audited with their real reason."""
    ip = client_ip(request)
    await enforce_login_limit(ip, body.username)
    try:
        issued = await AuthSessionService(session).login(body.username, body.password, ip)
    except LoginRejected as exc:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        raise HTTPException(exc.status_code, exc.message, headers=headers) from None
    set_session_cookie(response, request, issued.access_token, issued.expires_in)
    return TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Revoke the current token and clear the cookie. Permission: any authenticated principal",
)
async def logout(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    await AuthSessionService(session).logout(principal, client_ip(request))
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=_cookie_secure(request)
    )
    return response


@router.get(
    "/providers",
    response_model=ProvidersResponse,
    response_model_exclude_none=True,
    summary="Sign-in methods offered to the console. Permission: public",
)
async def providers() -> ProvidersResponse:
    entries = [Provider(id="local", type="local", name="Username and password")]
    oidc = get_settings().oidc
    if oidc.enabled:
        entries.append(Provider(id="oidc", type="oidc", name=oidc.display_name, login_url=OIDC_LOGIN_URL))
    return ProvidersResponse(providers=entries)


@router.post(
    "/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    summary="Issue an API key (shown once). Permission: users:manage",
)
async def create_api_key(
    body: ApiKeyCreate,
    request: Request,
    response: Response,
    session: DbSession,
    principal: Principal = Depends(require_permission("users:manage")),
) -> ApiKeyCreated:
    issued = await ApiKeyService(session).issue(
        body.service_name,
        expires_in_days=body.expires_in_days,
        permissions=body.permissions,
        granter_permissions=principal.permissions,
        actor=Actor.of(principal, client_ip(request)),
    )
    key = issued.key
    response.headers["Cache-Control"] = "no-store"
    info = ApiKeyInfo.model_validate(key).model_dump(exclude={"last_used_at", "revoked_at"})
    return ApiKeyCreated(**info, api_key=issued.raw_key)


@router.get(
    "/api-keys",
    response_model=Page[ApiKeyInfo],
    summary="List API keys (metadata only). Permission: users:manage",
    dependencies=[Depends(require_permission("users:manage")), Depends(require_database)],
)
async def list_api_keys(session: DbSession, paging: Paging, response: Response) -> Page[ApiKeyInfo]:
    rows, total = await ApiKeyService(session).list(skip=paging.skip, limit=paging.limit)
    response.headers[SHOWCASE_HEADER] = "database"
    return Page[ApiKeyInfo](
        items=[ApiKeyInfo.model_validate(row) for row in rows],
        total=total,
        skip=paging.skip,
        limit=paging.limit,
    )


@router.delete(
    "/api-keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Revoke an API key immediately. Permission: users:manage",
)
async def revoke_api_key(
    key_id: uuid.UUID,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("users:manage")),
) -> Response:
    await ApiKeyService(session).withdraw(key_id, actor=Actor.of(principal, client_ip(request)))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
