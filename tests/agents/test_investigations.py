"""Investigations end to end: API routes, the offline analyst, the CLI on a pipeline alert."""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import SHARED_DATA, require_data
from sqlalchemy import select
from typer.testing import CliRunner

from aurorasoc.agents.factory import reset_breakers
from aurorasoc.cli import app
from aurorasoc.core.db import dispose_engine, session_scope
from aurorasoc.core.models import AlertModel, CaseModel, IOCModel, SiemLogModel, TimelineEntryModel

ONE_CHUNK = (
    SHARED_DATA / "evtx-attack-samples" / "Persistence" / "Network_Service_Guest_added_to_admins_4732.evtx"
)
runner = CliRunner()


async def seed_alert() -> AlertModel:
    async with session_scope() as session:
        case = CaseModel(title="case", severity="high")
        session.add(case)
        await session.flush()
        alert = AlertModel(
            title="Brute force from 203.0.113.7",
            severity="high",
            source="windows",
            case_id=case.id,
            iocs=["203.0.113.7"],
            mitre_techniques=["T1110.001"],
            occurrence_count=5,
        )
        session.add_all(
            [
                alert,
                IOCModel(type="ip", value="203.0.113.7", confidence=0.9),
                SiemLogModel(source="windows", format="line", message="4625 from 203.0.113.7"),
            ]
        )
        return alert


class TestInvestigateRoute:
    async def test_offline_investigation_completes_with_tool_evidence(self, client, role_headers):
        reset_breakers()
        alert = await seed_alert()
        resp = await client.post(f"/api/v1/alerts/{alert.id}/investigate", headers=role_headers["analyst"])
        assert resp.status_code == 202, resp.text
        body = resp.json()
        assert body["backend"] == "offline" and body["status"] in {"completed", "review_required"}
        assert body["result"]["verdict"] == "malicious"  # a known IOC corroborates the detection
        evidence = " ".join(f["evidence"] for f in body["result"]["findings"])
        assert "security_analyst: " in evidence and "mitre_map#1" in evidence
        assert "threat_intel: 203.0.113.7 is a known active IOC" in evidence
        assert "203.0.113.7" in " ".join(body["result"]["iocs"])
        detail = (await client.get(f"/api/v1/alerts/{alert.id}", headers=role_headers["analyst"])).json()
        assert [(i["id"], i["backend"]) for i in detail["investigations"]] == [(body["id"], "offline")]

    async def test_events_are_listed_in_order(self, client, role_headers):
        alert = await seed_alert()
        inv = (
            await client.post(f"/api/v1/alerts/{alert.id}/investigate", headers=role_headers["analyst"])
        ).json()
        page = (
            await client.get(
                f"/api/v1/investigations/{inv['id']}/events?limit=200", headers=role_headers["viewer"]
            )
        ).json()
        seqs = [e["seq"] for e in page["items"]]
        assert seqs == sorted(seqs) and page["total"] == len(seqs)
        kinds = [e["event_type"] for e in page["items"]]
        assert kinds[0] == "agent_started" and kinds[-1] == "verdict" and "delegation" in kinds

    async def test_list_filters_by_alert_and_status(self, client, role_headers):
        alert = await seed_alert()
        inv = (
            await client.post(f"/api/v1/alerts/{alert.id}/investigate", headers=role_headers["analyst"])
        ).json()
        page = (
            await client.get(f"/api/v1/investigations?alert_id={alert.id}", headers=role_headers["viewer"])
        ).json()
        assert [i["id"] for i in page["items"]] == [inv["id"]] and page["data_source"] == "database"
        none = (
            await client.get("/api/v1/investigations?status=failed", headers=role_headers["viewer"])
        ).json()
        assert none["total"] == 0

    async def test_unknown_alert_is_404(self, client, role_headers):
        resp = await client.post(
            "/api/v1/alerts/00000000-0000-4000-8000-000000000000/investigate", headers=role_headers["analyst"]
        )
        assert resp.status_code == 404

    async def test_override_records_an_event_and_a_timeline_entry(self, client, role_headers):
        alert = await seed_alert()
        inv = (
            await client.post(f"/api/v1/alerts/{alert.id}/investigate", headers=role_headers["analyst"])
        ).json()
        resp = await client.post(
            f"/api/v1/investigations/{inv['id']}/override",
            json={"status": "failed", "note": "wrong host"},
            headers=role_headers["analyst"],
        )
        assert resp.status_code == 200 and resp.json()["status"] == "failed"
        events = (
            await client.get(
                f"/api/v1/investigations/{inv['id']}/events?limit=200", headers=role_headers["analyst"]
            )
        ).json()["items"]
        assert (
            events[-1]["event_type"] == "operator_override" and events[-1]["payload"]["note"] == "wrong host"
        )
        async with session_scope() as session:
            actions = (
                await session.scalars(
                    select(TimelineEntryModel.action).where(TimelineEntryModel.case_id == alert.case_id)
                )
            ).all()
        assert {"agent_analysis", "agent_override"} <= set(actions)

    async def test_dispatch_runs_a_named_agent(self, client, role_headers):
        alert = await seed_alert()
        resp = await client.post(
            "/api/v1/orchestrator/dispatch",
            headers=role_headers["analyst"],
            json={"agent": "threat_intel", "prompt": "enrich", "alert_id": str(alert.id)},
        )
        assert resp.status_code == 202
        body = resp.json()
        assert body["agent"] == "threat_intel" and body["result"]["backend"] == "offline"
        assert any("known" in f["evidence"] for f in body["result"]["findings"])


