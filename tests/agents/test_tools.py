"""The tool plane: typed inputs, error envelopes, permission and approval gates, domain bindings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from aurorasoc.agents.specs import AGENT_MCP_BINDINGS, AGENT_SPECS
from aurorasoc.agents.tools import TOOLS, ToolContext, tools_for_domains
from aurorasoc.core.auth import ROLE_PERMISSIONS
from aurorasoc.core.models import (
    AlertModel,
    CaseModel,
    HumanApprovalModel,
    IOCModel,
    PlaybookExecutionModel,
    PlaybookModel,
    SiemLogModel,
    TimelineEntryModel,
)
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import Role
from aurorasoc.intel.service import index_alert_iocs

ANALYST = ROLE_PERMISSIONS[Role.ANALYST]


def ctx_for(session, permissions=ANALYST, **kw) -> ToolContext:  # type: ignore[no-untyped-def]
    return ToolContext(session, "agent:test", frozenset(permissions), **kw)


async def run(session, name, args, **kw):  # type: ignore[no-untyped-def]
    return await TOOLS[name].run(ctx_for(session, **kw), args)


def playbook(name: str = "block-ip") -> PlaybookModel:
    step = {
        "name": "tell",
        "action": "notify",
        "action_class": "write_internal",
        "timeout": 5,
        "parameters": {"message": "x"},
    }
    definition = {
        "name": name,
        "description": "d",
        "severity_filter": "low",
        "enabled": True,
        "requires_approval": False,
        "steps": [step],
        "mitre_techniques": ["T1110"],
    }
    return PlaybookModel(
        name=name,
        description="Block an address",
        enabled=True,
        definition=definition,
        mitre_techniques=["T1110"],
    )


class TestReadTools:
    async def test_search_alerts_by_technique(self, populated_db):
        result = await run(populated_db, "search_alerts", {"technique": "T1110"})
        assert result["status"] == "ok"
        assert result["total"] == 3 and {a["severity"] for a in result["alerts"]} == {"high"}

    async def test_search_alerts_by_ioc(self, populated_db):
        result = await run(populated_db, "search_alerts", {"ioc": "10.0.0.1"})
        assert [a["iocs"] for a in result["alerts"]] == [["10.0.0.1"]]

    async def test_search_alerts_by_ioc_reads_the_index_not_the_newest_alerts(self, db_session):
        """One alert with the indicator, 520 newer ones without: found through the full-text index."""
        from aurorasoc.core.types import utcnow

        now = utcnow()
        db_session.add(
            AlertModel(title="Beacon", iocs=["203.0.113.77"], last_seen_at=now - timedelta(days=30))
        )
        db_session.add_all(
            AlertModel(title=f"noise {i}", iocs=[f"198.51.100.{i % 250}"], last_seen_at=now)
            for i in range(520)
        )
        await db_session.commit()
        result = await run(db_session, "search_alerts", {"ioc": "203.0.113.77"})
        assert [a["title"] for a in result["alerts"]] == ["Beacon"] and result["total"] == 1

    async def test_search_logs_uses_the_query_language(self, db_session):
        db_session.add_all(
            [
                SiemLogModel(source="fw", format="line", message="deny 203.0.113.9", host="fw1"),
                SiemLogModel(source="fw", format="line", message="allow 198.51.100.1"),
            ]
        )
        await db_session.flush()
        result = await run(db_session, "search_logs", {"q": '"203.0.113.9"'})
        assert result["total"] == 1 and result["events"][0]["host"] == "fw1"

    async def test_enrich_ioc_reads_the_local_store(self, db_session):
        db_session.add(IOCModel(type="ip", value="203.0.113.9", confidence=0.9, tags=["c2"]))
        await db_session.flush()
        result = await run(db_session, "enrich_ioc", {"value": "203.0.113.9"})
        assert result["known"] is True and result["ioc"]["tags"] == ["c2"]

    async def test_correlate_finds_alerts_sharing_indicators_and_closed_cases(self, db_session):
        alert = AlertModel(title="a", severity="high", iocs=["evil.example"], mitre_techniques=["T1071"])
        twin = AlertModel(title="b", severity="low", iocs=["evil.example"])
        case = CaseModel(title="old C2", status="closed", iocs=["evil.example"], resolution_notes="confirmed")
        db_session.add_all([alert, twin, case])
        await db_session.flush()
        await index_alert_iocs(db_session, [alert, twin])
        result = await run(db_session, "correlate_events", {"alert_id": str(alert.id)})
        assert [(a["title"], a["shared"]) for a in result["related_alerts"]] == [("b", ["evil.example"])]
        assert result["similar_cases"][0]["title"] == "old C2"

    async def test_correlate_reads_the_alerts_event_time_not_the_newest_stored(self, db_session):
        """An imported 2019 alert is related to the 2019 alerts on its host (a resolved one too),
        not to a newer one there or to another host's alert sharing only a technique."""
        at = datetime(2019, 3, 18, 9, 0, tzinfo=UTC)

        def on(host: str, title: str, minutes: int, **kw) -> AlertModel:  # type: ignore[no-untyped-def]
            seen = at + timedelta(minutes=minutes)
            fields = {"severity": "high", "mitre_techniques": ["T1059.001"], "first_seen_at": seen}
            return AlertModel(title=title, host=host, last_seen_at=seen, **{**fields, **kw})

        alert = on("MSEDGEWIN10", "lead", 0)
        same_host = on("msedgewin10", "same host, resolved", 20, status="resolved")
        later = on("MSEDGEWIN10", "same host, a year later", 60 * 24 * 365)
        elsewhere = on("PC04", "technique only", 5)
        db_session.add_all([alert, same_host, later, elsewhere])
        await db_session.flush()
        result = await run(db_session, "correlate_events", {"alert_id": str(alert.id)})
        related = [(a["title"], a["shared"]) for a in result["related_alerts"]]
        assert related == [("same host, resolved", ["host:MSEDGEWIN10"])]

    async def test_mitre_lookup_uses_the_local_index(self, db_session):
        result = await run(db_session, "mitre_attack_lookup", {"technique_id": "t1059.001"})
        assert result["technique"]["name"] == "PowerShell" and "execution" in result["technique"]["tactics"]


