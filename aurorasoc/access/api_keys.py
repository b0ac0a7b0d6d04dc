"""API keys for services (spec §7.4): issue once, store only the SHA-256, revoke immediately.

:meth:`ApiKeyService.issue` and :meth:`ApiKeyService.withdraw` are the audited, committed units of
work the API and the CLI share; ``create``/``revoke`` only flush.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.actor import Actor
from aurorasoc.core.api_keys import generate_api_key, generate_key_label, hash_api_key
from aurorasoc.core.auth import purge_api_key_cache
from aurorasoc.core.errors import Conflict, InvalidInput, NotFound
from aurorasoc.core.models_platform import ApiKeyModel
from aurorasoc.core.rbac import ALL_PERMISSIONS, ROLE_PERMISSIONS, has_permission
from aurorasoc.core.vocabulary import Role

SERVICE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
MAX_KEY_DAYS = 3650


@dataclass(frozen=True)
class IssuedApiKey:
    """A freshly created key: ``raw_key`` exists only here and is never stored."""

    key: ApiKeyModel
    raw_key: str


def default_key_permissions() -> list[str]:
    return sorted(ROLE_PERMISSIONS[Role.API_SERVICE])


def resolve_key_permissions(requested: Iterable[str] | None, granter: frozenset[str] | None) -> list[str]:
    """The key's permission list: the default set or the requested one, never beyond the granter's.

    ``granter`` is None for the local CLI, which acts with the machine owner's authority.
    """
    wanted = sorted(set(requested)) if requested is not None else default_key_permissions()
    unknown = [p for p in wanted if p not in ALL_PERMISSIONS]
    if unknown:
        raise InvalidInput(f"unknown permissions: {', '.join(unknown)}", code="unknown_permission")
    if not wanted:
        raise InvalidInput("an API key needs at least one permission")
    if granter is not None:
        beyond = [p for p in wanted if not has_permission(granter, p)]
        if beyond:
            raise InvalidInput(
                f"cannot grant permissions you do not hold: {', '.join(beyond)}", code="permission_not_held"
            )
    return wanted


class ApiKeyService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self,
        service_name: str,
        *,
        created_by: str,
        expires_in_days: int | None = None,
        permissions: Iterable[str] | None = None,
        granter_permissions: frozenset[str] | None = None,
    ) -> IssuedApiKey:
        if not SERVICE_NAME_PATTERN.fullmatch(service_name):
            raise InvalidInput("service name must be 1-128 of letters, digits, '.', '_', '@' or '-'")
        if expires_in_days is not None and not 1 <= expires_in_days <= MAX_KEY_DAYS:
            raise InvalidInput(f"expires_in_days must be between 1 and {MAX_KEY_DAYS}")
        raw_key = generate_api_key()
        now = datetime.now(UTC)
        key = ApiKeyModel(
            service_name=service_name,
            key_hash=hash_api_key(raw_key),
            key_prefix=generate_key_label(),
            permissions=resolve_key_permissions(permissions, granter_permissions),
            created_by=created_by,
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        self.session.add(key)
        await self.session.flush()
        return IssuedApiKey(key=key, raw_key=raw_key)

    async def list(self, *, skip: int = 0, limit: int = 200) -> tuple[Sequence[ApiKeyModel], int]:
        total = await self.session.scalar(select(func.count()).select_from(ApiKeyModel)) or 0
        rows = await self.session.execute(
            select(ApiKeyModel).order_by(ApiKeyModel.created_at.desc()).offset(skip).limit(limit)
        )
        return rows.scalars().all(), total

    async def revoke(self, key_id: uuid.UUID) -> ApiKeyModel:
        """Mark the key revoked; callers purge the in-process cache after committing."""
        key = await self.session.get(ApiKeyModel, key_id)
        if key is None:
            raise NotFound(f"API key {key_id} does not exist")
        if key.revoked_at is not None:
            raise Conflict(f"API key {key_id} is already revoked", code="already_revoked")
        key.revoked_at = datetime.now(UTC)
        await self.session.flush()
        return key

    async def issue(
        self,
        service_name: str,
        *,
        expires_in_days: int | None = None,
        permissions: Iterable[str] | None = None,
        granter_permissions: frozenset[str] | None = None,
        actor: Actor,
    ) -> IssuedApiKey:
        """Create a key on behalf of ``actor`` (bounded by ``granter_permissions``), audited, committed."""
        issued = await self.create(
            service_name, created_by=actor.username, expires_in_days=expires_in_days,
            permissions=permissions, granter_permissions=granter_permissions,
        )  # fmt: skip
        key = issued.key
        details = {
            "service_name": key.service_name,
            "key_prefix": key.key_prefix,
            "permissions": key.permissions,
        }
        await actor.audit(self.session, "apikey.create", ("api_key", str(key.id)), details)
        await self.session.commit()
        return issued

    async def withdraw(self, key_id: uuid.UUID, *, actor: Actor) -> ApiKeyModel:
        """Revoke a key, audited and committed; this process forgets it at once, others within the TTL."""
        key = await self.revoke(key_id)
        details = {"service_name": key.service_name, "key_prefix": key.key_prefix}
        await actor.audit(self.session, "apikey.revoke", ("api_key", str(key.id)), details)
        await self.session.commit()
        purge_api_key_cache(str(key.id))
        return key
