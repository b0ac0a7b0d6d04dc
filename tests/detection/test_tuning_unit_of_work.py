"""Rule exceptions and rule packs own their unit of work: rows, audit rows naming the actor, commit.

Each test calls the method the API routes and the CLI call, then checks the rows, the audit entry,
that nothing is left uncommitted, and that a refused change writes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from test_detection_rules import BRUTE, rule_yaml

from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import Conflict, InvalidInput, NotFound
from aurorasoc.core.models import AuditLogModel, DetectionRuleModel
from aurorasoc.detection.exceptions import RuleExceptionService
from aurorasoc.detection.models import RuleExceptionModel, RulePackModel
from aurorasoc.detection.packs import RulePackService
from aurorasoc.detection.packs_archive import RuleArchive
from aurorasoc.detection.rules import DetectionRuleService

ANALYST = Actor("analyst", "user", "198.51.100.70")
KEY = Actor("ci-key", "api_key", None)
PACK_RULE = "6b1b0e2c-9d1f-4f55-9d0c-5f0a3c1e0101"


async def _audit(session: AsyncSession) -> list[tuple[str, str, str | None, str, str | None, dict[str, Any]]]:
    rows = await session.scalars(select(AuditLogModel).order_by(AuditLogModel.timestamp))
    return [(r.actor, r.actor_type, r.ip, r.action, r.resource_id, r.details) for r in rows]


async def _count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


class TestExceptions:
    async def test_create_and_delete_are_audited_and_committed(self, any_db_session: AsyncSession) -> None:
        await DetectionRuleService(any_db_session).add(rule_yaml(), enabled=True, actor=ANALYST)
        service = RuleExceptionService(any_db_session)
        row = await service.create(rule_uid=BRUTE, conditions={"TargetUserName": "svc-backup"},
                                   reason="backup job", host="srv-1", actor=ANALYST)  # fmt: skip
        assert not any_db_session.in_transaction() and (row.owner, row.created_by) == ("analyst", "analyst")
        await service.delete(row.id, actor=KEY)
        assert not any_db_session.in_transaction() and await _count(any_db_session, RuleExceptionModel) == 0
        audit = [a for a in await _audit(any_db_session) if a[3].startswith("rule_exception")]
        assert [a[:5] for a in audit] == [
            ("analyst", "user", "198.51.100.70", "rule_exception.create", str(row.id)),
            ("ci-key", "api_key", None, "rule_exception.delete", str(row.id)),
        ]
        assert (
            audit[0][5]["conditions"] == {"TargetUserName": "svc-backup"} and audit[0][5]["host"] == "srv-1"
        )

    async def test_invalid_exceptions_write_nothing(self, any_db_session: AsyncSession) -> None:
        service = RuleExceptionService(any_db_session)
        with pytest.raises(NotFound):
            await service.create(rule_uid="no-such-rule", conditions={"a": 1}, reason="x", actor=ANALYST)
        await DetectionRuleService(any_db_session).add(rule_yaml(), enabled=True, actor=ANALYST)
        past = datetime.now(UTC) - timedelta(days=1)
        with pytest.raises(InvalidInput):
            await service.create(
                rule_uid=BRUTE, conditions={"a": 1}, reason="x", expires_at=past, actor=ANALYST
            )
        with pytest.raises(InvalidInput):
            await service.create(rule_uid=BRUTE, conditions={}, reason="x", actor=ANALYST)
        await any_db_session.rollback()
        assert await _count(any_db_session, RuleExceptionModel) == 0
        assert [a[3] for a in await _audit(any_db_session)] == ["detection_rule.create"]


def _archive(*uids: str) -> RuleArchive:
    files = {f"rules/{uid}.yml": rule_yaml(uid, f"Pack rule {uid[-4:]}") for uid in uids}
    return RuleArchive(source="https://rules.example/pack.zip", sha256="ab" * 32, files=files, license="DRL")


class TestPacks:
    async def test_install_policy_rollback_are_audited_and_committed(
        self, any_db_session: AsyncSession
    ) -> None:
        service = RulePackService(any_db_session, actor=ANALYST)
        first = await service.install(_archive(PACK_RULE), name="uow-pack")
        assert not any_db_session.in_transaction() and (first.version, first.added) == (1, 1)
        second = await RulePackService(any_db_session, actor=KEY).install(
            _archive(PACK_RULE, BRUTE), name="uow-pack"
        )
        assert not any_db_session.in_transaction() and (second.version, second.added) == (2, 1)
        await service.set_policy("uow-pack", statuses=["stable"], min_level="high")
        assert not any_db_session.in_transaction()
        back = await service.rollback("uow-pack")
        assert not any_db_session.in_transaction() and back.version == 1
        assert await _count(any_db_session, DetectionRuleModel) == 1
        assert [(a[0], a[3], a[4]) for a in await _audit(any_db_session)] == [
            ("analyst", "rule_pack.install", "uow-pack"), ("ci-key", "rule_pack.install", "uow-pack"),
            ("analyst", "rule_pack.policy", "uow-pack"), ("analyst", "rule_pack.rollback", "uow-pack"),
        ]  # fmt: skip

    async def test_refused_pack_changes_write_nothing(self, any_db_session: AsyncSession) -> None:
        service = RulePackService(any_db_session, actor=ANALYST)
        empty = RuleArchive(source="https://rules.example/e.zip", sha256="cd" * 32, files={}, license=None)
        with pytest.raises(InvalidInput):
            await service.install(empty, name="uow-empty")
        await service.install(_archive(PACK_RULE), name="uow-one")
        with pytest.raises(Conflict):
            await service.rollback("uow-one")
        with pytest.raises(InvalidInput):
            await service.set_policy("uow-one", statuses=["shiny"], min_level="high")
        await any_db_session.rollback()
        assert await _count(any_db_session, RulePackModel) == 1
        assert [a[3] for a in await _audit(any_db_session)] == ["rule_pack.install"]
