"""Tests for the /api/v1/playbooks, /actions, /executions and /connectors/actions routes."""

from __future__ import annotations

import textwrap

from sqlalchemy import select

from aurorasoc.core import runtime
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AuditLogModel, PlaybookExecutionModel, PlaybookModel
from aurorasoc.soar.executions import INTERRUPTED

YAML = textwrap.dedent(
    """\
    name: api-contain
    description: Scan the alert's hosts, block its IPs, tell the SOC.
    severity_filter: medium
    enabled: true
    requires_approval: false
    steps:
      - name: scan
        action: run_scan
        action_class: read
        parameters: {host: "{{ .alert.hosts }}"}
        timeout: 30
      - name: block
        action: block_ip
        action_class: write_external
        parameters: {ip: "{{ .alert.ips }}"}
        timeout: 30
        rollback_action: unblock_ip
      - name: tell
        action: notify
        action_class: write_internal
        parameters: {message: "contained {{ .alert.title }}"}
        timeout: 10
    """
)
YAML_HEADERS = {"Content-Type": "text/yaml"}


async def _create(client, headers, text: str = YAML) -> dict:  # type: ignore[no-untyped-def]
    resp = await client.post("/api/v1/playbooks", content=text, headers={**headers, **YAML_HEADERS})
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _alert(client, headers) -> dict:  # type: ignore[no-untyped-def]
    body = {"title": "Beacon", "source": "edr", "severity": "high", "iocs": ["203.0.113.8"],
            "affected_assets": ["host:ws-3"]}  # fmt: skip
    resp = await client.post("/api/v1/alerts", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _db_down() -> bool:
    return False


class TestAuthoring:
    async def test_create_from_yaml_then_new_version(self, client, admin_headers):
        created = await _create(client, admin_headers)
        assert (created["name"], created["version"], created["source_yaml"]) == ("api-contain", 1, YAML)

        edited = YAML.replace("timeout: 10", "timeout: 20")
        put = await client.put(
            f"/api/v1/playbooks/{created['id']}", content=edited, headers={**admin_headers, **YAML_HEADERS}
        )
        assert put.status_code == 200 and put.json()["version"] == 2
        async with session_scope() as session:
            audit = (
                await session.scalars(
                    select(AuditLogModel.action).where(AuditLogModel.resource_type == "playbook")
                )
            ).all()
        assert audit == ["playbook.create", "playbook.update"]

    async def test_json_body_works_too(self, client, admin_headers):
        import yaml

        resp = await client.post("/api/v1/playbooks", json=yaml.safe_load(YAML), headers=admin_headers)
        assert (
            resp.status_code == 201
            and resp.json()["definition"]["steps"][1]["rollback_action"] == "unblock_ip"
        )

    async def test_invalid_playbook_is_400_with_field_and_line(self, client, admin_headers):
        bad = YAML.replace("action: notify", "action: teleport")
        resp = await client.post("/api/v1/playbooks", content=bad, headers={**admin_headers, **YAML_HEADERS})
        assert resp.status_code == 400
        detail = resp.json()["detail"]
        assert detail["code"] == "invalid_playbook"
        assert detail["errors"] == [
            {
                "field": "steps[2].action",
                "line": 19,
                "message": "unknown action 'teleport' (see GET /api/v1/actions)",
            }
        ]

    async def test_validate_never_persists(self, client, admin_headers):
        ok = await client.post(
            "/api/v1/playbooks/validate", content=YAML, headers={**admin_headers, **YAML_HEADERS}
        )
        bad = await client.post("/api/v1/playbooks/validate", content="name: [", headers=admin_headers)
        assert ok.json() == {"valid": True, "name": "api-contain", "steps": 3, "errors": []}
        assert bad.json()["valid"] is False and bad.json()["errors"][0]["line"] == 1
        listed = await client.get("/api/v1/playbooks", headers=admin_headers)
        assert "api-contain" not in {p["name"] for p in listed.json()["items"]}

    async def test_duplicate_name_is_409_and_delete_is_final(self, client, admin_headers):
        created = await _create(client, admin_headers)
        again = await client.post(
            "/api/v1/playbooks", content=YAML, headers={**admin_headers, **YAML_HEADERS}
        )
        assert again.status_code == 409
        assert (
            await client.delete(f"/api/v1/playbooks/{created['id']}", headers=admin_headers)
        ).status_code == 204
        assert (
            await client.get(f"/api/v1/playbooks/{created['id']}", headers=admin_headers)
        ).status_code == 404

    async def test_actions_describe_class_and_rollback(self, client, role_headers):
        resp = await client.get("/api/v1/actions", headers=role_headers["analyst"])
        assert resp.status_code == 200, resp.text
        actions = {a["name"]: a for a in resp.json()}
        assert actions["isolate_host"]["action_class"] == "actuate"
        assert actions["isolate_host"]["rollback_action"] == "unisolate_host"
        assert actions["unblock_ip"]["rollback_only"] is True
        assert actions["revoke_certificate"]["reversible"] is False


class TestExecution:
    async def test_execute_against_an_alert(self, client, admin_headers):
        playbook, alert = await _create(client, admin_headers), await _alert(client, admin_headers)
        resp = await client.post(
            f"/api/v1/playbooks/{playbook['id']}/execute",
            json={"alert_id": alert["id"]},
            headers=admin_headers,
        )
        assert resp.status_code == 200, resp.text
        execution = resp.json()
        assert execution["status"] == "completed"
        assert [s["status"] for s in execution["steps"]] == ["completed"] * 3

        fetched = await client.get(f"/api/v1/executions/{execution['id']}", headers=admin_headers)
        assert fetched.json()["steps"][1]["output"]["targets"] == ["203.0.113.8"]
        log = await client.get(
            "/api/v1/connectors/actions", params={"execution_id": execution["id"]}, headers=admin_headers
        )
        rows = sorted((r["action"], r["target"], r["simulated"]) for r in log.json()["items"])
        assert rows == [
            ("block_ip", "203.0.113.8", True),
            ("notify", "soc", True),
            ("run_scan", "ws-3", True),
        ]

    async def test_unknown_alert_is_404(self, client, admin_headers):
        playbook = await _create(client, admin_headers)
        resp = await client.post(
            f"/api/v1/playbooks/{playbook['id']}/execute",
            json={"alert_id": "00000000-0000-4000-8000-000000000000"},
            headers=admin_headers,
        )
        assert resp.status_code == 404

    async def test_dry_run_refuses_a_run_but_stores_a_preview(self, client, admin_headers):
        playbook, alert = await _create(client, admin_headers), await _alert(client, admin_headers)
        url = f"/api/v1/playbooks/{playbook['id']}/execute"
        runtime.set_mode("dry_run")
        refused = await client.post(url, json={"alert_id": alert["id"]}, headers=admin_headers)
        preview = await client.post(
            url, params={"preview": "true"}, json={"alert_id": alert["id"]}, headers=admin_headers
        )

        assert refused.status_code == 409 and refused.json()["detail"]["code"] == "mode_blocks_mutation"
        assert preview.status_code == 200
        body = preview.json()
        assert (body["preview"], body["mode"]) == (True, "dry_run")
        assert [(e["step"], e["would"]) for e in body["effects"]] == [
            ("scan", "completed"),
            ("block", "completed"),
            ("tell", "completed"),
        ]
        assert body["effects"][1]["parameters"]["ip"] == ["203.0.113.8"]
        listed = (await client.get("/api/v1/executions", headers=admin_headers)).json()
        assert [(e["preview"], e["status"]) for e in listed["items"]] == [(True, "completed")]
        log = await client.get("/api/v1/connectors/actions", headers=admin_headers)
        assert log.json()["total"] == 0

    async def test_cancel_a_waiting_execution(self, client, admin_headers):
        gated = YAML.replace("name: api-contain", "name: api-gated").replace(
            "requires_approval: false", "requires_approval: true"
        )
        playbook = await _create(client, admin_headers, gated)
        started = await client.post(f"/api/v1/playbooks/{playbook['id']}/execute", headers=admin_headers)
        assert started.json()["status"] == "awaiting_approval"

        cancel_url = f"/api/v1/executions/{started.json()['id']}/cancel"
        cancelled = await client.post(cancel_url, headers=admin_headers)
        again = await client.post(cancel_url, headers=admin_headers)
        approvals = await client.get("/api/v1/approvals", headers=admin_headers)

        assert cancelled.json()["status"] == "cancelled"
        assert {s["status"] for s in cancelled.json()["steps"]} == {"skipped"}
        assert again.status_code == 409
        assert [a["status"] for a in approvals.json()["items"]] == ["rejected"]


class TestStartupAndShowcase:
    async def test_first_start_imports_showcase_and_fails_interrupted_runs(self, app_db):
        from aurorasoc.api.main import create_app

        async with session_scope() as session:
            stuck = PlaybookExecutionModel(
                playbook_name="gone", playbook_version=1, status="running",
                steps=[{"name": "a", "action": "run_scan", "status": "running"}],
            )  # fmt: skip
            session.add(stuck)
        app = create_app()
        async with app.router.lifespan_context(app):
            pass
        runtime.reset_mode()
        async with session_scope() as session:
            stored = await session.get(PlaybookExecutionModel, stuck.id)
            playbooks = (await session.scalars(select(PlaybookModel))).all()
        assert (stored.status, stored.error, stored.steps[0]["status"]) == ("failed", INTERRUPTED, "failed")
        assert len(playbooks) == 6 and not any(p.enabled for p in playbooks)

    async def test_dummy_with_db_down_serves_showcase_playbooks(self, client, admin_headers, monkeypatch):
        runtime.set_mode("dummy")
        monkeypatch.setattr("aurorasoc.core.web.deps.probe_database", _db_down)
        listed = await client.get("/api/v1/playbooks", headers=admin_headers)
        one = await client.get("/api/v1/playbooks/cps-anomaly", headers=admin_headers)
        assert listed.headers["x-aurora-data-source"] == "showcase"
        assert listed.json()["total"] == 6 and listed.json()["data_source"] == "showcase"
        assert one.json()["definition"]["steps"][0]["action"] == "isolate_host"