class TestFleet:
    async def test_fleet_lists_fourteen_agents_with_offline_model(self, client, role_headers):
        body = (await client.get("/api/v1/agents", headers=role_headers["viewer"])).json()
        assert body["total"] == 14 and body["llm_configured"] is False
        analyst = next(a for a in body["items"] if a["name"] == "security_analyst")
        assert (
            analyst["port"] == 9001 and analyst["model"] == "offline" and analyst["status"] == "unconfigured"
        )
        assert analyst["tools"] == [
            "search_alerts",
            "search_logs",
            "correlate_events",
            "mitre_map",
            "alert_events",
            "host_timeline",
            "host_alerts",
            "where_else",
        ]

    async def test_one_agent_and_unknown_agent(self, client, role_headers):
        assert (await client.get("/api/v1/agents/threat_hunter", headers=role_headers["viewer"])).json()[
            "port"
        ] == 9002
        assert (await client.get("/api/v1/agents/nope", headers=role_headers["viewer"])).status_code == 404

    async def test_mesh_is_in_process_when_embedded(self, client, role_headers):
        body = (await client.get("/api/v1/agents/mesh", headers=role_headers["viewer"])).json()
        assert body["mode"] == "embedded" and all(n["reachable"] for n in body["nodes"])


def pipeline_alert_id() -> str:
    async def _first() -> str:
        try:
            async with session_scope() as session:
                return str(await session.scalar(select(AlertModel.id).limit(1)))
        finally:
            await dispose_engine()

    return asyncio.run(_first())


class TestInvestigateCommand:
    def test_investigates_a_pipeline_alert_offline(self):
        require_data(ONE_CHUNK)
        assert runner.invoke(app, ["ingest", str(ONE_CHUNK)]).exit_code == 0
        alert_id = pipeline_alert_id()
        result = runner.invoke(app, ["investigate", alert_id])
        assert result.exit_code == 0, result.output
        assert "backend: offline" in result.output and "verdict: " in result.output
        assert "alert_events#1" in result.output  # evidence cites the tool calls

    def test_bad_id_fails(self):
        result = runner.invoke(app, ["investigate", "nope"])
        assert result.exit_code == 1 and "not an alert id" in result.output


class RecordingManager:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def broadcast(self, data: dict[str, Any]) -> None:
        self.messages.append(data)


class TestAgentThoughtsFeed:
    async def test_every_step_is_streamed_in_order(self, db_session):
        from aurorasoc.agents.investigations import InvestigationService
        from aurorasoc.api import ws
        from aurorasoc.core.audit import AUDIT_STREAM
        from aurorasoc.core.auth import ROLE_PERMISSIONS
        from aurorasoc.core.bus.current import set_bus
        from aurorasoc.core.bus.inprocess import InProcessBus
        from aurorasoc.core.vocabulary import AgentType, Role

        bus, manager = InProcessBus(), RecordingManager()
        set_bus(bus)
        ws.register_thoughts_feed(bus, manager)  # type: ignore[arg-type]
        await bus.start()
        try:
            alert = AlertModel(title="x", severity="high", iocs=["203.0.113.7"])
            db_session.add(alert)
            await db_session.commit()
            service = InvestigationService(db_session)
            inv = await service.create(AgentType.SECURITY_ANALYST, "triage", "t", alert_id=alert.id)
            await service.execute(inv, ROLE_PERMISSIONS[Role.ANALYST])
            await bus.publish(AUDIT_STREAM, {"type": "audit", "action": "login"})  # not an agent step
            await bus.join(AUDIT_STREAM, ws.process_group("api-ws-thoughts"))
        finally:
            await bus.close()
            set_bus(None)
        events = await service.events(inv.id)
        assert [m["seq"] for m in manager.messages] == [e.seq for e in events]
        assert set(manager.messages[0]) == {
            "agent",
            "action",
            "investigation_id",
            "seq",
            "event_type",
            "detail",
            "timestamp",
        }
        assert manager.messages[-1]["event_type"] == "verdict"


class TestDispatchPreview:
    async def test_dummy_mode_simulates_the_receipt_and_stores_nothing(
        self, client, role_headers, admin_headers
    ):
        from aurorasoc.agents.models import InvestigationModel

        await client.put("/api/v1/system/mode", json={"mode": "dummy"}, headers=admin_headers)
        body = {"agent": "threat_hunter", "prompt": "hunt for lateral movement", "priority": 7}
        url = "/api/v1/orchestrator/dispatch"
        blocked = await client.post(url, json=body, headers=role_headers["analyst"])
        assert blocked.status_code == 409 and blocked.json()["detail"]["code"] == "mode_blocks_mutation"
        resp = await client.post(url, params={"preview": "true"}, json=body, headers=role_headers["analyst"])
        assert resp.status_code == 202, resp.text
        preview = resp.json()
        assert preview["preview"] is True and preview["mode"] == "dummy"
        [effect] = preview["effects"]
        assert (effect["agent"], effect["priority"], effect["backend"], effect["simulated"]) == (
            "threat_hunter",
            7,
            "offline",
            True,
        )
        async with session_scope() as session:
            assert (await session.scalars(select(InvestigationModel))).all() == []
