"""Authentication: JWTs, principals and the permission dependencies (spec §7, §8).

``decode_token`` is pure (no I/O); revocation, disabled accounts and API keys are checked by the
request dependency ``get_principal``, which is what routes depend on through
``require_permission``.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import stat
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jwt
from fastapi import Depends, HTTPException, Request, status
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from aurorasoc.core import runtime
from aurorasoc.core.api_keys import hash_api_key
from aurorasoc.core.config import Settings, get_settings
from aurorasoc.core.db import DATABASE_ERRORS, DatabaseUnavailable, get_session_factory, probe_database
from aurorasoc.core.models_platform import ApiKeyModel, RevokedTokenModel, UserModel
from aurorasoc.core.rbac import ALL_PERMISSIONS, ROLE_PERMISSIONS, has_permission, missing_permissions
from aurorasoc.core.vocabulary import Role, RuntimeMode

__all__ = [
    "ALL_PERMISSIONS",
    "ROLE_PERMISSIONS",
    "Principal",
    "Role",
    "TokenPayload",
    "create_token",
    "decode_token",
    "get_principal",
    "has_permission",
    "require_permission",
]

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["sub", "role", "exp", "iat", "jti"]
_process_secret: str | None = None


class TokenPayload(BaseModel):
    sub: str
    role: Role
    exp: datetime
    iat: datetime
    jti: str


def _unauthorized(detail: str = "Invalid or expired token") -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def ensure_jwt_secret(settings: Settings) -> str:
    """Create ``<data_dir>/secrets/jwt_secret`` (0600) on first use by ``serve``; return the key."""
    if settings.auth.jwt_secret_key:
        return settings.auth.jwt_secret_key
    path = settings.secrets_dir / "jwt_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _secret_file(path: Path) -> str | None:
    """The key in ``path`` if it is a file; read again only when the file changes.

    Every request verifies a token (twice: rate limiter and auth), and reading the file each time
    was about 8 % of a request's CPU. The file's identity and stamp (inode, size, mtime) key the
    cache, so a rotated or rewritten secret takes effect on the next request, as before.
    """
    try:
        found = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return _read_secret(path, found.st_ino, found.st_size, found.st_mtime_ns)


@lru_cache(maxsize=8)
def _read_secret(path: Path, inode: int, size: int, mtime_ns: int) -> str:
    """``path``'s content for one version of the file (the stamp arguments are the cache key)."""
    return path.read_text().strip()


def jwt_secret(settings: Settings | None = None) -> str:
    """Resolve the signing key: env → secret file → per-process random (library/test use)."""
    global _process_secret
    settings = settings or get_settings()
    if settings.auth.jwt_secret_key:
        return settings.auth.jwt_secret_key
    found = _secret_file(settings.secrets_dir / "jwt_secret")
    if found is not None:
        return found
    if _process_secret is None:
        _process_secret = secrets.token_hex(32)
        log.warning("JWT_SECRET_KEY not set and no secret file: using an ephemeral per-process key")
    return _process_secret


def create_token(sub: str, role: Role | str, *, expires_delta: timedelta | None = None) -> str:
    settings = get_settings()
    now = datetime.now(UTC)
    lifetime = expires_delta if expires_delta is not None else timedelta(hours=settings.auth.jwt_expiry_hours)
    claims = {
        "sub": sub,
        "role": Role(role).value,
        "iat": round(now.timestamp(), 3),  # ms: a reset in the same second still ends this session
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, jwt_secret(settings), algorithm=ALGORITHM)


def decode_token(token: str) -> TokenPayload:
    """The verified claims of ``token``; 401 when its signature, claims or lifetime are wrong.

    A request verifies its token twice (rate limiter, then auth) and clients resend the same token,
    so the signature check and parsing are cached per token and key; the time checks PyJWT makes
    (``exp``, ``nbf``) are repeated on every call, so an expired token is refused as before.
    """
    try:
        payload, claims = _verified(token, jwt_secret())
    except (jwt.PyJWTError, ValidationError, ValueError, TypeError) as exc:
        raise _unauthorized() from exc
    now = time.time()
    if int(claims["exp"]) <= now or ("nbf" in claims and int(claims["nbf"]) > now):
        raise _unauthorized()
    return payload


@lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> tuple[TokenPayload, dict[str, Any]]:
    """Signature and claims of one token under one key (a failure raises and is not cached)."""
    claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": _REQUIRED_CLAIMS})
    return TokenPayload.model_validate(claims), claims


# --- principals -----------------------------------------------------------------------------

AuthProvider = Literal["local", "oidc", "api_key"]


@dataclass(frozen=True)
class Principal:
    username: str
    role: Role
    permissions: frozenset[str]
    auth_provider: AuthProvider = "local"
    key_id: str | None = None
    jti: str | None = None
    token_exp: datetime | None = field(default=None, compare=False)

    def can(self, permission: str) -> bool:
        return has_permission(self.permissions, permission)

    @property
    def actor_type(self) -> str:
        return "api_key" if self.auth_provider == "api_key" else "user"


@dataclass
class _CachedKey:
    principal: Principal
    expires_at: datetime | None
    cached_at: float


_key_cache: dict[str, _CachedKey] = {}
_key_last_used_written: dict[str, float] = {}


def purge_api_key_cache(key_id: str | None = None) -> None:
    """Forget cached keys (all, or one key's) so a revocation applies to the next request."""
    if key_id is None:
        _key_cache.clear()
        return
    for digest in [d for d, c in _key_cache.items() if c.principal.key_id == key_id]:
        del _key_cache[digest]


def extract_credentials(request_headers: Any, cookies: Any) -> tuple[str | None, str | None]:
    """Return ``(bearer_or_cookie_jwt, api_key)`` in the spec's precedence order."""
    authz = request_headers.get("authorization", "")
    if authz.lower().startswith("bearer "):
        return authz[7:].strip() or None, None
    api_key = request_headers.get("x-api-key")
    if api_key:
        return None, api_key.strip()
    return cookies.get("access_token") or None, None


# Resolved JWT principals, by jti. Saves two queries per request; logout and user changes in
# this process purge at once, other processes see them within the TTL (like the API-key cache).
TOKEN_PRINCIPAL_CACHE_SECONDS = 5.0
_token_cache: dict[str, tuple[Principal, float]] = {}


def purge_principal_cache(*, username: str | None = None, jti: str | None = None) -> None:
    """Forget cached sessions of one token, one user, or (no arguments) everyone."""
    if username is None and jti is None:
        _token_cache.clear()
        return
    stale = [
        k
        for k, (p, _) in _token_cache.items()
        if k == jti or (username is not None and p.username == username)
    ]
    for key in stale:
        _token_cache.pop(key, None)


async def principal_from_jwt(token: str) -> Principal:
    payload = decode_token(token)
    if payload.jti in _revoked_here:
        raise _unauthorized("Token has been revoked")
    cached = _token_cache.get(payload.jti)
    if cached and time.monotonic() - cached[1] < TOKEN_PRINCIPAL_CACHE_SECONDS:
        return cached[0]
    principal, verified = await _load_jwt_principal(payload)
    if verified:
        if len(_token_cache) > 50_000:
            _token_cache.clear()
        _token_cache[payload.jti] = (principal, time.monotonic())
    return principal


async def _load_jwt_principal(payload: TokenPayload) -> tuple[Principal, bool]:
    """The principal, and whether the database confirmed it (only confirmed ones are cached)."""
    role = payload.role
    provider: AuthProvider = "local"
    try:
        async with get_session_factory()() as session:
            if await session.get(RevokedTokenModel, payload.jti) is not None:
                raise _unauthorized("Token has been revoked")
            user = (
                await session.execute(select(UserModel).where(UserModel.username == payload.sub))
            ).scalar_one_or_none()
    except DATABASE_ERRORS:
        await _refuse_unverifiable()
        verified = False
    else:
        if user is None or not user.is_active:
            raise _unauthorized("Account is disabled or no longer exists")
        if user.sessions_valid_after is not None and payload.iat < user.sessions_valid_after:
            raise _unauthorized("Session ended by a password reset or role change; sign in again")
        role = Role(user.role)
        provider = "oidc" if user.auth_provider == "oidc" else "local"
        verified = True
    principal = Principal(
        username=payload.sub,
        role=role,
        permissions=ROLE_PERMISSIONS[role],
        auth_provider=provider,
        jti=payload.jti,
        token_exp=payload.exp,
    )
    return principal, verified


