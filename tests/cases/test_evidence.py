"""Evidence you can trust (spec §27) on the real shared data: event time, entities, observables, SIEM, cases.

Every test ingests the smallest real subset that proves its point: three EVTX files of MSEDGEWIN10 and
PC01 (14 events) through real SigmaHQ rules, and one real Windows Defender record.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED_DATA, require_data
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aurorasoc.cases.correlation import CaseCorrelator
from aurorasoc.core.db import get_session_factory
from aurorasoc.core.models import (
    AlertModel,
    CaseModel,
    IOCModel,
    ObservableModel,
    SiemLogModel,
    TimelineEntryModel,
)
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.intel.extraction import extract_observables
from aurorasoc.intel.observables import benign_reason
from aurorasoc.siem.parsers import ParseError, parse_file
from aurorasoc.siem.pipeline import DetectionPipeline
from aurorasoc.siem.search import LogFilters, SiemSearchService

DATA = SHARED_DATA
SAMPLES = DATA / "evtx-attack-samples"
RULES = DATA / "sigma" / "rules" / "windows"
COMSVCS = SAMPLES / "Credential Access" / "sysmon_10_1_memdump_comsvcs_minidump.evtx"
ZIPFLDR = SAMPLES / "Execution" / "sysmon_lolbas_rundll32_zipfldr_routethecall_shell.evtx"
LOG_CLEARED = SAMPLES / "Defense Evasion" / "DE_104_system_log_cleared.evtx"
DEFENDER = SAMPLES / "AutomatedTestingTools" / "WinDefender_Events_1117_1116_AtomicRedTeam.evtx"
SUBSET = (COMSVCS, ZIPFLDR, LOG_CLEARED)
SIGMAHQ_RULES = (
    RULES / "process_creation" / "proc_creation_win_rundll32_process_dump_via_comsvcs.yml",
    RULES / "process_creation" / "proc_creation_win_rundll32_no_params.yml",
    RULES / "process_creation" / "proc_creation_win_rundll32_shell32_susp_execution.yml",
    RULES / "builtin" / "system" / "microsoft_windows_eventlog" / "win_system_eventlog_cleared.yml",
)
# SigmaHQ's own style for Defender fields (their EVTX names have spaces: "Threat Name", "Process Name").
DEFENDER_RULE = """
title: Defender detection of PowerSploit launched by PowerShell
id: 6d0cd6b5-0f23-4a4e-9c0d-4c4bb1d0b9a1
status: test
logsource:
    product: windows
    service: windefend
detection:
    selection:
        EventID: 1116
        ThreatName|contains: 'Powersploit'
        ProcessName|endswith: '\\\\powershell.exe'
        SeverityName: 'Severe'
    condition: selection
