"""Tests for aurorasoc.memory.tiered: presets, the sliding window and the episodic/intel tiers.

The guide's examples come first, verbatim; the rest run the vector tiers against the real
``vector_embeddings`` table (SQLite, and PostgreSQL where marked) with the hashing embedder.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from unittest.mock import MagicMock

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from aurorasoc.cases.snapshot import build_snapshot
from aurorasoc.core.models import CaseModel, IOCModel
from aurorasoc.memory.embedder import HashingEmbedder
from aurorasoc.memory.tiered import (
    ANALYST_MEMORY,
    DEFAULT_MEMORY,
    ENDPOINT_MEMORY,
    HUNTER_MEMORY,
    INTEL_MEMORY,
    NETWORK_MEMORY,
    ORCHESTRATOR_MEMORY,
    RESPONDER_MEMORY,
    SNAPSHOTS,
    TieredAgentMemory,
    case_document,
    create_tiered_memory,
)
from aurorasoc.memory.vector_store import BruteForceStore


class TestTieredMemory:
    def test_config_presets(self):
        """Each preset has expected sliding window size."""
        assert ANALYST_MEMORY.sliding_window == 30
        assert HUNTER_MEMORY.sliding_window == 40

    def test_factory_sets_agent_name(self):
        """create_tiered_memory stamps the agent name."""
        mem = create_tiered_memory("TestAgent", ANALYST_MEMORY)
        assert mem._config.agent_name == "TestAgent"
        assert mem._config.sliding_window == 30

    async def test_add_and_retrieve(self):
        """Messages round-trip through add/messages."""
        mem = create_tiered_memory("TestAgent", ANALYST_MEMORY)
        msg = MagicMock()
        msg.text = "Suspicious activity detected"
        mem.add(msg)
        assert len(mem.messages) == 1

    async def test_disabled_features_return_empty(self):
        """Disabled features return empty rather than error."""
        mem = create_tiered_memory("TestAgent", ANALYST_MEMORY)
        # Analyst preset has episodic/threat-intel disabled
        assert await mem.recall_similar("query") == []
        assert await mem.search_threat_intel("ioc") == []
        assert await mem.enrich_ioc("1.2.3.4") == {}


def _scope(session: AsyncSession):  # type: ignore[no-untyped-def]
    """A session provider that reuses the test's transactional session."""

    @asynccontextmanager
    async def scope() -> AsyncIterator[AsyncSession]:
        yield session

    return scope


@pytest.fixture
def hunter(any_db_session: AsyncSession) -> TieredAgentMemory:
    store = BruteForceStore(HashingEmbedder(), _scope(any_db_session))
    return TieredAgentMemory(dataclasses.replace(HUNTER_MEMORY, agent_name="hunter"), store=store)


CLOSED_CASES = [
    {
        "case_id": "case-emotet",
        "title": "Emotet phishing wave against finance",
        "summary": "Invoice-themed emails with macro-laden Word attachments dropped the Emotet loader; "
        "WINWORD.EXE spawned powershell.exe download cradles to 185.220.101.4.",
        "techniques": ["T1566.001", "T1059.001", "T1204.002"],
        "iocs": ["185.220.101.4", "invoice-0423.doc", "billing-update.example-mail.ru"],
        "devices": ["host:fin-ws-12", "host:fin-ws-07"],
        "resolution": "Blocked sender domain at the mail gateway, reimaged both workstations.",
    },
    {
        "case_id": "case-ssh",
        "title": "SSH brute force on the bastion host",
        "summary": "3,400 failed sshd password attempts for root and admin from 45.155.205.233 "
        "within ten minutes, followed by one accepted login for svc-backup.",
        "techniques": ["T1110.001", "T1078"],
        "iocs": ["45.155.205.233"],
        "devices": ["host:bastion-01"],
        "resolution": "Disabled password authentication, rotated svc-backup keys.",
    },
    {
        "case_id": "case-lockbit",
        "title": "LockBit ransomware on the file server",
        "summary": "vssadmin delete shadows followed by mass file renames to .lockbit on FS-02; "
        "ransom note Restore-My-Files.txt in every share.",
        "techniques": ["T1486", "T1490"],
        "iocs": ["Restore-My-Files.txt"],
        "devices": ["host:fs-02"],
        "resolution": "Isolated FS-02 and restored shares from offline backups.",
    },
    {
        "case_id": "case-modbus",
        "title": "Unauthorised Modbus writes to the boiler PLC",
        "summary": "Engineering workstation wrote holding registers on plc-boiler-3 outside the "
        "change window (function code 16).",
        "techniques": ["T0855", "T0836"],
        "iocs": ["10.20.30.44"],
        "devices": ["plc:plc-boiler-3"],
        "resolution": "Firmware attested, write access restricted to the historian VLAN.",
    },
]


