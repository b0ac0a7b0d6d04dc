"""Tests for the /api/v1/approvals routes: decisions through HTTP, permissions, modes, audit."""

from __future__ import annotations

import textwrap
import uuid

import pytest
from sqlalchemy import select

from aurorasoc.core import runtime
from aurorasoc.core.config import reset_settings
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AuditLogModel, CaseModel

CONTAIN = textwrap.dedent(
    """\
    name: contain
    description: Isolate the alert's hosts (always needs approval), then notify.
    severity_filter: high
    enabled: true
    requires_approval: false
    steps:
      - name: isolate
        action: isolate_host
        action_class: actuate
        parameters: {host: "{{ .alert.hosts }}"}
        timeout: 30
        rollback_action: unisolate_host
      - name: tell
        action: notify
        action_class: write_internal
        parameters: {message: "isolated {{ .alert.hosts }}"}
        timeout: 10
    """
)
REVOKE = textwrap.dedent(
    """\
    name: revoke-cert
    description: Revoke a leaked certificate (irreversible).
    severity_filter: critical
    enabled: true
    requires_approval: false
    steps:
      - name: revoke
        action: revoke_certificate
        action_class: destructive
        requires_approval: true
        parameters: {serial: "{{ .params.serial }}"}
        timeout: 30
        rollback_action: none
    """
)


@pytest.fixture(autouse=True)
def _no_auto_case_for_a_lone_alert(monkeypatch: pytest.MonkeyPatch) -> None:
    """The alert pipeline runs beside the test and, at its default floor (high), opens an ``open``
    case for the test's lone high alert: whenever it ran before the promotion, the promotion got a
    409 and the run used that case (seen on the PostgreSQL lane as a case released to ``open``)."""
    monkeypatch.setenv("AURORA_AUTO_CASE_MIN_SEVERITY", "critical")
    reset_settings()


async def _waiting(client, headers, text: str = CONTAIN, body: dict | None = None) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    """Create the playbook, run it (with a real alert in a case) and return (execution, its approval)."""
    created = await client.post(
        "/api/v1/playbooks", content=text, headers={**headers, "Content-Type": "text/yaml"}
    )
    if body is None:
        alert = await client.post(
            "/api/v1/alerts", headers=headers,
            json={"title": "Worm", "source": "edr", "severity": "high", "affected_assets": ["host:pc-1"]},
        )  # fmt: skip
        promoted = await client.post(f"/api/v1/alerts/{alert.json()['id']}/promote", json={}, headers=headers)
        assert promoted.status_code == 201, promoted.text
        body = {"alert_id": alert.json()["id"]}
    run = await client.post(f"/api/v1/playbooks/{created.json()['id']}/execute", json=body, headers=headers)
    assert run.json()["status"] == "awaiting_approval", run.text
    approvals = await client.get("/api/v1/approvals", params={"status": "pending"}, headers=headers)
    return run.json(), approvals.json()["items"][0]


class TestDecisions:
    async def test_approve_continues_the_execution_and_releases_the_case(
        self, client, admin_headers, role_headers
    ):
        execution, approval = await _waiting(client, admin_headers)
        async with session_scope() as session:
            case = await session.get(CaseModel, uuid.UUID(execution["case_id"]))
        assert (case.status, approval["risk_level"], approval["target"]) == (
            "pending_approval",
            "high",
            "pc-1",
        )

        resp = await client.post(
            f"/api/v1/approvals/{approval['id']}/approve",
            json={"comment": "ok"},
            headers=role_headers["analyst"],
        )
        assert resp.status_code == 200, resp.text
        assert (resp.json()["status"], resp.json()["decided_by"]) == ("approved", "analyst")
        after = await client.get(f"/api/v1/executions/{execution['id']}", headers=admin_headers)
        assert after.json()["status"] == "completed"
        async with session_scope() as session:
            case = await session.get(CaseModel, uuid.UUID(execution["case_id"]))
            audit = (
                await session.scalars(
                    select(AuditLogModel.action).where(AuditLogModel.resource_type == "approval")
                )
            ).all()
        assert case.status == "in_progress"  # promoted cases start in_progress
        assert audit == ["approval.requested", "approval.approved"]
        detail = (await client.get(f"/api/v1/cases/{execution['case_id']}", headers=admin_headers)).json()
        assert [(a["id"], a["status"]) for a in detail["approvals"]] == [(approval["id"], "approved")]
        assert [(e["id"], e["status"]) for e in detail["executions"]] == [(execution["id"], "completed")]

    async def test_reject_needs_a_comment_and_stops_the_run(self, client, admin_headers):
        execution, approval = await _waiting(client, admin_headers)
        url = f"/api/v1/approvals/{approval['id']}/reject"
        missing = await client.post(url, json={}, headers=admin_headers)
        rejected = await client.post(url, json={"comment": "wrong host"}, headers=admin_headers)
        again = await client.post(f"/api/v1/approvals/{approval['id']}/approve", headers=admin_headers)

        assert missing.status_code == 400 and missing.json()["detail"]["code"] == "comment_required"
        assert (rejected.json()["status"], rejected.json()["decision_comment"]) == ("rejected", "wrong host")
        assert again.status_code == 409 and again.json()["detail"]["code"] == "approval_not_pending"
        after = (await client.get(f"/api/v1/executions/{execution['id']}", headers=admin_headers)).json()
        assert after["status"] == "rejected" and [s["status"] for s in after["steps"]] == [
            "skipped",
            "skipped",
        ]

    async def test_escalated_approval_is_admin_only(self, client, admin_headers, role_headers):
        _, approval = await _waiting(client, admin_headers, REVOKE, {"parameters": {"serial": "7F:00:01"}})
        assert approval["escalated"] is True and approval["risk_level"] == "critical"
        url = f"/api/v1/approvals/{approval['id']}/approve"
        analyst = await client.post(url, headers=role_headers["analyst"])
        admin = await client.post(url, headers=admin_headers)
        assert analyst.status_code == 403 and analyst.json()["detail"]["code"] == "escalated_approval"
        assert admin.status_code == 200
        log = await client.get("/api/v1/connectors/actions", headers=admin_headers)
        assert [(r["action"], r["target"]) for r in log.json()["items"]] == [
            ("revoke_certificate", "7F:00:01")
        ]


class TestReadsAndModes:
    async def test_filters_and_unknown_id(self, client, admin_headers):
        await _waiting(client, admin_headers)
        high = await client.get("/api/v1/approvals", params={"risk_level": "high"}, headers=admin_headers)
        low = await client.get("/api/v1/approvals", params={"risk_level": "low"}, headers=admin_headers)
        missing = await client.get(
            "/api/v1/approvals/00000000-0000-4000-8000-000000000000", headers=admin_headers
        )
        assert (high.json()["total"], low.json()["total"], missing.status_code) == (1, 0, 404)

    async def test_decisions_are_blocked_outside_real_mode(self, client, admin_headers):
        _, approval = await _waiting(client, admin_headers)
        runtime.set_mode("dry_run")
        resp = await client.post(f"/api/v1/approvals/{approval['id']}/approve", headers=admin_headers)
        assert resp.status_code == 409 and resp.json()["detail"]["code"] == "mode_blocks_mutation"
        listed = await client.get("/api/v1/approvals", params={"status": "pending"}, headers=admin_headers)
        assert listed.json()["total"] == 1
