"""Interactive sessions (spec §7.2): password login, logout and token revocation.

Every refusal gives the same answer for unknown users, wrong passwords and disabled accounts
so the endpoint never reveals which usernames exist; the audit log keeps the real reason.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from redis.exceptions import RedisError
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.access.users import UserService
from aurorasoc.core.audit import AuditService
from aurorasoc.core.auth import Principal, create_token, purge_principal_cache, remember_revocation
from aurorasoc.core.config import get_settings
from aurorasoc.core.errors import InvalidInput
from aurorasoc.core.models_platform import RevokedTokenModel, UserModel
from aurorasoc.core.namespace import redis_key
from aurorasoc.core.passwords import hash_password, verify_password
from aurorasoc.core.redis import get_redis
from aurorasoc.core.vocabulary import Role

log = logging.getLogger(__name__)

BAD_CREDENTIALS = "Invalid username or password"
NO_INTERACTIVE_LOGIN = "Service accounts cannot sign in interactively; use an API key"
REVOKED_KEY_PREFIX = "aurora:revoked:"


class LoginRejected(Exception):
    """A refused login: ``status_code``/``message`` go to the client, ``reason`` only to the audit log."""

    def __init__(self, status_code: int, message: str, reason: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    user: UserModel


@cache
def _decoy_hash() -> str:
    """A hash to verify against when the user does not exist, so timing does not reveal it."""
    return hash_password("decoy password that never matches anything")


class AuthSessionService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.users = UserService(session)
        self.audit = AuditService(session)

    async def login(self, username: str, password: str, ip: str | None) -> IssuedToken:
        """Verify the password and mint a JWT; audits success and failure (never the password).

        Commits either way: a refused login keeps its ``auth.login_failed`` entry.
        """
        user = await self.users.find(username)
        reason = await asyncio.to_thread(_refusal_reason, user, password)  # argon2 is CPU-bound
        if reason is not None or user is None:
            await self.audit.record(
                username, "user", "auth.login_failed", "user", username, {"reason": reason}, ip=ip
            )
            await self.session.commit()
            if reason == "service_account":
                raise LoginRejected(403, NO_INTERACTIVE_LOGIN, reason)
            raise LoginRejected(401, BAD_CREDENTIALS, reason or "unknown_user")
        await self.users.record_login(user, password)
        expires_in = get_settings().auth.jwt_expiry_hours * 3600
        token = create_token(user.username, Role(user.role))
        await self.audit.record(
            user.username, "user", "auth.login", "user", user.username, {"auth_provider": "local"}, ip=ip
        )
        await self.session.commit()
        return IssuedToken(access_token=token, expires_in=expires_in, user=user)

    async def logout(self, principal: Principal, ip: str | None) -> RevokedTokenModel:
        """Revoke the caller's token (its ``jti``, until its own expiry) and prune expired rows.

        Audited and committed, then mirrored to Redis for the other replicas.
        """
        if principal.auth_provider == "api_key" or principal.jti is None:
            raise InvalidInput(
                "API keys have no session to log out of; revoke the key instead", code="not_a_session"
            )
        now = datetime.now(UTC)
        await self.session.execute(delete(RevokedTokenModel).where(RevokedTokenModel.expires_at < now))
        revoked = RevokedTokenModel(jti=principal.jti, expires_at=principal.token_exp or now)
        purge_principal_cache(jti=principal.jti)
        remember_revocation(principal.jti, revoked.expires_at)
        self.session.add(revoked)
        await self.audit.record(
            principal.username, principal.actor_type, "auth.logout", "user", principal.username, ip=ip
        )
        await self.session.commit()
        await mirror_revocation(revoked)
        return revoked


def _refusal_reason(user: UserModel | None, password: str) -> str | None:
    """Why this login must fail, or None. The password is checked before any account state."""
    if user is None:
        verify_password(_decoy_hash(), password)
        return "unknown_user"
    if not verify_password(user.password_hash or _decoy_hash(), password):
        return "bad_password"
    if not user.is_active:
        return "disabled"
    if user.role == Role.API_SERVICE.value:
        return "service_account"
    return None


async def mirror_revocation(revoked: RevokedTokenModel) -> None:
    """Best-effort copy of a revocation into Redis so other replicas can check it cheaply."""
    client = await get_redis()
    if client is None:
        return
    ttl = max(1, int((revoked.expires_at - datetime.now(UTC)).total_seconds()))
    try:
        await client.set(redis_key(f"{REVOKED_KEY_PREFIX}{revoked.jti}"), "1", ex=ttl)
    except (RedisError, OSError):
        log.warning("could not mirror a token revocation to Redis; the database row still applies")
