"""Tests for aurorasoc.soar.approvals and engine.policy: gates, decisions, expiry, case state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from soar_support import action_log, block, make_alert, playbook, step, store_playbook
from sqlalchemy import select

from aurorasoc.cases.service import CaseService
from aurorasoc.core.bus.base import BusMessage
from aurorasoc.core.bus.current import set_bus
from aurorasoc.core.bus.inprocess import InProcessBus
from aurorasoc.core.config import reset_settings
from aurorasoc.core.errors import Conflict, InvalidInput, PermissionDenied
from aurorasoc.core.models import AuditLogModel, ConnectorActionModel, HumanApprovalModel, TimelineEntryModel
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import ActionClass, Role, Severity
from aurorasoc.soar import policy
from aurorasoc.soar.approvals import (
    APPROVALS_STREAM,
    ApprovalRequest,
    ApprovalService,
    Decider,
    expire_due_approvals,
)
from aurorasoc.soar.executions import ExecutionService

ADMIN, ANALYST = Decider("admin", Role.ADMIN), Decider("analyst", Role.ANALYST)


@pytest.fixture
async def decisions() -> AsyncIterator[tuple[InProcessBus, list[BusMessage]]]:
    """A started in-process bus with a listener on ``decisions:approvals``."""
    bus, received = InProcessBus(max_deliveries=1, backoff_base=0), []

    async def listen(message: BusMessage) -> None:
        received.append(message)

    bus.subscribe(APPROVALS_STREAM, "test", listen)
    await bus.start()
    set_bus(bus)
    yield bus, received
    await bus.close()
    set_bus(None)


async def _gated_run(session, *, case: bool = True):  # type: ignore[no-untyped-def]
    """block_ip (no gate) → isolate_host (always gated) → notify; stops at the gate."""
    alert = await make_alert(session, affected_assets=["host:srv-9"], iocs=["192.0.2.77"])
    if case:
        await CaseService(session).create(
            title="gated", severity="high", actor="tester", alert_ids=[alert.id]
        )
    pb = await store_playbook(session, playbook(
        "gated",
        block("block", "{{ .alert.ips }}"),
        step("isolate", "isolate_host", "actuate", rollback_action="unisolate_host",
             parameters={"host": "{{ .alert.hosts }}"}),
        step("tell", "notify", "write_internal", parameters={"message": "contained"}),
    ))  # fmt: skip
    service = ExecutionService(session)
    execution = await service.execute(pb, actor="analyst", alert_id=alert.id)
    approval = await session.scalar(
        select(HumanApprovalModel).where(HumanApprovalModel.execution_id == execution.id)
    )
    return service, execution, approval


class TestPolicy:
    @pytest.mark.parametrize(
        ("action", "action_class", "critical", "required", "escalated", "risk"),
        [
            ("collect_forensics", ActionClass.READ, True, False, False, Severity.MEDIUM),
            ("notify", ActionClass.WRITE_INTERNAL, False, False, False, Severity.LOW),
            ("block_ip", ActionClass.WRITE_EXTERNAL, False, False, False, Severity.MEDIUM),
            ("block_ip", ActionClass.WRITE_EXTERNAL, True, True, False, Severity.HIGH),
            ("isolate_host", ActionClass.ACTUATE, False, True, False, Severity.HIGH),
            ("isolate_host", ActionClass.ACTUATE, True, True, False, Severity.CRITICAL),
            ("revoke_certificate", ActionClass.DESTRUCTIVE, False, True, True, Severity.CRITICAL),
        ],
    )
    def test_verdicts_follow_the_impact_table(
        self, action, action_class, critical, required, escalated, risk
    ):
        verdict = policy.evaluate(action, action_class, critical_asset=critical)
        assert (verdict.required, verdict.escalated, verdict.risk_level) == (required, escalated, risk)

    async def test_critical_asset_gates_a_medium_action(self, db_session):
        alert = await make_alert(db_session, iocs=["192.0.2.5"], metadata={"asset_criticality": "high"})
        pb = await store_playbook(db_session, playbook(
            "crit", block("block", "{{ .alert.ips }}"),
        ))  # fmt: skip
        execution = await ExecutionService(db_session).execute(pb, actor="analyst", alert_id=alert.id)
        approval = (await db_session.scalars(select(HumanApprovalModel))).one()
        assert execution.status == "awaiting_approval"
        assert (approval.risk_level, approval.target, approval.step_name) == ("high", "192.0.2.5", "block")


class TestGate:
    async def test_gate_pauses_the_run_and_holds_the_case(self, db_session, monkeypatch):
        monkeypatch.setenv("AURORA_APPROVAL_TTL_MINUTES", "5")
        reset_settings()
        _, execution, approval = await _gated_run(db_session)
        case = await CaseService(db_session).get(execution.case_id)

        assert execution.status == "awaiting_approval"
        assert [s["status"] for s in execution.steps] == ["completed", "awaiting_approval", "pending"]
        assert (approval.status, approval.ttl_seconds, approval.risk_level) == ("pending", 300, "high")
        assert timedelta(seconds=299) < approval.expires_at - utcnow() <= timedelta(seconds=300)
        assert (case.status, case.status_before_approval) == ("pending_approval", "open")
        assert await action_log(db_session, execution.id) == [("block_ip", "192.0.2.77")]
        audit = await db_session.scalar(
            select(AuditLogModel).where(AuditLogModel.action == "approval.requested")
        )
        assert audit.resource_id == str(approval.id)

    async def test_running_again_while_pending_keeps_waiting(self, db_session):
        service, execution, approval = await _gated_run(db_session)
        await service.executor.run(execution)
        assert execution.status == "awaiting_approval"
        assert (await db_session.scalars(select(HumanApprovalModel))).all() == [approval]
        assert await action_log(db_session, execution.id) == [("block_ip", "192.0.2.77")]

    async def test_approve_continues_and_releases_the_case(self, db_session, decisions):
        service, execution, approval = await _gated_run(db_session)
        await service.decide(approval.id, ANALYST, approve=True, comment="go")
        await db_session.commit()
        await service.publish()
        await decisions[0].join(APPROVALS_STREAM, "test")

        case = await CaseService(db_session).get(execution.case_id)
        assert execution.status == "completed"
        assert await action_log(db_session, execution.id) == [
            ("block_ip", "192.0.2.77"), ("isolate_host", "srv-9"), ("notify", "soc")
        ]  # fmt: skip
        assert (case.status, case.status_before_approval) == ("open", None)
        assert [m.data["type"] for m in decisions[1]] == ["approval.requested", "approval.approved"]
        isolate = await db_session.scalar(
            select(ConnectorActionModel).where(ConnectorActionModel.action == "isolate_host")
        )
        assert isolate.approval_id == approval.id

    async def test_reject_needs_a_comment(self, db_session):
        service, _, approval = await _gated_run(db_session)
        with pytest.raises(InvalidInput, match="needs a comment"):
            await service.decide(approval.id, ANALYST, approve=False, comment="  ")
        assert approval.status == "pending"

    async def test_reject_ends_the_execution_without_rollback(self, db_session):
        service, execution, approval = await _gated_run(db_session)
        await service.decide(approval.id, ANALYST, approve=False, comment="business hours only")

        assert (approval.status, approval.decision_comment) == ("rejected", "business hours only")
        assert execution.status == "rejected"
        assert [s["status"] for s in execution.steps] == ["completed", "skipped", "skipped"]
        assert await action_log(db_session, execution.id) == [("block_ip", "192.0.2.77")]  # no unblock
        entries = (await db_session.scalars(select(TimelineEntryModel.action))).all()
        assert "approval_decided" in entries

    async def test_deciding_twice_is_a_conflict(self, db_session):
        service, _, approval = await _gated_run(db_session)
        await service.decide(approval.id, ANALYST, approve=True, comment=None)
        with pytest.raises(Conflict) as again:
            await service.decide(approval.id, ADMIN, approve=False, comment="too late")
        assert again.value.code == "approval_not_pending"

    async def test_escalated_approvals_need_an_admin(self, db_session):
        pb = await store_playbook(db_session, playbook(
            "revoke", step("revoke", "revoke_certificate", "destructive", requires_approval=True,
                           rollback_action="none", parameters={"serial": "0A:1B"}),
        ))  # fmt: skip
        service = ExecutionService(db_session)
        execution = await service.execute(pb, actor="analyst")
        approval = (await db_session.scalars(select(HumanApprovalModel))).one()
        assert (approval.escalated, approval.risk_level) == (True, "critical")

        with pytest.raises(PermissionDenied):
            await service.decide(approval.id, ANALYST, approve=True, comment=None)
        await service.decide(approval.id, ADMIN, approve=True, comment=None)
        assert execution.status == "completed"
        assert await action_log(db_session, execution.id) == [("revoke_certificate", "0A:1B")]

    async def test_playbook_level_approval_comes_before_step_one(self, db_session):
        pb = await store_playbook(db_session, playbook(
            "whole", step("scan", "run_scan", "read", parameters={"host": "h9"}), requires_approval=True
        ))  # fmt: skip
        service = ExecutionService(db_session)
        execution = await service.execute(pb, actor="analyst")
        approval = (await db_session.scalars(select(HumanApprovalModel))).one()
        assert (execution.status, approval.action_type, approval.step_name) == (
            "awaiting_approval",
            "run_playbook",
            None,
        )
        assert await action_log(db_session) == []

        await service.decide(approval.id, ANALYST, approve=True, comment=None)
        assert execution.status == "completed"
        assert await action_log(db_session) == [("run_scan", "h9")]

    async def test_approving_a_standalone_request_runs_the_stored_action(self, db_session):
        approvals = ApprovalService(db_session)
        approval = await approvals.request(
            ApprovalRequest(action_type="disable_user", requested_by="identity_agent",
                            action_params={"user": "mallory"}, risk_level=Severity.HIGH, target="mallory")
        )  # fmt: skip
        await ExecutionService(db_session).decide(approval.id, ANALYST, approve=True, comment=None)
        assert approval.result["status"] == "completed"
        assert await action_log(db_session) == [("disable_user", "mallory")]


class TestExpiry:
    async def test_expired_approval_rejects_the_execution(self, db_session, decisions):
        service, execution, approval = await _gated_run(db_session)
        await db_session.commit()
        await service.publish()

        assert (await expire_due_approvals(db_session, utcnow())).outbox == []  # nothing due yet
        expiry = await expire_due_approvals(db_session, approval.expires_at + timedelta(seconds=1))
        await db_session.commit()
        await expiry.publish()
        await decisions[0].join(APPROVALS_STREAM, "test")

        case = await CaseService(db_session).get(execution.case_id)
        assert approval.status == "expired"
        assert execution.status == "rejected" and execution.error == "approval expired"
        assert [s["status"] for s in execution.steps] == ["completed", "skipped", "skipped"]
        assert case.status == "open"
        assert decisions[1][-1].data["type"] == "approval.expired"
        audit = await db_session.scalar(
            select(AuditLogModel).where(AuditLogModel.action == "approval.expired")
        )
        assert audit.actor == "system"
        entries = (await db_session.scalars(select(TimelineEntryModel.action))).all()
        assert "approval_expired" in entries

    async def test_an_overdue_approval_cannot_be_decided(self, db_session):
        service, _, approval = await _gated_run(db_session, case=False)
        approval.expires_at = utcnow() - timedelta(seconds=1)
        with pytest.raises(Conflict) as late:
            await service.decide(approval.id, ADMIN, approve=True, comment=None)
        assert late.value.code == "approval_expired"