async def _refuse_unverifiable() -> None:
    """The database cannot say whether this token was revoked: fail closed (503), except in dummy
    mode, where only showcase data is served and every write is blocked anyway."""
    await probe_database(force=True)  # the outage is now known to every route and /health/ready
    if runtime.current_mode() is not RuntimeMode.DUMMY:
        raise DatabaseUnavailable()


# Tokens revoked through this process, until their expiry: refused even while the database is down.
_revoked_here: dict[str, float] = {}


def remember_revocation(jti: str, expires_at: datetime) -> None:
    now = time.time()
    for stale in [j for j, exp in _revoked_here.items() if exp < now]:
        del _revoked_here[stale]
    _revoked_here[jti] = expires_at.timestamp()


async def principal_from_api_key(raw_key: str) -> Principal:
    settings = get_settings()
    bootstrap = settings.auth.api_service_key
    if bootstrap and hmac.compare_digest(raw_key.encode(), bootstrap.encode()):
        return Principal("api-service", Role.API_SERVICE, ROLE_PERMISSIONS[Role.API_SERVICE], "api_key")
    digest = hash_api_key(raw_key)
    now = datetime.now(UTC)
    cached = _key_cache.get(digest)
    ttl = settings.auth.api_key_cache_ttl_seconds
    if (
        cached
        and time.monotonic() - cached.cached_at < ttl
        and (not cached.expires_at or cached.expires_at > now)
    ):
        await _touch_key(cached.principal.key_id)
        return cached.principal

    async with get_session_factory()() as session:
        key = (
            await session.execute(select(ApiKeyModel).where(ApiKeyModel.key_hash == digest))
        ).scalar_one_or_none()
    if key is None or key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        raise _unauthorized("Invalid, revoked or expired API key")
    principal = Principal(
        username=key.service_name,
        role=Role.API_SERVICE,
        permissions=frozenset(key.permissions),
        auth_provider="api_key",
        key_id=str(key.id),
    )
    if ttl > 0:
        _key_cache[digest] = _CachedKey(principal, key.expires_at, time.monotonic())
    await _touch_key(principal.key_id)
    return principal


async def _touch_key(key_id: str | None) -> None:
    """Write ``last_used_at`` at most once a minute per key."""
    if key_id is None or time.monotonic() - _key_last_used_written.get(key_id, -1e9) < 60:
        return
    _key_last_used_written[key_id] = time.monotonic()

    try:
        async with get_session_factory()() as session:
            key = await session.get(ApiKeyModel, uuid.UUID(key_id))
            if key is not None:
                key.last_used_at = datetime.now(UTC)
                await session.commit()
    except (SQLAlchemyError, OSError):
        log.debug("could not record API key use", exc_info=True)


async def resolve_principal(headers: Any, cookies: Any, extra_token: str | None = None) -> Principal | None:
    """``extra_token``: a JWT from elsewhere (the WebSocket subprotocol), used when nothing else is sent."""
    token, api_key = extract_credentials(headers, cookies)
    if api_key:
        return await principal_from_api_key(api_key)
    token = token or extra_token
    if token:
        return await principal_from_jwt(token)
    return None


async def get_principal(request: Request) -> Principal:
    """The authenticated caller of this request, or 401."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    principal = await resolve_principal(request.headers, request.cookies)
    if principal is None:
        raise _unauthorized("Not authenticated")
    request.state.principal = principal
    return principal


def require_permission(*permissions: str) -> Any:
    """Dependency factory: every listed permission is required (403 names the first missing)."""
    unknown = [p for p in permissions if p not in ALL_PERMISSIONS]
    if unknown:
        raise ValueError(f"unknown permissions: {unknown}")

    async def _dependency(principal: Principal = Depends(get_principal)) -> Principal:
        missing = missing_permissions(principal.permissions, permissions)
        if missing:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"Missing permission: {missing[0]}")
        return principal

    _dependency.required_permissions = permissions  # type: ignore[attr-defined]
    return _dependency
