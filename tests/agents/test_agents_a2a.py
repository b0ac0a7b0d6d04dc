"""One agent as an A2A service: card, health, a task recorded as an investigation."""

from __future__ import annotations

import json

from httpx import ASGITransport, AsyncClient

from aurorasoc.agents.a2a import build_app
from aurorasoc.agents.factory import reset_breakers
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AlertModel


def client_for(name: str) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=build_app(name)), base_url="http://agent")


class TestAgentService:
    async def test_card_lists_the_bound_tools(self, app_db):
        async with client_for("security_analyst") as client:
            card = (await client.get("/.well-known/agent.json")).json()
        assert card["name"] == "security_analyst" and card["url"] == "http://127.0.0.1:9001"
        assert card["capabilities"] == {
            "tools": [
                "search_alerts",
                "search_logs",
                "correlate_events",
                "mitre_map",
                "alert_events",
                "host_timeline",
                "host_alerts",
                "where_else",
            ],
            "memory": "tiered",
            "streaming": False,
        }

    async def test_health_reports_the_offline_backend(self, app_db):
        async with client_for("threat_hunter") as client:
            health = (await client.get("/health")).json()
        assert health["model"] == "offline" and health["llm_available"] is False and health["status"] == "ok"

    async def test_task_runs_the_agent_on_the_alert(self, app_db):
        reset_breakers()
        async with session_scope() as session:
            alert = AlertModel(
                title="Brute force", severity="critical", iocs=["203.0.113.7"], occurrence_count=3
            )
            session.add(alert)
        payload = {
            "task": "triage",
            "context": {"alert_id": str(alert.id)},
            "thread_id": "t-1",
            "metadata": {"requester": "orchestrator", "priority": 3},
        }
        async with client_for("security_analyst") as client:
            result = (await client.post("/task", json=payload)).json()
        assert result["thread_id"] == "t-1" and result["backend"] == "offline"
        assert result["verdict"] == "inconclusive" and "not stored" in result["summary"]

    async def test_metrics_are_exposed(self, app_db):
        async with client_for("threat_intel") as client:
            resp = await client.get("/metrics")
        assert resp.status_code == 200 and "agent_circuit_state" in resp.text


class TestRemoteDelegation:
    async def test_orchestrator_reaches_a_remote_specialist_and_retries_5xx(self, db_session, monkeypatch):
        import httpx

        from aurorasoc.agents import a2a_client
        from aurorasoc.agents.investigations import InvestigationService
        from aurorasoc.core.auth import ROLE_PERMISSIONS
        from aurorasoc.core.config import reset_settings
        from aurorasoc.core.vocabulary import AgentType, Role

        monkeypatch.setenv("AURORA_A2A_MODE", "remote")
        monkeypatch.setenv("ENABLED_AGENTS", "security_analyst")
        reset_settings()
        reset_breakers()
        seen: list[dict] = []  # type: ignore[type-arg]

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(json.loads(request.content))
            if len(seen) == 1:
                return httpx.Response(503)
            return httpx.Response(
                200,
                json={
                    "summary": "remote says bad",
                    "severity": "high",
                    "confidence": 0.8,
                    "findings": [{"evidence": "remote evidence", "confidence": 0.8}],
                },
            )

        a2a_client.client_for("http://127.0.0.1:9001", httpx.MockTransport(handler))
        monkeypatch.setattr("aurorasoc.agents.handoff.send_task", _fast(a2a_client.send_task))
        alert = AlertModel(title="x", severity="high")
        db_session.add(alert)
        await db_session.commit()
        service = InvestigationService(db_session)
        inv = await service.create(AgentType.ORCHESTRATOR, "go", "t", alert_id=alert.id)
        try:
            await service.execute(inv, ROLE_PERMISSIONS[Role.ANALYST])
        finally:
            await a2a_client.close_clients()
        assert len(seen) == 2 and seen[1]["metadata"] == {
            "requester": "orchestrator",
            "investigation_id": str(inv.id),
        }
        assert inv.result["summary"].startswith("security_analyst: remote says bad")
        kinds = [e.event_type for e in await service.events(inv.id)]
        assert "remote_result" in kinds and "tool_call" not in kinds  # the tools ran on the remote side


def _fast(send):  # type: ignore[no-untyped-def]
    """The real retry loop with millisecond back-off instead of 1-2-4 s."""

    async def call(url, payload):  # type: ignore[no-untyped-def]
        return await send(url, payload, wait_min=0.001)

    return call
