"""The AgentTaskWorker on ``aurora:agent:tasks``: tasks from rules, hunts and CPS alerts become
investigations that run once; a configured LLM that cannot be reached answers 503 ``llm_unavailable``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from conftest import require_service
from sqlalchemy import func, select

from aurorasoc.agents.factory import CircuitState, breaker_for, reset_breakers
from aurorasoc.agents.models import InvestigationEventModel, InvestigationModel
from aurorasoc.agents.tasks import TaskEnvelope, requested_agent_task
from aurorasoc.agents.worker import (
    AGENT_RESULTS_STREAM,
    AGENTS_GROUP,
    SYSTEM_PERMISSIONS,
    AgentTaskWorker,
    task_permissions,
)
from aurorasoc.core.bus.base import AGENT_DEAD_LETTER, AGENT_TASKS_STREAM, BusMessage
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.bus.inprocess import InProcessBus
from aurorasoc.core.bus.redis_streams import RedisStreamsBus
from aurorasoc.core.config import reset_settings
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AlertModel, UserModel
from aurorasoc.core.rbac import ROLE_PERMISSIONS
from aurorasoc.core.vocabulary import AgentType, Role


async def seed_alert(**overrides: Any) -> AlertModel:
    values: dict[str, Any] = {
        "title": "Brute force from 203.0.113.7",
        "severity": "high",
        "source": "windows",
        "iocs": ["203.0.113.7"],
        "mitre_techniques": ["T1110.001"],
    } | overrides
    async with session_scope() as session:
        alert = AlertModel(**values)
        session.add(alert)
    return alert


async def count(model: type, *where: Any) -> int:
    async with session_scope() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


class Recorder:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, message: BusMessage) -> None:
        self.messages.append(message.data)


class TestEnvelope:
    def test_agent_key_from_rules_and_hunts_is_accepted(self):
        task = TaskEnvelope.model_validate({"agent": "threat_hunter", "prompt": "hunt"})
        assert task.agent_type is AgentType.THREAT_HUNTER and task.priority == 5 and len(task.task_id) == 32

    def test_unknown_agent_and_empty_prompt_are_refused(self):
        with pytest.raises(ValueError, match=r"Input should be .orchestrator"):
            TaskEnvelope.model_validate({"agent": "root_shell", "prompt": "x"})
        with pytest.raises(ValueError, match="prompt"):
            TaskEnvelope.model_validate({"prompt": ""})

    def test_cps_alert_asks_for_its_agent_with_a_stable_task_id(self):
        alert = AlertModel(id=uuid.uuid4(), title="tamper", severity="critical", source="cps", metadata_={})
        assert requested_agent_task(alert) is None
        alert.metadata_ = {"dispatch_agent": "cps_security"}
        task = requested_agent_task(alert)
        assert task is not None and task == requested_agent_task(alert)
        assert (task["agent_type"], task["priority"], task["alert_id"]) == ("cps_security", 8, str(alert.id))
        alert.metadata_ = {"dispatch_agent": "not_an_agent"}
        assert requested_agent_task(alert) is None


class TestTaskPermissions:
    async def test_users_are_capped_at_the_analyst_and_others_get_the_analyst(self, app_db):
        async with session_scope() as session:
            session.add(UserModel(username="vera", role="viewer", password_hash="x"))
            session.add(UserModel(username="ada", role="admin", password_hash="x"))
            session.add(UserModel(username="gone", role="admin", password_hash="x", is_active=False))
        async with session_scope() as session:
            viewer = await task_permissions(session, "vera")
            assert viewer == ROLE_PERMISSIONS[Role.VIEWER] & SYSTEM_PERMISSIONS
            assert "alerts:write" not in viewer
            assert await task_permissions(session, "ada") == SYSTEM_PERMISSIONS
            assert await task_permissions(session, "gone") == SYSTEM_PERMISSIONS
            assert await task_permissions(session, "rule:block-brute-force") == SYSTEM_PERMISSIONS
        assert "*" not in SYSTEM_PERMISSIONS and "users:manage" not in SYSTEM_PERMISSIONS


class TestWorker:
    async def test_task_becomes_one_investigation_even_when_redelivered(self, app_db):
        alert = await seed_alert()
        bus = InProcessBus()
        results = Recorder()
        bus.subscribe(AGENT_RESULTS_STREAM, "test", results)
        AgentTaskWorker(bus).register()
        task = {"agent": "security_analyst", "prompt": "triage", "alert_id": str(alert.id), "task_id": "t-1"}
        await bus.start()
        try:
            await bus.publish(AGENT_TASKS_STREAM, task)
            await bus.join(AGENT_TASKS_STREAM, AGENTS_GROUP)
            steps = await count(InvestigationEventModel)
            await bus.publish(AGENT_TASKS_STREAM, task)  # redelivery of the same task
            await bus.join(AGENT_TASKS_STREAM, AGENTS_GROUP)
            await bus.join(AGENT_RESULTS_STREAM, "test")
        finally:
            await bus.close()
        async with session_scope() as session:
            rows = (await session.scalars(select(InvestigationModel))).all()
        assert len(rows) == 1 and rows[0].task_id == "t-1" and rows[0].alert_id == alert.id
        assert rows[0].status in {"completed", "review_required"} and rows[0].result["backend"] == "offline"
        assert steps > 2 and await count(InvestigationEventModel) == steps
        assert [m["investigation_id"] for m in results.messages] == [str(rows[0].id)]
        assert results.messages[0]["status"] == rows[0].status

    async def test_malformed_task_is_dead_lettered(self, app_db):
        bus = InProcessBus(max_deliveries=2, backoff_base=0)
        dead = Recorder()
        bus.subscribe(AGENT_DEAD_LETTER, "test", dead)
        AgentTaskWorker(bus).register()
        await bus.start()
        try:
            await bus.publish(AGENT_TASKS_STREAM, {"agent": "security_analyst", "prompt": ""})
            await bus.join(AGENT_TASKS_STREAM, AGENTS_GROUP)
            await bus.join(AGENT_DEAD_LETTER, "test")
        finally:
            await bus.close()
        assert len(dead.messages) == 1 and await count(InvestigationModel) == 0


class TestCpsDispatch:
    async def test_cps_alert_runs_the_cps_agent_through_the_pipeline(self, client, role_headers):
        from aurorasoc.core.vocabulary import Severity
        from aurorasoc.cps.outbox import CPSOutbox

        outbox = CPSOutbox()
        async with session_scope() as session:
            alert = await outbox.alert(
                session, title="Attestation failed on plc-7", severity=Severity.CRITICAL, device_id="plc-7"
            )
        await outbox.publish()  # the "created" event, as the MQTT consumer sends it
        bus = get_bus()
        assert isinstance(bus, InProcessBus)
        await bus.join("aurora:alerts", "alert-pipeline")
        await bus.join(AGENT_TASKS_STREAM, AGENTS_GROUP)
        resp = await client.get(
            "/api/v1/investigations", params={"alert_id": str(alert.id)}, headers=role_headers["analyst"]
        )
        items = resp.json()["items"]
        assert [(i["agent"], i["requested_by"]) for i in items] == [("cps_security", "cps")]
        assert items[0]["status"] in {"completed", "review_required"}


@pytest.fixture
def unreachable_llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A configured model on a closed port; one failure opens an agent's circuit."""
    monkeypatch.setenv("AURORA_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("AURORA_LLM_MODEL", "down")
    monkeypatch.setenv("AURORA_CIRCUIT_THRESHOLD", "1")
    monkeypatch.setenv("AURORA_CIRCUIT_TIMEOUT_SECONDS", "600")
    reset_settings()
    reset_breakers()
    yield
    reset_breakers()


class TestConfiguredLlm:
    async def test_dispatch_is_queued_then_llm_unavailable_once_the_circuit_opens(
        self, unreachable_llm, client, role_headers
    ):
        headers = role_headers["analyst"]
        body = {"agent": "security_analyst", "prompt": "triage the brute force"}
        resp = await client.post("/api/v1/orchestrator/dispatch", json=body, headers=headers)
        assert resp.status_code == 202 and resp.json()["status"] == "pending"
        await get_bus().join(AGENT_TASKS_STREAM, AGENTS_GROUP)  # the embedded worker ran it
        done = await client.get(f"/api/v1/investigations/{resp.json()['id']}", headers=headers)
        assert done.json()["status"] == "failed" and "LLMUnavailable" in done.json()["error"]
        assert breaker_for("security_analyst").state is CircuitState.OPEN

        refused = await client.post("/api/v1/orchestrator/dispatch", json=body, headers=headers)
        assert refused.status_code == 503
        assert refused.json()["detail"]["code"] == "llm_unavailable"
        assert await count(InvestigationModel) == 1  # the refusal stored nothing
        other = await client.post(
            "/api/v1/orchestrator/dispatch", json=body | {"agent": "threat_hunter"}, headers=headers
        )
        assert other.status_code == 202  # another agent's circuit is still closed


@pytest.mark.integration
class TestRedisLane:
    async def test_two_workers_share_the_tasks_and_run_each_once(self, app_db):
        url = require_service("redis")
        raw = aioredis.from_url(url)
        await raw.delete(AGENT_TASKS_STREAM, AGENT_RESULTS_STREAM)
        alert = await seed_alert()
        buses = [RedisStreamsBus(url, block_ms=100) for _ in range(2)]
        for i, bus in enumerate(buses):
            bus.subscribe(AGENT_TASKS_STREAM, AGENTS_GROUP, AgentTaskWorker(bus).handle, consumer=f"w{i}")
        tasks = [
            TaskEnvelope(agent_type=AgentType.SECURITY_ANALYST, prompt=f"triage {i}", alert_id=alert.id)
            for i in range(6)
        ]
        try:
            for bus in buses:
                await bus.start()
            for task in tasks:
                await buses[0].publish(AGENT_TASKS_STREAM, task.message())
            # A worker commits the investigation, then acknowledges its entry: wait for both.
            for _ in range(600):
                pending = await raw.xpending(AGENT_TASKS_STREAM, AGENTS_GROUP)
                done = await count(InvestigationModel, InvestigationModel.completed_at.is_not(None))
                if done == 6 and pending["pending"] == 0:
                    break
                await asyncio.sleep(0.05)
        finally:
            for bus in buses:
                await bus.close()
            await raw.delete(AGENT_TASKS_STREAM, AGENT_RESULTS_STREAM)
            await raw.aclose()
        async with session_scope() as session:
            rows = (await session.scalars(select(InvestigationModel))).all()
        assert sorted(r.task_id for r in rows) == sorted(t.task_id for t in tasks)
        assert all(r.status in {"completed", "review_required"} for r in rows)
        assert pending["pending"] == 0


class TestNarrowedPermissions:
    async def test_a_task_can_narrow_but_never_widen_its_permissions(self, app_db, monkeypatch):
        from aurorasoc.agents.investigations import InvestigationService

        seen: list[frozenset[str]] = []
        original = InvestigationService.execute

        async def recording(self, investigation, permissions, backend_for=None):  # type: ignore[no-untyped-def]
            seen.append(permissions)
            return await original(self, investigation, permissions, backend_for)

        monkeypatch.setattr(InvestigationService, "execute", recording)
        worker = AgentTaskWorker(InProcessBus())
        base = {"agent_type": AgentType.NETWORK_SECURITY, "prompt": "read-only analysis"}
        await worker.run(TaskEnvelope(**base, permissions=["siem:read", "alerts:read", "users:manage", "*"]))
        await worker.run(TaskEnvelope(**base))
        assert seen[0] == frozenset({"siem:read", "alerts:read"})  # users:manage and * are not the analyst's
        assert seen[1] == SYSTEM_PERMISSIONS
