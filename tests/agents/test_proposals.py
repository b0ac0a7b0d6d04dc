"""POST /investigations/{id}/proposals: an analyst files a containment the investigation proposed."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from aurorasoc.agents.models import InvestigationModel
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AuditLogModel, CaseModel, ConnectorActionModel, TimelineEntryModel

PROPOSED = [
    {"action": "isolate_endpoint", "target": "PC04.example.corp", "requires_approval": True},
    {"action": "execute_playbook", "playbook": "malware-response", "requires_approval": True},
]


async def _investigation() -> tuple[uuid.UUID, uuid.UUID]:
    async with session_scope() as session:
        case = CaseModel(title="LSASS read on PC04", severity="high")
        session.add(case)
        await session.flush()
        inv = InvestigationModel(
            task_id=uuid.uuid4().hex,
            agent="orchestrator",
            prompt="investigate",
            requested_by="analyst",
            case_id=case.id,
            status="completed",
            result={"summary": "procdump read lsass", "verdict": "malicious", "proposed_actions": PROPOSED},
        )
        session.add(inv)
        await session.flush()
        return inv.id, case.id


async def test_a_proposed_isolation_is_filed_then_runs_once_approved(client, role_headers):
    inv_id, case_id = await _investigation()
    url = f"/api/v1/investigations/{inv_id}/proposals"
    body = {"action": "isolate_endpoint", "target": "PC04.example.corp"}
    filed = await client.post(url, json=body, headers=role_headers["analyst"])
    assert filed.status_code == 201, filed.text
    approval = filed.json()
    assert (approval["status"], approval["target"], approval["action_type"]) == (
        "pending",
        "PC04.example.corp",
        "isolate_host",
    )
    assert approval["case_id"] == str(case_id) and approval["investigation_id"] == str(inv_id)
    again = await client.post(url, json=body, headers=role_headers["analyst"])
    assert again.status_code == 409 and again.json()["detail"]["code"] == "already_requested"

    decided = await client.post(
        f"/api/v1/approvals/{approval['id']}/approve", json={"comment": "go"}, headers=role_headers["admin"]
    )
    assert decided.status_code == 200 and decided.json()["result"]["status"] == "completed", decided.text
    async with session_scope() as session:
        [ran] = (await session.scalars(select(ConnectorActionModel))).all()
        timeline = (
            await session.scalars(select(TimelineEntryModel).where(TimelineEntryModel.case_id == case_id))
        ).all()
        audit = set((await session.scalars(select(AuditLogModel.action))).all())
    assert (ran.action, ran.target, ran.simulated) == ("isolate_host", "PC04.example.corp", True)
    assert any(e.action == "connector_action" and "(SIMULATED)" in e.details for e in timeline)
    assert {"approval.requested", "approval.approved"} <= audit


async def test_only_what_was_proposed_and_only_with_permission(client, role_headers):
    inv_id, _ = await _investigation()
    url = f"/api/v1/investigations/{inv_id}/proposals"
    other_host = await client.post(
        url, json={"action": "isolate_endpoint", "target": "DC01"}, headers=role_headers["analyst"]
    )
    not_a_tool = await client.post(
        url, json={"action": "execute_playbook", "target": "x"}, headers=role_headers["analyst"]
    )
    proposed = {"action": "isolate_endpoint", "target": "PC04.example.corp"}
    viewer = await client.post(url, json=proposed, headers=role_headers["viewer"])
    assert other_host.status_code == 400 and other_host.json()["detail"]["code"] == "not_proposed"
    assert not_a_tool.status_code == 422
    assert viewer.status_code == 403
    async with session_scope() as session:
        assert (await session.scalars(select(ConnectorActionModel))).all() == []