class TestErrorEnvelope:
    async def test_invalid_input(self, db_session):
        result = await run(db_session, "mitre_map", {"technique_id": "not-a-technique"})
        assert result["status"] == "error" and result["error_code"] == "invalid_input"

    async def test_not_found(self, db_session):
        result = await run(db_session, "mitre_map", {"technique_id": "T9999"})
        assert result["error_code"] == "not_found"

    async def test_missing_permission(self, db_session):
        result = await run(db_session, "search_logs", {"q": "x"}, permissions={"alerts:read"})
        assert result["error_code"] == "permission_denied"


class TestApprovalGate:
    async def test_execute_playbook_without_approval_only_files_a_request(self, db_session):
        db_session.add(playbook())
        await db_session.flush()
        result = await run(db_session, "execute_playbook", {"playbook": "block-ip"})
        assert result["status"] == "approval_required"
        approval = await db_session.get(HumanApprovalModel, uuid.UUID(result["approval_id"]))
        assert approval is not None and approval.status == "pending"
        assert await db_session.scalar(select(func.count()).select_from(PlaybookExecutionModel)) == 0

    async def test_pending_approval_does_not_unlock_execution(self, db_session):
        db_session.add(playbook())
        await db_session.flush()
        filed = await run(
            db_session, "request_human_approval", {"playbook": "block-ip", "justification": "c2"}
        )
        result = await run(
            db_session, "execute_playbook", {"playbook": "block-ip", "approval_id": filed["approval_id"]}
        )
        assert result["error_code"] == "permission_denied" and "pending" in result["error"]

    async def test_approved_approval_runs_the_playbook(self, db_session):
        db_session.add(playbook())
        approval = HumanApprovalModel(
            action_type="run_playbook",
            action_params={"playbook": "block-ip"},
            requested_by="agent:x",
            status="approved",
            ttl_seconds=60,
            expires_at=utcnow() + timedelta(minutes=1),
        )
        db_session.add(approval)
        await db_session.flush()
        result = await run(
            db_session, "execute_playbook", {"playbook": "block-ip", "approval_id": str(approval.id)}
        )
        assert result["status"] == "ok" and result["execution_status"] == "completed"

    async def test_approval_for_another_playbook_is_refused(self, db_session):
        db_session.add_all([playbook(), playbook("other")])
        approval = HumanApprovalModel(
            action_type="run_playbook",
            action_params={"playbook": "other"},
            requested_by="agent:x",
            status="approved",
            ttl_seconds=60,
            expires_at=utcnow() + timedelta(minutes=1),
        )
        db_session.add(approval)
        await db_session.flush()
        result = await run(
            db_session, "execute_playbook", {"playbook": "block-ip", "approval_id": str(approval.id)}
        )
        assert result["error_code"] == "permission_denied"

    async def test_case_note_lands_on_the_timeline(self, db_session):
        case = CaseModel(title="c")
        db_session.add(case)
        await db_session.flush()
        result = await run(db_session, "add_case_note", {"text": "checked the proxy"}, case_id=case.id)
        assert result["status"] == "ok"
        notes = (
            await db_session.scalars(select(TimelineEntryModel).where(TimelineEntryModel.case_id == case.id))
        ).all()
        assert [n.details for n in notes] == ["checked the proxy"]

    async def test_writes_are_blocked_outside_real_mode(self, db_session, monkeypatch: pytest.MonkeyPatch):
        from aurorasoc.core import runtime

        runtime.set_mode("dry_run")
        try:
            result = await run(db_session, "add_case_note", {"text": "x", "case_id": str(uuid.uuid4())})
        finally:
            runtime.reset_mode()
        assert result["error_code"] == "permission_denied" and "dry_run" in result["error"]


