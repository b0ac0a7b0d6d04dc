"""Tests for aurorasoc.soar.executor: showcase runs, rollback, timeouts, previews, modes, restarts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from soar_support import action_log, block, make_alert, playbook, step, store_playbook
from sqlalchemy import select

from aurorasoc.cases.service import CaseService
from aurorasoc.core import runtime
from aurorasoc.core.errors import Conflict
from aurorasoc.core.models import (
    ConnectorActionModel,
    HumanApprovalModel,
    PlaybookExecutionModel,
    TimelineEntryModel,
)
from aurorasoc.core.vocabulary import Role
from aurorasoc.soar.actions import ActionContext, ActionRegistry
from aurorasoc.soar.approvals import Decider
from aurorasoc.soar.builtin_actions import register_builtins
from aurorasoc.soar.connectors.base import ConnectorError
from aurorasoc.soar.connectors.registry import ConnectorRegistry
from aurorasoc.soar.connectors.simulated import SimulatedConnector
from aurorasoc.soar.executions import INTERRUPTED, ExecutionService, recover_interrupted
from aurorasoc.soar.playbooks import PlaybookService

ADMIN = Decider("admin", Role.ADMIN)

# Each showcase playbook against an alert shaped like its trigger, with the connector calls it must make.
SHOWCASE_RUNS: dict[str, tuple[dict[str, Any], list[tuple[str, str]]]] = {
    "malware-response": (
        {"title": "Emotet beacon", "affected_assets": ["host:web-01"], "iocs": ["203.0.113.7"]},
        [("isolate_host", "web-01"), ("run_scan", "web-01"), ("block_ip", "203.0.113.7"), ("notify", "soc")],
    ),
    "phishing-response": (
        {"title": "Phish", "affected_assets": ["user:alice"], "iocs": ["198.51.100.23", "evil.example.com"]},
        [("block_ip", "198.51.100.23"), ("notify", "users"), ("notify", "soc")],
    ),
    "ransomware-emergency": (
        {"title": "Mass encryption", "severity": "critical", "affected_assets": ["host:fs-01", "host:fs-02"]},
        [
            ("isolate_host", "fs-01"), ("isolate_host", "fs-02"), ("collect_forensics", "fs-01"),
            ("collect_forensics", "fs-02"), ("collect_forensics", "fs-01"), ("collect_forensics", "fs-02"),
            ("notify", "executive"),
        ],
    ),
    "brute-force-mitigation": (
        {"title": "SSH brute force", "affected_assets": ["host:vpn-01", "user:bob"], "iocs": ["192.0.2.44"]},
        [("block_ip", "192.0.2.44"), ("disable_user", "bob"), ("run_scan", "vpn-01"), ("notify", "soc")],
    ),
    "data-exfiltration": (
        {"title": "Large upload to rare host", "affected_assets": ["host:db-01"], "iocs": ["203.0.113.99"]},
        [("block_ip", "203.0.113.99"), *[("collect_forensics", "db-01")] * 2, ("notify", "soc")],
    ),
    "cps-anomaly": (
        {"title": "Attestation failed", "asset_type": "cps_controller", "affected_assets": ["device:gw_01"]},
        [("isolate_host", "gw_01"), ("run_scan", "gw_01"), ("run_scan", "gw_01"), ("notify", "ot")],
    ),
}  # fmt: skip


class FailingCapture:
    """A pcap connector that always fails: the step that uses it must trigger rollback."""

    name, simulated = "broken-pcap", False

    async def capture(self, interface: str, duration_s: int, bpf: str) -> dict[str, Any]:
        raise ConnectorError("capture appliance unreachable", interface=interface)


class StickyFirewall(SimulatedConnector):
    """Blocks fine, cannot unblock: rollback itself fails."""

    name = "sticky-firewall"

    async def unblock_ip(self, ip: str, reason: str) -> dict[str, Any]:
        raise ConnectorError(f"rule for {ip} is locked")


async def _capture(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    return await ctx.call("pcap", "capture", "eth0", interface="eth0", duration_s=10, bpf="host 10.0.0.1")


async def _hang(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    await asyncio.Event().wait()
    return {}


async def _probe(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    """Reads what the database holds for this execution while the step runs."""
    stored = await ctx.session.scalar(
        select(PlaybookExecutionModel.steps).where(PlaybookExecutionModel.id == ctx.execution_id)
    )
    return {"seen": [s["status"] for s in stored]}


@pytest.fixture
def registry() -> ActionRegistry:
    reg = ActionRegistry()
    register_builtins(reg)
    reg.register(
        "capture_traffic",
        _capture,
        action_class="read",
        reversible=False,
        rollback_action=None,
        connector="pcap",
    )
    reg.register("hang", _hang, action_class="read", reversible=False, rollback_action=None, connector="edr")
    reg.register(
        "probe", _probe, action_class="read", reversible=False, rollback_action=None, connector="internal"
    )
    return reg


@pytest.fixture
def connectors() -> ConnectorRegistry:
    return ConnectorRegistry({"pcap": FailingCapture()})


def _service(session, registry, connectors) -> ExecutionService:  # type: ignore[no-untyped-def]
    return ExecutionService(session, registry=registry, connectors=connectors)


class TestShowcasePlaybooks:
    @pytest.mark.parametrize("name", sorted(SHOWCASE_RUNS))
    async def test_runs_end_to_end_against_a_real_alert(self, name, any_db_session):
        alert_fields, expected_calls = SHOWCASE_RUNS[name]
        await PlaybookService(any_db_session).import_showcase(actor="tester")
        pb = await PlaybookService(any_db_session).by_name(name)
        repeats = 5 if name == "brute-force-mitigation" else 1  # its trigger is ≥ 5 failed logins
        for _ in range(repeats):
            alert = await make_alert(any_db_session, **alert_fields)
        case = await CaseService(any_db_session).create(
            title=name, severity="high", actor="tester", alert_ids=[alert.id]
        )
        service = ExecutionService(any_db_session)

        execution = await service.execute(pb, actor="analyst", alert_id=alert.id)
        approvals = 0
        while execution.status == "awaiting_approval":
            pending = await any_db_session.scalar(
                select(HumanApprovalModel).where(
                    HumanApprovalModel.execution_id == execution.id, HumanApprovalModel.status == "pending"
                )
            )
            assert case.status == "pending_approval"
            await service.decide(pending.id, ADMIN, approve=True, comment=None)
            approvals += 1

        assert execution.status == "completed", execution.error
        assert execution.case_id == case.id
        assert await action_log(any_db_session, execution.id) == expected_calls
        assert approvals == (0 if name == "phishing-response" else 1)
        assert case.status == "open"  # back to where it was before the approval
        rows = (await any_db_session.scalars(select(ConnectorActionModel))).all()
        assert all(r.simulated and r.status == "completed" for r in rows)
        actions = set(
            (
                await any_db_session.scalars(
                    select(TimelineEntryModel.action).where(TimelineEntryModel.case_id == case.id)
                )
            ).all()
        )
        assert {"playbook_started", "playbook_step", "connector_action", "playbook_completed"} <= actions


class TestRollback:
    async def test_failed_step_rolls_back_completed_reversible_steps_in_reverse(
        self, db_session, registry, connectors
    ):
        alert = await make_alert(
            db_session, affected_assets=["host:ws-7"], iocs=["203.0.113.1", "203.0.113.2"]
        )
        pb = await store_playbook(db_session, playbook(
            "rollback-order",
            block("block_first", "203.0.113.1"),
            block("block_second", "203.0.113.2"),
            step("scan", "run_scan", "read", parameters={"host": "{{ .alert.hosts }}"}),
            step("capture", "capture_traffic", "read"),
            step("never", "notify", "write_internal", parameters={"message": "unreachable"}),
        ), registry)  # fmt: skip

        execution = await _service(db_session, registry, connectors).execute(
            pb, actor="analyst", alert_id=alert.id
        )

        assert execution.status == "failed"
        assert "step capture failed: capture appliance unreachable" in execution.error
        assert await action_log(db_session, execution.id) == [
            ("block_ip", "203.0.113.1"), ("block_ip", "203.0.113.2"), ("run_scan", "ws-7"),
            ("capture", "eth0"), ("unblock_ip", "203.0.113.2"), ("unblock_ip", "203.0.113.1"),
        ]  # fmt: skip
        statuses = {s["name"]: s["status"] for s in execution.steps}
        assert statuses == {
            "block_first": "rolled_back", "block_second": "rolled_back", "scan": "completed",
            "capture": "failed", "never": "skipped",
        }  # fmt: skip
        failed = await db_session.scalar(
            select(ConnectorActionModel).where(ConnectorActionModel.status == "failed")
        )
        assert failed.connector == "broken-pcap" and failed.simulated is False

    async def test_failing_rollback_reports_both_errors(self, db_session, registry):
        connectors = ConnectorRegistry({"pcap": FailingCapture(), "firewall": StickyFirewall()})
        pb = await store_playbook(db_session, playbook(
            "sticky",
            block("block", "192.0.2.9"),
            step("capture", "capture_traffic", "read"),
        ), registry)  # fmt: skip

        execution = await _service(db_session, registry, connectors).execute(pb, actor="analyst")

        assert execution.status == "failed"
        assert (
            "step capture failed" in execution.error
            and "rollback of block failed: rule for 192.0.2.9 is locked" in execution.error
        )
        assert (
            execution.steps[0]["status"] == "completed"
            and "locked" in execution.steps[0]["rollback"]["error"]
        )

    async def test_timeout_fails_the_step(self, db_session, registry, connectors):
        pb = await store_playbook(db_session, playbook(
            "slow",
            block("block", "192.0.2.1"),
            step("wait_forever", "hang", "read", timeout=1),
        ), registry)  # fmt: skip

        execution = await _service(db_session, registry, connectors).execute(pb, actor="analyst")

        assert execution.steps[1]["error"] == "timed out after 1s"
        assert await action_log(db_session, execution.id) == [
            ("block_ip", "192.0.2.1"),
            ("unblock_ip", "192.0.2.1"),
        ]

    async def test_missing_template_path_fails_at_run_time(self, db_session, registry, connectors):
        pb = await store_playbook(db_session, playbook(
            "no-alert", step("scan", "run_scan", "read", parameters={"host": "{{ .alert.hosts }}"})
        ), registry)  # fmt: skip

        execution = await _service(db_session, registry, connectors).execute(pb, actor="analyst")

        assert execution.status == "failed"
        assert ".alert.hosts does not exist" in execution.steps[0]["error"]


class TestSemantics:
    async def test_false_condition_skips_and_later_conditions_see_it(self, db_session, registry, connectors):
        alert = await make_alert(db_session, severity="low", affected_assets=["host:h1"])
        pb = await store_playbook(db_session, playbook(
            "guarded",
            step("only_high", "run_scan", "read", condition="alert.severity in ['high', 'critical']",
                 parameters={"host": "h1"}),
            step("fallback", "collect_forensics", "read", condition="previous.only_high.status == 'skipped'",
                 parameters={"host": "{{ .alert.hosts }}"}),
        ), registry)  # fmt: skip

        execution = await _service(db_session, registry, connectors).execute(
            pb, actor="analyst", alert_id=alert.id
        )

        assert [s["status"] for s in execution.steps] == ["skipped", "completed"]
        assert await action_log(db_session, execution.id) == [("collect_forensics", "h1")]

    async def test_each_step_is_persisted_before_the_next_runs(self, db_session, registry, connectors):
        pb = await store_playbook(db_session, playbook(
            "persisted",
            step("first", "run_scan", "read", parameters={"host": "h2"}),
            step("look", "probe", "read"),
        ), registry)  # fmt: skip

        execution = await _service(db_session, registry, connectors).execute(pb, actor="analyst")

        assert execution.steps[1]["output"] == {"seen": ["completed", "running"]}

    async def test_preview_reports_effects_without_calling_connectors(self, db_session, registry, connectors):
        alert = await make_alert(db_session, affected_assets=["host:h3"], iocs=["192.0.2.50"])
        pb = await store_playbook(db_session, playbook(
            "preview-me",
            block("block", "{{ .alert.ips }}"),
            step("isolate", "isolate_host", "actuate", rollback_action="unisolate_host",
                 condition="alert.severity == 'critical'", parameters={"host": "{{ .alert.hosts }}"}),
        ), registry)  # fmt: skip

        effects = await _service(db_session, registry, connectors).preview(
            pb, actor="analyst", alert_id=alert.id
        )

        assert [(e["step"], e["would"]) for e in effects] == [("block", "completed"), ("isolate", "skipped")]
        assert effects[0]["parameters"]["ip"] == ["192.0.2.50"]
        assert effects[1]["requires_approval"] is True and effects[1]["risk_level"] == "high"
        assert await action_log(db_session) == []
        assert (
            await db_session.scalars(select(PlaybookExecutionModel))
        ).all() == []  # real mode: nothing stored

    @pytest.mark.parametrize("mode", ["dry_run", "dummy"])
    async def test_non_real_modes_refuse_a_run(self, mode, db_session, registry, connectors):
        pb = await store_playbook(
            db_session, playbook("refused", step("scan", "run_scan", "read", parameters={"host": "h"}))
        )
        runtime.set_mode(mode)
        try:
            with pytest.raises(Conflict) as refused:
                await _service(db_session, registry, connectors).execute(pb, actor="analyst")
        finally:
            runtime.reset_mode()
        assert refused.value.code == "mode_blocks_mutation"
        assert await action_log(db_session) == []

    async def test_dry_run_preview_is_stored_as_a_preview_execution(self, db_session, registry, connectors):
        pb = await store_playbook(
            db_session, playbook("dry", step("scan", "run_scan", "read", parameters={"host": "h"}))
        )
        runtime.set_mode("dry_run")
        try:
            await _service(db_session, registry, connectors).preview(pb, actor="analyst")
        finally:
            runtime.reset_mode()
        stored = (await db_session.scalars(select(PlaybookExecutionModel))).one()
        assert stored.preview is True and stored.steps[0]["would"] == "completed"
        assert await action_log(db_session) == []


class TestRestart:
    async def test_interrupted_running_execution_is_marked_failed(self, db_session):
        pb = await store_playbook(db_session, playbook(
            "crashy",
            step("a", "run_scan", "read", parameters={"host": "h"}),
            step("b", "run_scan", "read", parameters={"host": "h"}),
            step("c", "notify", "write_internal", parameters={"message": "done"}),
        ))  # fmt: skip
        statuses = ["completed", "running", "pending"]
        steps = [
            {"name": n, "action": "run_scan", "status": st} for n, st in zip("abc", statuses, strict=True)
        ]
        crashed = PlaybookExecutionModel(
            playbook_id=pb.id, playbook_name=pb.name, playbook_version=1, status="running", steps=steps
        )
        waiting = PlaybookExecutionModel(
            playbook_id=pb.id, playbook_name=pb.name, playbook_version=1, status="awaiting_approval", steps=[]
        )
        db_session.add_all([crashed, waiting])
        await db_session.commit()

        recovered = await recover_interrupted(db_session)

        assert recovered == [crashed]
        assert crashed.status == "failed" and crashed.error == INTERRUPTED
        assert [s["status"] for s in crashed.steps] == ["completed", "failed", "skipped"]
        assert waiting.status == "awaiting_approval"
        assert await action_log(db_session) == []  # nothing actuated at start-up
