"""Robustness with a scripted OpenAI-compatible model (issue #19): bad arguments, garbage answers,
open circuits on every path, logged handoff attempts and the per-investigation budget."""

# ruff: noqa: F811  (the scripted-model fixtures are imported from test_agents_llm)

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import select
from test_agents_llm import THINK, ScriptedLLM, alert, answer, call, investigate, llm  # noqa: F401
from typer.testing import CliRunner

from aurorasoc.agents.factory import breaker_for
from aurorasoc.cli import app
from aurorasoc.cli.common import ensure_schema
from aurorasoc.core.config import reset_settings
from aurorasoc.core.db import dispose_engine, session_scope
from aurorasoc.core.models import AlertModel

BAD_JSON = '{"alert_id": "x", '  # cut off mid-object


def raw_call(name: str, arguments: str) -> Any:
    call_ = {"id": "c-bad", "type": "function", "function": {"name": name, "arguments": arguments}}
    return lambda _body: {"content": None, "tool_calls": [call_]}


def open_circuit(agent: str) -> None:
    breaker = breaker_for(agent)
    for _ in range(breaker.threshold):
        breaker.record_failure()


class TestBadModelOutput:
    async def test_invalid_json_arguments_go_back_as_an_error(self, llm: ScriptedLLM, db_session, alert):
        llm.script = {
            "orchestrator": [THINK, call(("handoff_security_analyst", {"task": "look"})), answer("done")],
            "security_analyst": [
                THINK,
                raw_call("search_alerts", BAD_JSON),
                answer("retried", verdict="suspicious"),
            ],
        }
        _, events = await investigate(db_session, alert)
        [step] = [e.payload for e in events if e.event_type == "tool_call"]
        assert step["tool"] == "search_alerts" and step["result"]["error_code"] == "invalid_input"
        # what the model saw next is the error, not ten unrelated alerts
        shown = [m for r in llm.requests for m in r["messages"] if m.get("tool_call_id") == "c-bad"]
        assert "invalid_input" in shown[0]["content"] and "alerts" not in json.dumps(step["result"])

    async def test_unknown_argument_names_are_refused(self, llm: ScriptedLLM, db_session, alert):
        llm.script = {
            "orchestrator": [THINK, call(("handoff_security_analyst", {"task": "look"})), answer("done")],
            "security_analyst": [THINK, call(("search_alerts", {"alertid": str(alert.id)})), answer("x")],
        }
        _, events = await investigate(db_session, alert)
        [step] = [e.payload for e in events if e.event_type == "tool_call"]
        assert step["result"]["error_code"] == "invalid_input" and "alertid" in step["result"]["error"]

    async def test_garbage_final_answer_is_inconclusive_never_benign(
        self, llm: ScriptedLLM, db_session, alert
    ):
        garbage = lambda _b: {"content": "I think it is fine :)"}  # noqa: E731
        llm.script = {"orchestrator": [THINK, garbage, garbage]}
        investigation, _ = await investigate(db_session, alert)
        assert investigation.result["verdict"] == "inconclusive" and investigation.status == "review_required"

    async def test_answer_without_a_verdict_is_inconclusive(self, llm: ScriptedLLM, db_session, alert):
        llm.script = {"orchestrator": [THINK, answer("looks bad", severity="critical")]}
        investigation, _ = await investigate(db_session, alert)
        assert investigation.result["verdict"] == "inconclusive"

    async def test_handoff_with_bad_arguments_is_logged(self, llm: ScriptedLLM, db_session, alert):
        llm.script = {"orchestrator": [THINK, call(("handoff_threat_hunter", {"task": " "})), answer("x")]}
        _, events = await investigate(db_session, alert)
        [rejected] = [e.payload for e in events if e.event_type == "handoff_rejected"]
        assert rejected["to"] == "threat_hunter" and rejected["reason"] == "invalid_input"


class TestBudget:
    async def test_step_budget_stops_the_fleet_and_says_so(
        self,
        llm: ScriptedLLM,
        db_session,
        alert,
        monkeypatch: pytest.MonkeyPatch,
    ):
        monkeypatch.setenv("AURORA_INVESTIGATION_STEP_BUDGET", "3")
        reset_settings()
        search = call(("search_alerts", {"alert_id": str(alert.id)}))
        llm.script = {
            "orchestrator": [THINK, call(("handoff_security_analyst", {"task": "look"})), answer("x")],
            "security_analyst": [THINK, search, search, search, answer("y")],
        }
        investigation, events = await investigate(db_session, alert)
        exhausted = [e.payload for e in events if e.event_type == "budget_exhausted"]
        assert exhausted and exhausted[0]["spent_steps"] == 3 and len(llm.requests) == 3
        assert investigation.result["verdict"] == "inconclusive"


async def _seed() -> str:
    try:
        async with session_scope() as session:
            found = AlertModel(title="t", severity="high")
            session.add(found)
        async with session_scope() as session:
            return str(await session.scalar(select(AlertModel.id).limit(1)))
    finally:
        await dispose_engine()


class TestOpenCircuitOnEveryPath:
    def test_cli_does_not_call_a_dead_model(self, llm: ScriptedLLM):
        ensure_schema()
        alert_id = asyncio.run(_seed())
        open_circuit("orchestrator")
        result = CliRunner().invoke(app, ["investigate", alert_id])
        assert result.exit_code == 1 and "circuit is open" in result.output and llm.requests == []

    async def test_worker_does_not_call_a_dead_model(self, llm: ScriptedLLM, app_db):
        from aurorasoc.agents.investigations import InvestigationService
        from aurorasoc.agents.tasks import envelope_for
        from aurorasoc.agents.worker import AgentTaskWorker
        from aurorasoc.core.auth import ROLE_PERMISSIONS
        from aurorasoc.core.bus.current import get_bus
        from aurorasoc.core.vocabulary import AgentType, Role

        async with session_scope() as session:
            inv = await InvestigationService(session).create(AgentType.ORCHESTRATOR, "go", "analyst")
            envelope = envelope_for(inv, ROLE_PERMISSIONS[Role.ANALYST])
        open_circuit("orchestrator")
        done = await AgentTaskWorker(get_bus()).run(envelope)
        assert done.status == "failed" and "circuit is open" in (done.error or "") and llm.requests == []

    async def test_a2a_task_does_not_call_a_dead_model(self, llm: ScriptedLLM, app_db):
        from httpx import ASGITransport, AsyncClient

        from aurorasoc.agents.a2a import build_app

        open_circuit("security_analyst")
        payload = {"task": "triage", "context": {}, "thread_id": "t-9", "metadata": {"requester": "x"}}
        transport = ASGITransport(app=build_app("security_analyst"))
        async with AsyncClient(transport=transport, base_url="http://agent") as client:
            resp = await client.post("/task", json=payload)
        body = resp.json()
        assert llm.requests == [] and body["status"] == "failed" and "circuit is open" in body["error"]
