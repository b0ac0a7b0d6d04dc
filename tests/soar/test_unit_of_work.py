"""The SOAR services own their unit of work: write, audit row, commit and event happen together.

Each test calls the service method the API, CLI and agent tools share, then checks the row, the
audit entry naming the acting principal, that nothing is left uncommitted, and the published event.
``preview=True`` must write nothing and describe exactly the run it stands for.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import yaml
from soar_support import block, make_alert, playbook, step
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.actor import Actor
from aurorasoc.core.bus.base import BusMessage
from aurorasoc.core.bus.current import set_bus
from aurorasoc.core.bus.inprocess import InProcessBus
from aurorasoc.core.errors import InvalidInput, NotFound
from aurorasoc.core.models import (
    AuditLogModel,
    AutomationRuleModel,
    PlaybookExecutionModel,
    PlaybookModel,
)
from aurorasoc.core.vocabulary import Role
from aurorasoc.soar.approvals import APPROVALS_STREAM, Decider
from aurorasoc.soar.automation import RuleDefinition
from aurorasoc.soar.automation_rules import AutomationRuleService
from aurorasoc.soar.executions import ExecutionService
from aurorasoc.soar.playbook import PlaybookValidationError
from aurorasoc.soar.playbooks import PlaybookService
from aurorasoc.soar.schemas import ExecuteBody

ANALYST = Actor("analyst", "user", "198.51.100.7")
KEY = Actor("ci-key", "api_key", None)


Delivered = Callable[[], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
async def events() -> AsyncIterator[Delivered]:
    """Everything published on ``decisions:approvals`` so far, once the in-process bus delivered it."""
    bus, received = InProcessBus(max_deliveries=1, backoff_base=0), []

    async def listen(message: BusMessage) -> None:
        received.append(message.data)

    async def delivered() -> list[dict[str, Any]]:
        await bus.join(APPROVALS_STREAM, "uow-test")
        return received

    bus.subscribe(APPROVALS_STREAM, "uow-test", listen)
    await bus.start()
    set_bus(bus)
    yield delivered
    await bus.close()
    set_bus(None)


async def _audit_rows(
    session: AsyncSession, *actions: str
) -> list[tuple[str, str, str | None, str, str | None]]:
    """Audit rows (of ``actions`` if given), oldest first."""
    stmt = select(AuditLogModel).order_by(AuditLogModel.timestamp)
    if actions:
        stmt = stmt.where(AuditLogModel.action.in_(actions))
    return [(r.actor, r.actor_type, r.ip, r.action, r.resource_id) for r in await session.scalars(stmt)]


async def _count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _yaml(name: str, *steps: dict[str, object]) -> str:
    return yaml.safe_dump(playbook(name, *steps))


GATED = (
    block("block", "{{ .alert.ips }}"),
    step("isolate", "isolate_host", "actuate", rollback_action="unisolate_host",
         parameters={"host": "{{ .alert.hosts }}"}),
    step("tell", "notify", "write_internal", parameters={"message": "contained"}),
)  # fmt: skip


class TestPlaybooks:
    async def test_add_stores_audits_and_commits(self, any_db_session: AsyncSession) -> None:
        playbook_row = await PlaybookService(any_db_session).add(_yaml("uow-add", *GATED[:1]), actor=ANALYST)
        assert not any_db_session.in_transaction()  # committed by the service
        assert (playbook_row.name, playbook_row.version, playbook_row.created_by) == ("uow-add", 1, "analyst")
        assert playbook_row.source_yaml == _yaml("uow-add", *GATED[:1])
        details = (await any_db_session.scalars(select(AuditLogModel))).one().details
        assert await _audit_rows(any_db_session) == [
            ("analyst", "user", "198.51.100.7", "playbook.create", str(playbook_row.id))
        ]
        assert details == {"name": "uow-add", "version": 1}

    async def test_invalid_source_writes_nothing(self, any_db_session: AsyncSession) -> None:
        with pytest.raises(PlaybookValidationError):
            await PlaybookService(any_db_session).add("name: broken\nsteps: []\n", actor=ANALYST)
        assert await _count(any_db_session, PlaybookModel) == 0
        assert await _audit_rows(any_db_session) == []

    async def test_replace_and_remove_are_audited_by_the_actor(self, any_db_session: AsyncSession) -> None:
        service = PlaybookService(any_db_session)
        stored = await service.add(_yaml("uow-rep", *GATED[:1]), actor=ANALYST)
        changed = await service.replace(stored.id, _yaml("uow-rep", *GATED[:2]), actor=KEY)
        assert not any_db_session.in_transaction()
        assert changed.version == 2 and len(changed.definition["steps"]) == 2
        await service.remove(stored.id, actor=KEY)
        assert not any_db_session.in_transaction()
        assert await _count(any_db_session, PlaybookModel) == 0
        assert [row[:4] for row in await _audit_rows(any_db_session)] == [
            ("analyst", "user", "198.51.100.7", "playbook.create"),
            ("ci-key", "api_key", None, "playbook.update"),
            ("ci-key", "api_key", None, "playbook.delete"),
        ]
        with pytest.raises(NotFound):
            await service.remove(stored.id, actor=KEY)


class TestRuns:
    async def _gated(self, session: AsyncSession) -> tuple[uuid.UUID, ExecuteBody]:
        alert = await make_alert(session, affected_assets=["host:srv-9"], iocs=["192.0.2.77"])
        stored = await PlaybookService(session).add(_yaml("uow-gated", *GATED), actor=ANALYST)
        return stored.id, ExecuteBody(alert_id=alert.id)

    async def test_run_executes_audits_commits_and_publishes(
        self, any_db_session: AsyncSession, events: Delivered
    ) -> None:
        playbook_id, body = await self._gated(any_db_session)
        outcome = await ExecutionService(any_db_session).run(playbook_id, body, actor=ANALYST)
        assert not any_db_session.in_transaction()
        execution = outcome.execution
        assert execution is not None and execution.status == "awaiting_approval"
        assert execution.triggered_by == "analyst"
        assert await _audit_rows(any_db_session, "playbook.execute") == [
            ("analyst", "user", "198.51.100.7", "playbook.execute", str(playbook_id))
        ]
        published = await events()
        assert [m["type"] for m in published] == ["approval.requested"]
        assert published[0]["execution_id"] == str(execution.id)

    async def test_preview_writes_nothing_and_matches_the_run(
        self, any_db_session: AsyncSession, events: Delivered
    ) -> None:
        playbook_id, body = await self._gated(any_db_session)
        audit_before = await _audit_rows(any_db_session)
        service = ExecutionService(any_db_session)
        preview = await service.run(playbook_id, body, actor=ANALYST, preview=True)
        assert preview.execution is None
        assert await _count(any_db_session, PlaybookExecutionModel) == 0
        assert await _audit_rows(any_db_session) == audit_before and await events() == []

        real = await service.run(playbook_id, body, actor=ANALYST)
        assert [(e["step"], e["action"]) for e in preview.effects] == [
            (s["name"], s["action"]) for s in real.effects
        ]
        gate = next(e["step"] for e in preview.effects if e["requires_approval"])
        waiting = next(s["name"] for s in real.effects if s["status"] == "awaiting_approval")
        assert gate == waiting == "isolate"

    async def test_cancel_and_resolve_own_their_transaction(
        self, any_db_session: AsyncSession, events: Delivered
    ) -> None:
        playbook_id, body = await self._gated(any_db_session)
        service = ExecutionService(any_db_session)
        first = (await service.run(playbook_id, body, actor=ANALYST)).execution
        assert first is not None
        cancelled = await service.cancel(first.id, actor=KEY)
        assert not any_db_session.in_transaction()
        assert cancelled.status == "cancelled"
        assert await _audit_rows(any_db_session, "execution.cancel") == [
            ("ci-key", "api_key", None, "execution.cancel", str(first.id))
        ]
        published = await events()
        assert [m["type"] for m in published] == ["approval.requested", "approval.rejected"]

        second = (await service.run(playbook_id, body, actor=ANALYST)).execution
        assert second is not None
        approval_id = uuid.UUID((await events())[-1]["approval_id"])
        approval = await service.resolve(
            approval_id, Decider("lead", Role.ADMIN, "user", "203.0.113.5"), approve=True, comment="go"
        )
        assert not any_db_session.in_transaction()
        assert approval.status == "approved" and second.status == "completed"
        assert (await events())[-1]["type"] == "approval.approved"


class TestAutomationRules:
    async def test_add_change_remove(self, any_db_session: AsyncSession) -> None:
        service = AutomationRuleService(any_db_session)
        definition = RuleDefinition.model_validate({"name": "uow-rule", "action": "create_case"})
        rule = await service.add(definition, actor=ANALYST)
        assert not any_db_session.in_transaction() and rule.created_by == "analyst"
        changed = await service.change(rule.id, {"enabled": False}, actor=KEY)
        assert not any_db_session.in_transaction() and changed.enabled is False
        with pytest.raises(InvalidInput) as bad:
            await service.change(rule.id, {"priority": "first"}, actor=KEY)
        assert bad.value.code == "invalid_rule"
        await any_db_session.rollback()
        await service.remove(rule.id, actor=KEY)
        assert await _count(any_db_session, AutomationRuleModel) == 0
        rows = await _audit_rows(any_db_session)
        assert [(r[0], r[3]) for r in rows] == [
            ("analyst", "automation_rule.create"),
            ("ci-key", "automation_rule.update"),
            ("ci-key", "automation_rule.delete"),
        ]
        details = [r.details for r in await any_db_session.scalars(select(AuditLogModel))]
        assert details[1] == {"name": "uow-rule", "action": "create_case", "enabled": False}