level: high
"""
ALLOWED_LINKS = {"shared_entity", "shared_ioc", "tactic_chain"}


def events(*paths: Path) -> list[NormalizedEvent]:
    require_data(*paths)
    return [e for path in paths for e in parse_file(path) if not isinstance(e, ParseError)]


def engine() -> SigmaEngine:
    require_data(*SIGMAHQ_RULES)
    return SigmaEngine.from_paths(SIGMAHQ_RULES)


class TestNormalisedRealRecords:
    def test_log_cleared_104_keeps_its_system_envelope(self) -> None:
        (event,) = events(LOG_CLEARED)
        assert (event.fields["Channel"], event.event_id, event.host) == ("System", "104", "PC01.example.corp")
        assert event.time_source == "record" and event.timestamp.year < 2021
        # The cleared log's name stays reachable under its full path.
        assert any(k.endswith(".Channel") and k != "Event.System.Channel" for k in event.fields)

    def test_defender_fields_with_spaces_fire_a_sigma_rule(self) -> None:
        found = events(DEFENDER)
        threat = next(e for e in found if e.event_id == "1116")
        assert (
            threat.fields["Threat Name"] == threat.fields["ThreatName"] == "Trojan:PowerShell/Powersploit.M"
        )
        sigma = SigmaEngine()
        sigma.add_yaml(DEFENDER_RULE)
        hits = [h for e in found for h in sigma.evaluate(e)]
        assert hits and {h.rule.title for h in hits} == {
            "Defender detection of PowerSploit launched by PowerShell"
        }
        assert threat.entities["process.executable"].endswith("\\powershell.exe")

    def test_sysmon_process_creation_names_process_parent_and_user(self) -> None:
        created = [
            e for e in events(COMSVCS) if e.event_id == "1" and "comsvcs" in str(e.fields["CommandLine"])
        ]
        assert created
        entities = created[0].entities
        assert entities["host.name"] == "MSEDGEWIN10" and entities["user.name"] == "MSEDGEWIN10\\IEUser"
        assert entities["process.executable"].lower().endswith("\\rundll32.exe")
        assert len(entities["process.entity_id"]) == 36 and entities["process.parent.entity_id"]
        assert entities["process.parent.executable"] and "comsvcs" in entities["process.command_line"].lower()

    def test_system32_hashes_and_private_addresses_are_never_indicators(self) -> None:
        event = next(e for e in events(COMSVCS) if e.event_id == "1")
        hashes = [o for o in extract_observables(event) if o["type"].startswith("hash_")]
        assert hashes and all("\\system32\\" in o["path"].lower() for o in hashes)
        assert {benign_reason(o, event.host) for o in hashes} == {"os_binary"}
        assert benign_reason({"type": "ip", "value": "192.168.1.5"}, None) == "private_ip"
        assert benign_reason({"type": "ip", "value": "fe80::1"}, None) == "private_ip"
        assert benign_reason({"type": "ip", "value": "203.0.113.9"}, None) is None
        assert benign_reason({"type": "domain", "value": "msedgewin10"}, "MSEDGEWIN10") == "own_host"


async def ingest_subset() -> list[AlertModel]:
    """The subset through the pipeline, then case correlation of every new alert (as the pipeline does)."""
    result = await DetectionPipeline(engine()).process(events(*SUBSET))
    assert result.alerts_created > 0
    async with get_session_factory()() as session:
        for alert_id in result.alert_ids:
            alert = await session.get(AlertModel, alert_id)
            assert alert is not None
            await CaseCorrelator(session).correlate(alert)
        await session.commit()
        return list((await session.scalars(select(AlertModel))).all())


async def rows(model: type[Any]) -> list[Any]:
    async with get_session_factory()() as session:
        return list((await session.scalars(select(model))).all())


@pytest.mark.slow
class TestIngestedEvidence:
    async def test_alert_times_are_the_event_times_of_their_events(self, app_db) -> None:
        alerts = await ingest_subset()
        logs = {str(log.id): log for log in await rows(SiemLogModel)}
        for alert in alerts:
            times = [logs[i].timestamp for i in alert.metadata_["log_ids"]]
            assert (alert.first_seen_at, alert.last_seen_at) == (min(times), max(times))
            assert alert.last_seen_at.year < 2021 < alert.created_at.year
        assert {a.host for a in alerts} >= {"MSEDGEWIN10"}

    async def test_no_system_binary_hash_becomes_an_indicator(self, app_db) -> None:
        alerts = await ingest_subset()
        assert await rows(IOCModel) == [] and all(a.iocs == [] for a in alerts)
        observed = await rows(ObservableModel)
        os_binaries = [o for o in observed if o.benign_reason == "os_binary"]
        assert os_binaries and all("\\system32\\" in (o.context_path or "").lower() for o in os_binaries)
        flagged = [o for a in alerts for o in a.observables if o["type"].startswith("hash_")]
        assert flagged and all(o.get("benign") == "os_binary" for o in flagged)

    async def test_cases_link_only_by_entity_indicator_or_tactic_within_event_time(self, app_db) -> None:
        alerts = await ingest_subset()
        links = [e for e in await rows(TimelineEntryModel) if e.action == "alert_correlated"]
        assert all(r["kind"] in ALLOWED_LINKS for e in links for r in e.data["reasons"])
        explained = {e.data["alert_id"] for e in links}
        for case in await rows(CaseModel):
            members = sorted((a for a in alerts if a.case_id == case.id), key=lambda a: a.first_seen_at)
            for earlier, later in itertools.pairwise(members):
                gap = later.first_seen_at - earlier.last_seen_at
                assert gap <= timedelta(minutes=60) or str(later.id) in explained

    async def test_siem_finds_the_host_over_all_time_with_real_totals(
        self, app_db, client, role_headers
    ) -> None:
        await ingest_subset()
        stored = [log for log in await rows(SiemLogModel) if log.host == "MSEDGEWIN10"]
        h = role_headers["analyst"]
        page = (
            await client.get("/api/v1/siem/logs", params={"q": "host:MSEDGEWIN10", "range": "all"}, headers=h)
        ).json()
        assert page["total"] == len(stored) > 0 and page["total_is_estimate"] is False
        assert {item["host"] for item in page["items"]} == {"MSEDGEWIN10"}
        newest = max(log.timestamp for log in stored)
        assert datetime.fromisoformat(page["items"][0]["event_time"]) == newest
        recent = (
            await client.get("/api/v1/siem/logs", params={"q": "host:msedgewin10", "range": "24h"}, headers=h)
        ).json()
        assert recent["total"] == 0 and datetime.fromisoformat(recent["newest_at"]) == newest
        params = {"q": "host:MSEDGEWIN10", "range": "all"}
        histogram = (await client.get("/api/v1/siem/histogram", params=params, headers=h)).json()
        assert sum(b["count"] for b in histogram["buckets"]) == len(stored)
        assert_one_bar_per_bucket(histogram)
        facets = (await client.get("/api/v1/siem/facets", params={"range": "all"}, headers=h)).json()
        assert facets["host"][0] == {"value": "MSEDGEWIN10", "count": len(stored)}
        assert any(v["value"] == "104" for v in facets["event_id"])

    async def test_queue_filters_by_entity_and_detail_shows_the_process_tree(
        self, app_db, client, role_headers
    ) -> None:
        alerts = await ingest_subset()
        h = role_headers["analyst"]
        on_host = (await client.get("/api/v1/alerts", params={"host": "msedgewin10"}, headers=h)).json()
        assert on_host["total"] == len([a for a in alerts if a.host == "MSEDGEWIN10"]) > 0
        by_user = (
            await client.get("/api/v1/alerts", params={"user": "MSEDGEWIN10\\ieuser"}, headers=h)
        ).json()
        assert by_user["total"] > 0 and {i["user_name"] for i in by_user["items"]} == {"MSEDGEWIN10\\IEUser"}
        comsvcs = next(a for a in alerts if "comsvcs" in (a.process_command_line or "").lower())
        evidence = (await client.get(f"/api/v1/alerts/{comsvcs.id}/evidence", headers=h)).json()
        tree = evidence["process_tree"]
        assert (
            tree[0]["executable"].lower().endswith("rundll32.exe")
            and len(tree) >= 2
            and tree[1]["executable"]
        )
        assert evidence["events"] and evidence["events"][0]["host"] == "MSEDGEWIN10"
        assert evidence["siem_search"]["q"] == 'host:"MSEDGEWIN10"'
        assert (
            evidence["siem_search"]["since"] < evidence["first_seen_at"] <= evidence["siem_search"]["until"]
        )


def assert_one_bar_per_bucket(histogram: dict[str, Any]) -> None:
    """Bucket starts are whole steps, each appears once (events of one day are one bar), and the
    empty buckets between are there (a gap of weeks shows on the time axis)."""
    starts = [b["start"] if isinstance(b["start"], datetime) else datetime.fromisoformat(b["start"])
              for b in histogram["buckets"]]  # fmt: skip
    assert starts == sorted(set(starts))
    assert all(int(s.timestamp()) % histogram["bucket_seconds"] == 0 for s in starts)
    steps = {(b - a).total_seconds() for a, b in itertools.pairwise(starts)}
    assert steps <= {histogram["bucket_seconds"]}


@pytest.mark.integration
class TestPostgresStore:
    async def test_fingerprints_observables_histogram_on_postgresql(self, pg_session: AsyncSession) -> None:
        factory = async_sessionmaker(
            bind=pg_session.bind, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        pipeline = DetectionPipeline(engine(), factory)
        first = await pipeline.process(events(COMSVCS))
        again = await pipeline.process(events(COMSVCS))
        assert first.events > 0 and first.alerts_created > 0
        assert (again.events, again.alerts_created, again.deduplicated) == (0, 0, 0)
        count = await pg_session.scalar(select(func.count()).select_from(SiemLogModel))
        assert count == first.events
        benign = await pg_session.scalar(
            select(func.count())
            .select_from(ObservableModel)
            .where(ObservableModel.benign_reason == "os_binary")
        )
        assert benign and benign > 0
        search = SiemSearchService(pg_session)
        histogram = await search.histogram(LogFilters(q="host:MSEDGEWIN10", range="all"))
        assert sum(b["count"] for b in histogram["buckets"]) == first.events
        assert_one_bar_per_bucket(histogram)


class TestObservablesApi:
    def test_allow_list_matches_value_path_and_host_within_its_scope(self) -> None:
        from aurorasoc.core.models import AllowListEntryModel
        from aurorasoc.intel.observables import AllowList

        path = "C:\\Tools\\agent.exe"
        allow = AllowList(
            (
                AllowListEntryModel(kind="value", value="scanner.example.com", host_scope=""),
                AllowListEntryModel(kind="process_path", value=path, host_scope="WS01"),
                AllowListEntryModel(kind="host", value="JUMP01", host_scope=""),
            )
        )
        digest = {"type": "hash_sha256", "value": "ab" * 32, "path": path}
        assert allow.allows({"type": "domain", "value": "SCANNER.example.com"}, "any")
        assert allow.allows(digest, "ws01") and not allow.allows(digest, "WS02")
        assert allow.allows({"type": "ip", "value": "198.51.100.7"}, "jump01")

    @pytest.mark.slow
    async def test_prevalence_promotion_and_allow_list_through_the_api(
        self, app_db, client, role_headers
    ) -> None:
        await ingest_subset()
        h = role_headers["analyst"]
        listed = (await client.get("/api/v1/observables", headers=h)).json()
        system = next(o for o in listed if o["benign_reason"] == "os_binary" and o["type"] == "hash_sha256")
        assert (system["host_count"], system["common"], system["indicator"]) == (1, False, False)
        promoted = await client.post(
            "/api/v1/observables/promote", json={"value": system["value"]}, headers=h
        )
        assert promoted.status_code == 201 and promoted.json()["type"] == "hash_sha256"
        again = (await client.get("/api/v1/observables", params={"value": system["value"]}, headers=h)).json()
        assert [o["indicator"] for o in again] == [True]
        body = {
            "kind": "process_path",
            "value": "C:\\Windows\\System32\\rundll32.exe",
            "host_scope": "MSEDGEWIN10",
        }
        assert (await client.post("/api/v1/observables/allowlist", json=body, headers=h)).status_code == 201
        assert (await client.post("/api/v1/observables/allowlist", json=body, headers=h)).status_code == 409
        entries = (await client.get("/api/v1/observables/allowlist", headers=h)).json()
        assert [(e["kind"], e["host_scope"], e["created_by"]) for e in entries] == [
            ("process_path", "MSEDGEWIN10", "analyst")
        ]
        bad = await client.post("/api/v1/observables/promote", json={"value": "not an indicator"}, headers=h)
        assert bad.status_code == 400