class TestPresets:
    @pytest.mark.parametrize(
        ("preset", "window", "episodic", "intel", "persist"),
        [
            (DEFAULT_MEMORY, 20, False, False, 0),
            (ORCHESTRATOR_MEMORY, 100, True, False, 20),
            (ANALYST_MEMORY, 30, False, False, 0),
            (HUNTER_MEMORY, 40, True, True, 15),
            (RESPONDER_MEMORY, 50, True, False, 10),
            (NETWORK_MEMORY, 30, True, False, 20),
            (ENDPOINT_MEMORY, 40, True, True, 15),
            (INTEL_MEMORY, 40, True, True, 15),
        ],
    )
    def test_preset_table(self, preset, window, episodic, intel, persist):
        assert (preset.sliding_window, preset.enable_episodic, preset.enable_threat_intel) == (
            window,
            episodic,
            intel,
        )
        assert preset.auto_persist_interval == persist
        assert preset.top_k == 5

    def test_factory_never_mutates_the_preset(self):
        mem = create_tiered_memory("threat_hunter", HUNTER_MEMORY)
        assert mem._config.agent_name == "threat_hunter"
        assert HUNTER_MEMORY.agent_name == ""
        with pytest.raises(dataclasses.FrozenInstanceError):
            HUNTER_MEMORY.sliding_window = 1  # type: ignore[misc]


class TestSlidingWindow:
    def test_window_keeps_the_newest_messages(self):
        mem = create_tiered_memory("a", DEFAULT_MEMORY)
        for i in range(25):
            mem.add({"role": "user", "content": f"m{i}"})
        assert len(mem.messages) == 20
        assert mem.messages[0]["content"] == "m5"
        mem.clear()
        assert mem.messages == []

    def test_add_needs_no_event_loop(self):
        mem = create_tiered_memory("a", ORCHESTRATOR_MEMORY)
        for i in range(40):  # two auto-persist points, but no running loop: nothing scheduled
            mem.add(f"m{i}")
        assert len(mem.messages) == 40