class TestBindings:
    def test_every_agent_has_a_binding(self):
        assert set(AGENT_MCP_BINDINGS) == {spec.name for spec in AGENT_SPECS.values()}

    def test_security_analyst_gets_only_siem_tools(self):
        names = {t.name for t in tools_for_domains(AGENT_MCP_BINDINGS["security_analyst"])}
        assert names == {
            "search_alerts",
            "search_logs",
            "correlate_events",
            "mitre_map",
            "alert_events",
            "host_timeline",
            "host_alerts",
            "where_else",
        }

    def test_every_tool_has_a_domain_and_a_schema(self):
        for tool in TOOLS.values():
            assert tool.domain and tool.schema()["function"]["parameters"]["type"] == "object"


class TestEpisodicMemory:
    async def test_correlate_recalls_cases_from_episodic_memory(self, db_session):
        import contextlib

        from aurorasoc.memory import DEFAULT_MEMORY, TieredAgentMemory
        from aurorasoc.memory.embedder import get_embedder
        from aurorasoc.memory.vector_store import BruteForceStore

        @contextlib.asynccontextmanager
        async def borrowed():  # type: ignore[no-untyped-def]
            yield db_session

        memory = TieredAgentMemory(DEFAULT_MEMORY, store=BruteForceStore(get_embedder(), borrowed))
        snapshot = {
            "case_id": str(uuid.uuid4()),
            "summary": "Qakbot beacon to evil.example",
            "iocs": ["evil.example"],
            "techniques": ["T1071"],
            "resolution": "false positive: sinkhole",
        }
        assert await memory.store_case(snapshot)
        alert = AlertModel(title="Beacon", severity="medium", iocs=["evil.example"])
        db_session.add(alert)
        await db_session.flush()
        result = await run(db_session, "correlate_events", {"alert_id": str(alert.id)})
        recalled = result["similar_cases"][0]
        assert recalled["source"] == "episodic_memory" and recalled["shared"] == ["evil.example"]
        assert recalled["resolution_notes"] == "false positive: sinkhole"


class TestMemoryHasNoFloor:
    async def test_weak_memory_matches_are_shown_with_their_score_but_are_not_evidence(self, db_session):
        import contextlib

        from aurorasoc.agents.evidence_facts import Evidence
        from aurorasoc.agents.scoring import _intel_signals
        from aurorasoc.memory import DEFAULT_MEMORY, TieredAgentMemory
        from aurorasoc.memory.embedder import get_embedder
        from aurorasoc.memory.vector_store import BruteForceStore

        @contextlib.asynccontextmanager
        async def borrowed():  # type: ignore[no-untyped-def]
            yield db_session

        memory = TieredAgentMemory(DEFAULT_MEMORY, store=BruteForceStore(get_embedder(), borrowed))
        snapshot = {"case_id": str(uuid.uuid4()), "summary": "Kerberoasting of service accounts", "iocs": []}
        assert await memory.store_case(snapshot)
        alert = AlertModel(title="Printer driver installed", severity="low", iocs=["hp.example"])
        db_session.add(alert)
        await db_session.flush()
        result = await run(db_session, "correlate_events", {"alert_id": str(alert.id)})
        [weak] = [c for c in result["similar_cases"] if c["source"] == "episodic_memory"]
        assert weak["match"] == "weak" and weak["score"] < 0.6
        ev = Evidence(results={"correlate_events": [("correlate_events#1", result)]})
        assert _intel_signals(ev) == []
