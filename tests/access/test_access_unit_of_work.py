"""Access services own their unit of work: the change, the audit row naming the actor, the commit.

Users, API keys and sessions are changed through the methods the API and the CLI share; each test
checks the stored row, the audit entry, that nothing is left uncommitted, and that a refused
change writes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.access.api_keys import ApiKeyService
from aurorasoc.access.sessions import AuthSessionService, LoginRejected
from aurorasoc.access.users import UserService
from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal
from aurorasoc.core.errors import Conflict, InvalidInput
from aurorasoc.core.models import ApiKeyModel, AuditLogModel, RevokedTokenModel, UserModel
from aurorasoc.core.rbac import ROLE_PERMISSIONS
from aurorasoc.core.vocabulary import Role

ADMIN = Actor("root", "user", "198.51.100.40")
CLI = Actor("cli", "system")
PASSWORD = "correct horse battery"


async def _audit(session: AsyncSession) -> list[tuple[str, str, str | None, str, str | None, dict[str, Any]]]:
    rows = await session.scalars(select(AuditLogModel).order_by(AuditLogModel.timestamp))
    return [(r.actor, r.actor_type, r.ip, r.action, r.resource_id, r.details) for r in rows]


async def _count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


class TestUsers:
    async def test_add_edit_remove_audit_snapshots_and_commit(self, any_db_session: AsyncSession) -> None:
        service = UserService(any_db_session, granter=ROLE_PERMISSIONS[Role.ADMIN])
        user = await service.add("uow-ana", PASSWORD, Role.ANALYST, display_name="Ana", actor=ADMIN)
        assert not any_db_session.in_transaction() and user.role == "analyst"
        edited = await service.edit("uow-ana", role=Role.VIEWER, password=PASSWORD + "!", actor=CLI)
        assert not any_db_session.in_transaction() and edited.role == "viewer"
        await service.remove("uow-ana", actor=ADMIN)
        assert not any_db_session.in_transaction() and await _count(any_db_session, UserModel) == 0
        snapshot = {"role": "analyst", "is_active": True, "display_name": "Ana", "email": None}
        assert await _audit(any_db_session) == [
            ("root", "user", "198.51.100.40", "user.create", "uow-ana", {"after": snapshot}),
            ("cli", "system", None, "user.update", "uow-ana",
             {"before": snapshot, "after": {**snapshot, "role": "viewer"}, "password_changed": True}),
            ("root", "user", "198.51.100.40", "user.delete", "uow-ana",
             {"before": {**snapshot, "role": "viewer"}}),
        ]  # fmt: skip

    async def test_refused_changes_write_nothing(self, any_db_session: AsyncSession) -> None:
        service = UserService(any_db_session)
        with pytest.raises(InvalidInput):
            await service.add("uow-short", "short", Role.ANALYST, actor=ADMIN)
        await any_db_session.rollback()
        assert await _count(any_db_session, UserModel) == 0 and await _audit(any_db_session) == []
        await service.add("uow-admin", PASSWORD, Role.ADMIN, actor=CLI)
        with pytest.raises(Conflict) as last:
            await service.edit("uow-admin", is_active=False, actor=ADMIN)
        assert last.value.code == "last_admin"
        await any_db_session.rollback()
        assert (await service.get("uow-admin")).is_active is True
        assert [a[3] for a in await _audit(any_db_session)] == ["user.create"]

    async def test_own_password_change_is_proven_audited_and_committed(
        self, any_db_session: AsyncSession
    ) -> None:
        service = UserService(any_db_session)
        await service.add("uow-self", PASSWORD, Role.ANALYST, actor=CLI)
        me = Actor("uow-self", "user", "192.0.2.9")
        with pytest.raises(InvalidInput) as wrong:
            await service.change_own_password("not it", PASSWORD + "?", actor=me)
        assert wrong.value.code == "wrong_password"
        await any_db_session.rollback()
        await service.change_own_password(PASSWORD, PASSWORD + "?", actor=me)
        assert not any_db_session.in_transaction()
        assert await service.authenticate("uow-self", PASSWORD + "?") is not None
        assert (await _audit(any_db_session))[1:] == [
            ("uow-self", "user", "192.0.2.9", "user.update", "uow-self", {"changed": ["password"]})
        ]


class TestApiKeys:
    async def test_issue_and_withdraw_are_audited_and_committed(self, any_db_session: AsyncSession) -> None:
        service = ApiKeyService(any_db_session)
        issued = await service.issue("uow-forwarder", permissions=["alerts:write"], actor=ADMIN)
        assert not any_db_session.in_transaction() and issued.key.created_by == "root"
        await service.withdraw(issued.key.id, actor=CLI)
        assert not any_db_session.in_transaction() and issued.key.revoked_at is not None
        prefix = issued.key.key_prefix
        assert await _audit(any_db_session) == [
            ("root", "user", "198.51.100.40", "apikey.create", str(issued.key.id),
             {"service_name": "uow-forwarder", "key_prefix": prefix, "permissions": ["alerts:write"]}),
            ("cli", "system", None, "apikey.revoke", str(issued.key.id),
             {"service_name": "uow-forwarder", "key_prefix": prefix}),
        ]  # fmt: skip

    async def test_a_grant_beyond_the_granter_writes_nothing(self, any_db_session: AsyncSession) -> None:
        with pytest.raises(InvalidInput) as beyond:
            await ApiKeyService(any_db_session).issue(
                "uow-greedy", permissions=["users:manage"], granter_permissions=frozenset({"alerts:read"}),
                actor=ADMIN,
            )  # fmt: skip
        assert beyond.value.code == "permission_not_held"
        await any_db_session.rollback()
        assert await _count(any_db_session, ApiKeyModel) == 0 and await _audit(any_db_session) == []


class TestSessions:
    async def test_login_commits_success_and_refusal(self, any_db_session: AsyncSession) -> None:
        await UserService(any_db_session).add("uow-login", PASSWORD, Role.ANALYST, actor=CLI)
        sessions = AuthSessionService(any_db_session)
        with pytest.raises(LoginRejected):
            await sessions.login("uow-login", "wrong password", "192.0.2.10")
        assert not any_db_session.in_transaction()  # the refusal's audit entry is kept
        issued = await sessions.login("uow-login", PASSWORD, "192.0.2.10")
        assert not any_db_session.in_transaction() and issued.user.last_login_at is not None
        assert [(a[0], a[2], a[3], a[5]) for a in (await _audit(any_db_session))[1:]] == [
            ("uow-login", "192.0.2.10", "auth.login_failed", {"reason": "bad_password"}),
            ("uow-login", "192.0.2.10", "auth.login", {"auth_provider": "local"}),
        ]

    async def test_logout_revokes_the_token_and_commits(self, any_db_session: AsyncSession) -> None:
        exp = datetime.now(UTC) + timedelta(hours=1)
        principal = Principal("uow-out", Role.ANALYST, frozenset(), jti="uow-jti", token_exp=exp)
        revoked = await AuthSessionService(any_db_session).logout(principal, "192.0.2.11")
        assert not any_db_session.in_transaction() and revoked.jti == "uow-jti"
        assert await _count(any_db_session, RevokedTokenModel) == 1
        assert [a[:5] for a in await _audit(any_db_session)] == [
            ("uow-out", "user", "192.0.2.11", "auth.logout", "uow-out")
        ]
