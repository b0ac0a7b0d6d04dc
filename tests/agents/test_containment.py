"""Containment through approvals (issue #19): tools file approvals; approving runs the connector."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from test_agents_llm import THINK, ScriptedLLM, alert, answer, call, investigate, llm  # noqa: F401

from aurorasoc.agents.tools import TOOLS, ToolContext
from aurorasoc.agents.tools.containment import CONTAINMENT_TOOLS
from aurorasoc.core.auth import ROLE_PERMISSIONS
from aurorasoc.core.models import (
    AuditLogModel,
    CaseModel,
    ConnectorActionModel,
    HumanApprovalModel,
    TimelineEntryModel,
)
from aurorasoc.core.vocabulary import Role
from aurorasoc.soar.approvals import Decider
from aurorasoc.soar.default_actions import default_registry
from aurorasoc.soar.executions import ExecutionService

# ruff: noqa: F811  (the scripted-model fixtures are imported from test_agents_llm)
ANALYST = frozenset(ROLE_PERMISSIONS[Role.ANALYST])
ARGS: dict[str, dict[str, Any]] = {
    "isolate_endpoint": {"host": "WS-7"},
    "block_ip": {"ip": "198.51.100.23"},
    "disable_user": {"user": "CORP\\mallory"},
    "kill_process": {"host": "WS-7", "process": "C:\\Users\\m\\evil.exe"},
    "quarantine_file": {"host": "WS-7", "path": "C:\\Users\\m\\lsass.dmp"},
}


async def case_ctx(session) -> ToolContext:  # type: ignore[no-untyped-def]
    case = CaseModel(title="c", severity="high")
    session.add(case)
    await session.flush()
    return ToolContext(session, "agent:incident_responder", ANALYST, case_id=case.id)


def test_every_containment_tool_runs_a_registered_action():
    registry = default_registry()
    assert {t.name for t in CONTAINMENT_TOOLS} == set(ARGS)
    assert all(t.action in registry and t.gated for t in CONTAINMENT_TOOLS)  # type: ignore[attr-defined]


@pytest.mark.parametrize("tool", sorted(ARGS))
async def test_nothing_runs_until_approved_then_the_simulated_connector_does(db_session, tool):
    ctx = await case_ctx(db_session)
    filed = await TOOLS[tool].run(ctx, {**ARGS[tool], "justification": "LSASS dumped on WS-7"})
    assert filed["status"] == "approval_required" and filed["simulated"] is True, filed
    assert (await db_session.scalars(select(ConnectorActionModel))).all() == []
    approval_id = uuid.UUID(filed["approval_id"])
    approval = await ExecutionService(db_session).decide(
        approval_id, Decider("lead", Role.ADMIN), approve=True, comment="go"
    )
    assert approval.result["status"] == "completed", approval.result
    [ran] = (await db_session.scalars(select(ConnectorActionModel))).all()
    assert ran.simulated is True and ran.approval_id == approval_id and ran.status == "completed"
    timeline = (
        await db_session.scalars(select(TimelineEntryModel).where(TimelineEntryModel.case_id == ctx.case_id))
    ).all()
    assert any(e.action == "connector_action" and "(SIMULATED)" in e.details for e in timeline)
    audit = (await db_session.scalars(select(AuditLogModel.action))).all()
    assert {"approval.requested", "approval.approved"} <= set(audit)


async def test_private_addresses_are_never_blocked(db_session):
    ctx = await case_ctx(db_session)
    out = await TOOLS["block_ip"].run(ctx, {"ip": "10.1.2.3", "justification": "x"})
    assert out["error_code"] == "invalid_input" and "private" in out["error"]
    assert (await db_session.scalars(select(HumanApprovalModel))).all() == []


async def test_bundled_playbooks_can_be_proposed_before_import(db_session):
    ctx = await case_ctx(db_session)
    out = await TOOLS["list_playbooks"].run(ctx, {"technique": "T1204"})
    [found] = [p for p in out["playbooks"] if p["name"] == "malware-response"]
    assert found["imported"] is False and found["enabled"] is False


async def test_a_model_proposing_isolation_files_an_approval(llm: ScriptedLLM, db_session, alert):
    isolate = ("isolate_endpoint", {"host": "dc1", "justification": "4625 storm from 203.0.113.7"})
    llm.script = {
        "orchestrator": [THINK, call(("handoff_incident_responder", {"task": "contain"})), answer("x")],
        "incident_responder": [THINK, call(isolate), answer("isolation requested", verdict="malicious")],
    }
    investigation, events = await investigate(db_session, alert)
    [step] = [e.payload for e in events if e.event_type == "tool_call"]
    assert step["result"]["status"] == "approval_required" and step["result"]["action"] == "isolate_host"
    assert investigation.status == "review_required"  # a pending approval holds the outcome
    approval = await db_session.get(HumanApprovalModel, uuid.UUID(step["result"]["approval_id"]))
    assert (
        approval is not None
        and approval.status == "pending"
        and approval.investigation_id == investigation.id
    )
    assert (await db_session.scalars(select(ConnectorActionModel))).all() == []
