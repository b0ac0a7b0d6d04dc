"""OIDC sign-in sessions: the signed pending-login cookie, one-time ``state`` and user provisioning.

The pending login (state, nonce, PKCE verifier) travels in a 10-minute HS256-signed cookie so any
replica can finish it; each ``state`` is consumed once (Redis ``SET NX`` when configured, else in
process), so replaying a callback URL with its cookie is refused before the code is exchanged.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.access.oidc import OIDCClient, OIDCError, PendingLogin
from aurorasoc.access.sessions import IssuedToken
from aurorasoc.access.users import UserService
from aurorasoc.core.audit import AuditService
from aurorasoc.core.auth import create_token, jwt_secret
from aurorasoc.core.config import get_settings
from aurorasoc.core.passwords import validate_username
from aurorasoc.core.redis import get_redis

log = logging.getLogger(__name__)

PENDING_TTL_SECONDS = 600
PENDING_AUDIENCE = "aurorasoc:oidc-pending"
STATE_KEY_PREFIX = "aurora:oidc:state:"
_used_states: dict[str, float] = {}


def seal_pending(pending: PendingLogin) -> str:
    now = datetime.now(UTC)
    claims = {**asdict(pending), "aud": PENDING_AUDIENCE, "exp": now + timedelta(seconds=PENDING_TTL_SECONDS)}
    return jwt.encode(claims, jwt_secret(), algorithm="HS256")


def open_pending(sealed: str | None, state: str | None) -> PendingLogin:
    """The pending login in the cookie, which must be intact, unexpired and for this ``state``."""
    if not sealed or not state:
        raise OIDCError(
            "no_pending_login", "no sign-in in progress (cookie missing or expired); start again", 400
        )
    try:
        claims = jwt.decode(sealed, jwt_secret(), algorithms=["HS256"], audience=PENDING_AUDIENCE)
        pending = PendingLogin(
            state=claims["state"],
            nonce=claims["nonce"],
            code_verifier=claims["code_verifier"],
            redirect_uri=claims["redirect_uri"],
            next_path=claims.get("next_path", "/"),
        )
    except (jwt.PyJWTError, KeyError, TypeError):
        raise OIDCError(
            "no_pending_login", "the sign-in cookie is invalid or expired; start again", 400
        ) from None
    if pending.state != state:
        raise OIDCError("state_mismatch", "state does not match this browser's sign-in", 400)
    return pending


async def consume_state(state: str) -> None:
    """Mark ``state`` used; a second use is a replay and is refused."""
    client = await get_redis()
    if client is not None:
        try:
            fresh = await client.set(f"{STATE_KEY_PREFIX}{state}", "1", nx=True, ex=PENDING_TTL_SECONDS)
        except (RedisError, OSError):
            log.warning("oidc: Redis unavailable for state tracking; using the in-process record")
        else:
            if not fresh:
                raise OIDCError("state_replayed", "this sign-in response was already used", 400)
            return
    now = time.monotonic()
    for key, at in list(_used_states.items()):
        if now - at > PENDING_TTL_SECONDS:
            del _used_states[key]
    if state in _used_states:
        raise OIDCError("state_replayed", "this sign-in response was already used", 400)
    _used_states[state] = now


def _username(claims: dict[str, Any]) -> str:
    for claim in ("preferred_username", "email", "sub"):
        value = claims.get(claim)
        if isinstance(value, str):
            try:
                validate_username(value)
            except ValueError:
                continue
            return value
    raise OIDCError(
        "bad_username", "the ID token carries no usable username (preferred_username/email/sub)", 403
    )


@dataclass(frozen=True)
class ProviderAnswer:
    """What the browser brought back to the callback: the sealed cookie and the query parameters."""

    cookie: str | None
    state: str | None
    code: str | None
    error: str | None


class OIDCSignInService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.users = UserService(session)
        self.audit = AuditService(session)

    async def sign_in(
        self, client: OIDCClient, answer: ProviderAnswer, ip: str | None
    ) -> tuple[PendingLogin, IssuedToken]:
        """The whole callback as one unit of work: check the pending login and its one-time state,
        exchange the code, validate the ID token, provision the user, audit and commit.

        A refusal is audited and committed too, then re-raised for the caller to redirect.
        """
        try:
            pending = open_pending(answer.cookie, answer.state)
            await consume_state(pending.state)
            if answer.error or not answer.code:
                problem = answer.error or "no code"
                raise OIDCError("provider_error", f"the identity provider answered: {problem}", 400)
            claims = await client.validate_id_token(
                await client.exchange(answer.code, pending), pending.nonce
            )
            issued = await self.complete(client, claims, ip)
        except OIDCError as exc:
            await self.refused(exc, ip)
            await self.session.commit()
            raise
        await self.session.commit()
        return pending, issued

    async def complete(self, client: OIDCClient, claims: dict[str, Any], ip: str | None) -> IssuedToken:
        """Provision or update the OIDC user, then mint the local session token."""
        username = _username(claims)
        try:
            role = client.role_for(claims)
            user = await self.users.find(username)
            if user is not None and user.auth_provider != "oidc":
                raise OIDCError(
                    "local_account", f"'{username}' is a local account; sign in with its password", 403
                )
            if user is not None and not user.is_active:
                raise OIDCError("disabled", "this account is disabled", 403)
        except OIDCError as exc:
            exc.username = username
            raise
        created = user is None
        display = claims.get("name") if isinstance(claims.get("name"), str) else None
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        if user is None:
            user = await self.users.create(
                username, None, role, display_name=display, email=email, auth_provider="oidc"
            )
        elif user.role != role.value:
            user = await self.users.set_role(username, role)
        user.display_name = display or user.display_name
        user.email = email or user.email
        user.last_login_at = datetime.now(UTC)
        await self.session.flush()
        details = {
            "auth_provider": "oidc",
            "role": role.value,
            "provisioned": created,
            "sub": claims.get("sub"),
        }
        await self.audit.record(username, "user", "auth.login", "user", username, details, ip=ip)
        expires_in = get_settings().auth.jwt_expiry_hours * 3600
        return IssuedToken(access_token=create_token(username, role), expires_in=expires_in, user=user)

    async def refused(self, exc: OIDCError, ip: str | None) -> None:
        """Audit a refused OIDC sign-in with its real reason (the browser only gets the code)."""
        details = {"auth_provider": "oidc", "reason": exc.code, "message": exc.message}
        await self.audit.record(
            exc.username, "user", "auth.login_failed", "user", exc.username, details, ip=ip
        )
