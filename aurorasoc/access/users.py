"""Local user accounts: creation, roles, passwords, and the last-admin safeguard.

:meth:`UserService.add`, :meth:`~UserService.edit`, :meth:`~UserService.remove` and
:meth:`~UserService.change_own_password` are the units of work the API and the CLI share: the
change, its audit row (before/after snapshots) and the commit. The other methods only flush.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.access.schemas import UserOut
from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import purge_api_key_cache, purge_principal_cache
from aurorasoc.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from aurorasoc.core.models_platform import UserModel
from aurorasoc.core.passwords import (
    hash_password,
    needs_rehash,
    validate_password,
    validate_username,
    verify_password,
)
from aurorasoc.core.rbac import ROLE_PERMISSIONS, missing_permissions
from aurorasoc.core.vocabulary import Role


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role '{value}' (choose from: {allowed})") from None


def ensure_role_within(granter: frozenset[str] | None, role: Role, verb: str) -> None:
    """Refuse to grant (or act on) a role holding permissions the granter lacks.

    Only the admin role holds the wildcard, so only an admin creates, edits or deletes an admin.
    ``granter`` None is the local CLI, which acts with the machine owner's authority.
    """
    if granter is None:
        return
    if role is Role.ADMIN and missing_permissions(granter, ROLE_PERMISSIONS[role]):
        raise PermissionDenied(f"only an admin can {verb} an admin account", code="admin_only")
    beyond = missing_permissions(granter, sorted(ROLE_PERMISSIONS[role]))
    if beyond:
        raise PermissionDenied(
            f"cannot {verb} a '{role.value}' account: you do not hold {', '.join(beyond)}",
            code="permission_not_held",
        )


class UserService:
    def __init__(self, session: AsyncSession, *, granter: frozenset[str] | None = None) -> None:
        """``granter``: the acting principal's permissions, bounding what it may grant or edit."""
        self.session = session
        self.granter = granter

    async def get(self, username: str) -> UserModel:
        user = await self.find(username)
        if user is None:
            raise NotFound(f"user '{username}' does not exist")
        return user

    async def find(self, username: str) -> UserModel | None:
        result = await self.session.execute(select(UserModel).where(UserModel.username == username))
        return result.scalar_one_or_none()

    async def list(self, *, skip: int = 0, limit: int = 200) -> tuple[Sequence[UserModel], int]:
        total = await self.session.scalar(select(func.count()).select_from(UserModel)) or 0
        rows = await self.session.execute(
            select(UserModel).order_by(UserModel.username).offset(skip).limit(limit)
        )
        return rows.scalars().all(), total

    async def count(self) -> int:
        return await self.session.scalar(select(func.count()).select_from(UserModel)) or 0

    async def create(
        self,
        username: str,
        password: str | None,
        role: Role | str,
        *,
        display_name: str | None = None,
        email: str | None = None,
        auth_provider: str = "local",
    ) -> UserModel:
        try:
            validate_username(username)
            if auth_provider == "local":
                validate_password(password or "")
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        role = parse_role(role.value if isinstance(role, Role) else role)
        ensure_role_within(self.granter, role, "create")
        if await self.find(username) is not None:
            raise Conflict(f"user '{username}' already exists", code="duplicate")
        user = UserModel(
            username=username,
            password_hash=hash_password(password) if password else None,
            role=role.value,
            display_name=display_name,
            email=email,
            auth_provider=auth_provider,
            is_active=True,
        )
        self.session.add(user)
        await self.session.flush()
        return user

    async def set_role(self, username: str, role: Role | str) -> UserModel:
        new_role = parse_role(role.value if isinstance(role, Role) else role)
        user = await self.get(username)
        ensure_role_within(self.granter, Role(user.role), "edit")
        ensure_role_within(self.granter, new_role, "grant the role of")
        if user.role == Role.ADMIN.value and new_role is not Role.ADMIN:
            await self._ensure_not_last_admin(user)
        if user.role != new_role.value:
            user.role = new_role.value
            self._end_sessions(user)
        await self.session.flush()
        purge_principal_cache(username=username)
        return user

    async def set_active(self, username: str, active: bool) -> UserModel:
        user = await self.get(username)
        if not active and user.role == Role.ADMIN.value:
            await self._ensure_not_last_admin(user)
        user.is_active = active
        await self.session.flush()
        purge_principal_cache(username=username)
        return user

    async def set_password(self, username: str, password: str) -> UserModel:
        try:
            validate_password(password)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        user = _local(await self.get(username))
        user.password_hash = hash_password(password)
        await self.session.flush()
        return user

    async def reset_password(self, username: str, password: str) -> UserModel:
        """Another account's password (admin edit, CLI): every session of that user ends."""
        user = await self.set_password(username, password)
        self._end_sessions(user)
        await self.session.flush()
        return user

    def _end_sessions(self, user: UserModel) -> None:
        """Tokens issued before now stop working; cached principals and API keys are forgotten."""
        user.sessions_valid_after = datetime.now(UTC)
        purge_principal_cache(username=user.username)
        purge_api_key_cache()

    async def delete(self, username: str) -> None:
        user = await self.get(username)
        ensure_role_within(self.granter, Role(user.role), "delete")
        if user.role == Role.ADMIN.value:
            await self._ensure_not_last_admin(user)
        await self.session.delete(user)
        await self.session.flush()
        purge_principal_cache(username=username)

    async def authenticate(self, username: str, password: str) -> UserModel | None:
        """The active local user with this password, or None. Upgrades stale hashes."""
        user = await self.find(username)
        if user is None or not user.is_active or not verify_password(user.password_hash, password):
            return None
        await self.record_login(user, password)
        return user

    async def record_login(self, user: UserModel, password: str) -> None:
        """After a verified login: stamp ``last_login_at`` and upgrade a stale hash."""
        if user.password_hash and needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = datetime.now(UTC)
        await self.session.flush()

    async def change_own_password(self, current: str, new: str, *, actor: Actor) -> UserModel:
        """Self-service change by ``actor``: the current password must be proven first; audited, committed."""
        user = _local(await self.get(actor.username))
        if not verify_password(user.password_hash, current):
            raise InvalidInput("current password is incorrect", code="wrong_password")
        await self.set_password(user.username, new)
        await self._commit(actor, "user.update", user.username, {"changed": ["password"]})
        return user

    async def add(
        self,
        username: str,
        password: str,
        role: Role | str,
        *,
        display_name: str | None = None,
        email: str | None = None,
        actor: Actor,
    ) -> UserModel:
        """Create a local user, audited with its snapshot and committed."""
        user = await self.create(username, password, role, display_name=display_name, email=email)
        await self._commit(actor, "user.create", username, {"after": _snapshot(user)})
        return user

    async def edit(
        self,
        username: str,
        *,
        role: Role | str | None = None,
        is_active: bool | None = None,
        password: str | None = None,
        profile: dict[str, str | None] | None = None,
        actor: Actor,
    ) -> UserModel:
        """:meth:`update`, audited with the before/after snapshots and committed."""
        before = _snapshot(await self.get(username))
        user = await self.update(username, role=role, is_active=is_active, password=password, profile=profile)
        details = {"before": before, "after": _snapshot(user), "password_changed": password is not None}
        await self._commit(actor, "user.update", username, details)
        return user

    async def remove(self, username: str, *, actor: Actor) -> None:
        """:meth:`delete`, audited with the last snapshot and committed."""
        before = _snapshot(await self.get(username))
        await self.delete(username)
        await self._commit(actor, "user.delete", username, {"before": before})

    async def _commit(self, actor: Actor, action: str, username: str, details: dict[str, Any]) -> None:
        await actor.audit(self.session, action, ("user", username), details)
        await self.session.commit()

    async def update(
        self,
        username: str,
        *,
        role: Role | str | None = None,
        is_active: bool | None = None,
        password: str | None = None,
        profile: dict[str, str | None] | None = None,
    ) -> UserModel:
        """Apply an admin edit; ``profile`` holds the ``display_name``/``email`` keys to set."""
        user = await self.get(username)
        ensure_role_within(self.granter, Role(user.role), "edit")
        if role is not None:
            await self.set_role(username, role)
        if is_active is not None:
            await self.set_active(username, is_active)
        if password is not None:
            await self.reset_password(username, password)
        for field, value in (profile or {}).items():
            if field not in {"display_name", "email"}:
                raise InvalidInput(f"'{field}' is not an editable profile field")
            setattr(user, field, value)
        await self.session.flush()
        purge_principal_cache(username=username)
        return user

    async def _ensure_not_last_admin(self, user: UserModel) -> None:
        active_admins = await self.session.scalar(
            select(func.count())
            .select_from(UserModel)
            .where(UserModel.role == Role.ADMIN.value, UserModel.is_active.is_(True), UserModel.id != user.id)
        )
        if not active_admins and user.is_active:
            raise Conflict("the last active admin cannot be demoted, disabled or deleted", code="last_admin")


def _snapshot(user: UserModel) -> dict[str, Any]:
    return UserOut.model_validate(user).audit_snapshot()


def _local(user: UserModel) -> UserModel:
    """Only local accounts have a password here; OIDC users change theirs at the provider."""
    if user.auth_provider != "local":
        raise InvalidInput(f"user '{user.username}' signs in through {user.auth_provider}; no local password")
    return user