class TestEpisodicRecall:
    async def test_related_query_ranks_the_right_case_first(self, hunter):
        for case in CLOSED_CASES:
            assert await hunter.store_case(case)
        queries = {
            "Word attachment macro launching PowerShell, traffic to 185.220.101.4": "case-emotet",
            "many failed ssh logins for root then a successful login": "case-ssh",
            "shadow copies deleted and files encrypted on a file share": "case-lockbit",
            "modbus register write to PLC": "case-modbus",
        }
        for query, expected in queries.items():
            hits = await hunter.recall_similar(query)
            assert hits[0]["source_id"] == expected, (query, hits)
            assert hits[0]["score"] > hits[1]["score"]
        assert len(await hunter.recall_similar("phishing", top_k=2)) == 2

    async def test_hit_carries_the_case_payload(self, hunter):
        await hunter.store_case(CLOSED_CASES[0])
        [hit] = await hunter.recall_similar("Emotet T1566.001", top_k=1)
        assert hit["payload"]["iocs"][0] == "185.220.101.4"
        assert hit["payload"]["techniques"] == ["T1566.001", "T1059.001", "T1204.002"]
        assert hit["payload"]["resolution"].startswith("Blocked sender domain")
        assert 0 < hit["score"] <= 1

    async def test_store_case_accepts_the_report_snapshot(self, hunter, any_db_session):
        case = CaseModel(
            title="Credential phishing via OAuth consent",
            description="Users granted a rogue Azure app mailbox access",
            severity="high",
            status="closed",
            mitre_techniques=["T1566.002", "T1528"],
            iocs=["login-microsoftonline.example.net"],
            affected_assets=["user:j.doe"],
            resolution_notes="App consent revoked tenant-wide",
        )
        any_db_session.add(case)
        await any_db_session.flush()
        source_id, text, payload = case_document(await build_snapshot(any_db_session, case))
        assert source_id == str(case.id)
        assert "T1528" in text and "Steal Application Access Token" in text  # ATT&CK name resolved
        assert payload["devices"] == ["j.doe"]
        assert await hunter.store_case(await build_snapshot(any_db_session, case))
        [hit] = await hunter.recall_similar("rogue OAuth app consent phishing", top_k=1)
        assert hit["source_id"] == str(case.id)

    async def test_case_without_id_is_refused(self, hunter):
        assert await hunter.store_case({"title": "no id"}) is False


class TestThreatIntel:
    async def test_enrich_known_ioc(self, hunter, any_db_session):
        any_db_session.add(
            IOCModel(type="ip", value="185.220.101.4", confidence=0.9, tags=["tor-exit", "emotet"])
        )
        await any_db_session.flush()
        await hunter.remember_intel("intel-tor", "185.220.101.4 Tor exit node used by Emotet C2 relays")
        await hunter.remember_intel("intel-ssh", "45.155.205.233 SSH scanner, Mirai-like botnet")
        result = await hunter.enrich_ioc(" 185.220.101.4 ")
        assert result["type"] == "ip" and result["value"] == "185.220.101.4"
        assert result["known"] is True and result["reputation"] == "malicious"
        assert result["ioc"]["tags"] == ["tor-exit", "emotet"]
        assert result["similar"][0]["source_id"] == "intel-tor"

    async def test_enrich_unknown_ioc(self, hunter):
        result = await hunter.enrich_ioc("evil-updates.example.org")
        assert result == {
            "value": "evil-updates.example.org",
            "type": "domain",
            "known": False,
            "ioc": None,
            "similar": [],
            "reputation": "unknown",
        }


class TestSnapshots:
    async def test_auto_persist_writes_the_window(self, hunter):
        for i in range(15):  # HUNTER_MEMORY persists every 15 adds
            hunter.add(MagicMock(text=f"step {i}: checked beacon to 185.220.101.4"))
        await asyncio.gather(*hunter._pending)
        snapshot = await hunter._vectors().get(SNAPSHOTS, "hunter")
        assert snapshot is not None
        assert snapshot["agent"] == "hunter"
        assert snapshot["messages"][-1] == "step 14: checked beacon to 185.220.101.4"
        assert len(snapshot["messages"]) == 15


class TestDegradation:
    async def test_broken_store_answers_empty_and_window_keeps_working(self):
        engine = create_async_engine("sqlite+aiosqlite://")  # no schema: every query fails

        @asynccontextmanager
        async def broken() -> AsyncIterator[AsyncSession]:
            async with AsyncSession(engine) as session:
                yield session

        mem = TieredAgentMemory(INTEL_MEMORY, store=BruteForceStore(HashingEmbedder(), broken))
        mem.add("still here")
        assert await mem.recall_similar("emotet") == []
        assert await mem.search_threat_intel("185.220.101.4") == []
        assert await mem.enrich_ioc("185.220.101.4") == {}
        assert await mem.store_case(CLOSED_CASES[0]) is False
        assert mem.messages == ["still here"]
        await engine.dispose()
