"""DetectionRuleService owns its unit of work: rule rows, audit rows naming the actor, one commit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from test_detection_rules import BRUTE, CORRELATION_PAIR, rule_yaml

from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import Conflict, InvalidInput
from aurorasoc.core.models import AuditLogModel, DetectionRuleModel
from aurorasoc.detection.rules import DetectionRuleService

ANALYST = Actor("analyst", "user", "198.51.100.7")
KEY = Actor("ci-key", "api_key", None)


async def _audit(session: AsyncSession) -> list[tuple[str, str, str | None, str, dict[str, Any]]]:
    rows = await session.scalars(select(AuditLogModel).order_by(AuditLogModel.timestamp))
    return [(r.actor, r.actor_type, r.ip, r.action, r.details) for r in rows]


async def _rules(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(DetectionRuleModel)) or 0)


async def test_add_stores_each_rule_with_its_audit_row(db_session: AsyncSession) -> None:
    items = await DetectionRuleService(db_session).add(CORRELATION_PAIR, enabled=False, actor=ANALYST)
    assert not db_session.in_transaction()  # committed by the service
    assert await _rules(db_session) == len(items) == 2
    assert {(i.created_by, i.enabled, i.origin) for i in items} == {("analyst", False, "custom")}
    audit = await _audit(db_session)
    assert [row[:4] for row in audit] == [("analyst", "user", "198.51.100.7", "detection_rule.create")] * 2
    assert sorted(row[4]["after"]["rule_uid"] for row in audit) == sorted(i.rule_uid for i in items)


async def test_rejected_rules_write_nothing(db_session: AsyncSession) -> None:
    service = DetectionRuleService(db_session)
    with pytest.raises(InvalidInput):
        await service.add("title: x\n", enabled=True, actor=ANALYST)
    await service.add(rule_yaml(), enabled=True, actor=ANALYST)
    with pytest.raises(Conflict):
        await service.add(rule_yaml(), enabled=True, actor=KEY)
    await db_session.rollback()
    assert await _rules(db_session) == 1
    assert [row[0] for row in await _audit(db_session)] == ["analyst"]


async def test_change_and_remove_record_before_and_after(db_session: AsyncSession) -> None:
    service = DetectionRuleService(db_session)
    await service.add(rule_yaml(), enabled=True, actor=ANALYST)
    updated = await service.change(BRUTE, enabled=None, text=rule_yaml(title="Renamed"), actor=KEY)
    assert not db_session.in_transaction()
    assert (updated.title, updated.enabled) == ("Renamed", True)
    await service.remove(BRUTE, actor=KEY)
    assert not db_session.in_transaction() and await _rules(db_session) == 0
    _create, change, delete = await _audit(db_session)
    assert change[:4] == ("ci-key", "api_key", None, "detection_rule.update")
    assert change[4]["before"]["title"] == "Failed logon" and change[4]["after"]["title"] == "Renamed"
    assert change[4]["yaml_replaced"] is True
    assert delete[:4] == ("ci-key", "api_key", None, "detection_rule.delete")
    assert delete[4] == {"before": change[4]["after"]}
