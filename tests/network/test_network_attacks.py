"""Network-attack correlation (spec §13.8): pure rules, the alert pipeline on real EVE, the API."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from conftest import TEST_DATA
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.agents.models import InvestigationModel
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AlertModel, CaseModel
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.network import facts as nf
from aurorasoc.network.attacks import NetworkAttackCorrelator, absorb
from aurorasoc.network.models import NetworkAttackModel
from aurorasoc.siem.parsers import parse_file
from aurorasoc.siem.pipeline import DetectionPipeline
from aurorasoc.workers.alert_pipeline import PIPELINE_GROUP

EVE_SAMPLE = TEST_DATA / "eve.json"
SRC, DST = "10.0.0.23", "203.0.113.50"  # the alert record of tests/data/eve.json


def facts(family: str, severity: str = "medium", minutes: int = 0, **extra: Any) -> nf.NetworkFacts:
    fields: dict[str, Any] = {
        "alert_id": uuid.uuid4().hex,
        "title": f"{family} alert",
        "severity": severity,
        "family": family,
        "src_ip": SRC,
        "dst_ip": DST,
        "category": "c2_beacon",
        "techniques": ("T1071",),
        "seen_at": utcnow() + timedelta(minutes=minutes),
    }
    return nf.NetworkFacts(**(fields | extra))


class TestRules:
    @pytest.mark.parametrize(
        ("families", "expected"),
        [
            ([], 0.0),
            (["ids"], 0.5),
            (["ids", "ids"], 0.5),
            (["ids", "pcap"], 0.7),
            (["ids", "pcap", "dns"], 0.79),
            (["ids", "pcap", "dns", "flow"], 0.8425),
            (["proxy"], 0.2),
            (["flow", "other"], 0.4),
        ],
    )
    def test_confidence_combines_distinct_families(self, families: list[str], expected: float) -> None:
        assert nf.confidence(families) == pytest.approx(expected)

    @pytest.mark.parametrize(
        ("techniques", "category"),
        [
            (["T1071"], "c2_beacon"),
            (["T1021.001"], "lateral_movement"),
            (["T1110"], "credential_access"),
            (["T1048"], "exfiltration"),
            (["T1046"], "recon"),  # discovery
            (["T1595"], "recon"),  # reconnaissance
            (["T1059"], "other"),
            ([], "other"),
            (["T1021", "T1021.002", "T1071"], "lateral_movement"),  # most votes
            (["T1071", "T1021"], "c2_beacon"),  # tie → spec order
        ],
    )
    def test_category_follows_the_dominant_tactic(self, techniques: list[str], category: str) -> None:
        assert nf.category_for(techniques) == category

    @pytest.mark.parametrize(
        ("source", "metadata", "techniques", "family"),
        [
            ("suricata", {"passthrough": "eve"}, [], "ids"),
            ("suricata", {"logsource": {"category": "dns"}}, [], "dns"),
            ("zeek", {}, [], "pcap"),
            ("corp-firewall", {}, [], "flow"),
            ("squid-proxy", {}, [], "proxy"),
            ("api", {"telemetry_family": "pcap"}, [], "pcap"),
            ("windows", {}, ["T1071.001"], "other"),
            ("windows", {}, ["T1059"], None),
        ],
    )
    def test_network_family(
        self, source: str, metadata: dict[str, Any], techniques: list[str], family: str
    ) -> None:
        assert nf.network_family(source, metadata, techniques) == family

    def test_endpoints_prefer_metadata_then_log_then_raw_then_iocs(self) -> None:
        raw = EVE_SAMPLE.read_text().splitlines()[0]
        zeek_raw = json.dumps({"id.orig_h": "10.0.0.7", "id.resp_h": "192.0.2.99"})
        assert nf.endpoints({"src_ip": "10.1.1.1", "dest_ip": "10.2.2.2"}, raw, []) == (
            "10.1.1.1",
            "10.2.2.2",
        )
        assert nf.endpoints({}, raw, [], ("10.3.3.3", "10.4.4.4")) == ("10.3.3.3", "10.4.4.4")
        assert nf.endpoints({}, raw, ["1.1.1.1"]) == (SRC, DST)
        assert nf.endpoints({}, zeek_raw, []) == ("10.0.0.7", "192.0.2.99")
        assert nf.endpoints({}, "not json", ["evil.example.com", "10.9.9.9", "10.8.8.8"]) == (
            "10.9.9.9",
            "10.8.8.8",
        )
        assert nf.endpoints({}, None, ["10.9.9.9"]) == (None, "10.9.9.9")
        assert nf.endpoints({}, None, ["evil.example.com"]) == (None, None)

    @pytest.mark.parametrize(
        ("score", "severity", "opens"),
        [
            (0.8425, "high", True),
            (0.8425, "critical", True),
            (0.79, "critical", False),
            (0.95, "medium", False),
        ],
    )
    def test_case_threshold(self, score: float, severity: str, opens: bool) -> None:
        assert nf.should_open_case(score, severity) is opens

    def test_absorb_grows_an_attack_alert_by_alert(self) -> None:
        attack = NetworkAttackModel(telemetry_families=[], alert_ids=[], mitre_techniques=[])
        steps = [facts("ids", "medium", 0), facts("dns", "low", 5), facts("ids", "high", -3), facts("flow")]
        for step in steps:
            absorb(attack, step)
        assert attack.telemetry_families == ["ids", "dns", "flow"]
        assert attack.confidence == pytest.approx(nf.confidence(["ids", "dns", "flow"]))
        assert attack.severity == "high"
        assert attack.alert_ids == [s.alert_id for s in steps]
        assert attack.first_seen == steps[2].seen_at and attack.last_seen == steps[1].seen_at


def network_alert(source: str, minutes_ago: int = 0, **extra: Any) -> AlertModel:
    seen = utcnow() - timedelta(minutes=minutes_ago)
    fields: dict[str, Any] = {
        "title": f"{source} alert {uuid.uuid4().hex[:6]}",
        "severity": "high",
        "source": source,
        "mitre_techniques": ["T1071"],
        "iocs": [SRC, DST],
        "metadata_": {},
        "first_seen_at": seen,
        "last_seen_at": seen,
    }
    return AlertModel(**(fields | extra))


async def correlate(session: AsyncSession, alert: AlertModel) -> NetworkAttackModel | None:
    session.add(alert)
    await session.flush()
    return await NetworkAttackCorrelator(session).correlate(alert)


class TestCorrelator:
    async def test_same_key_within_the_window_joins_one_attack(self, db_session: AsyncSession) -> None:
        first = await correlate(db_session, network_alert("suricata", minutes_ago=10))
        second = await correlate(db_session, network_alert("dns", minutes_ago=1))
        assert first is not None and second is not None and first.id == second.id
        assert first.telemetry_families == ["ids", "dns"] and first.confidence == pytest.approx(0.65)

    async def test_outside_the_window_starts_a_new_attack(self, db_session: AsyncSession) -> None:
        old = await correlate(db_session, network_alert("suricata", minutes_ago=40))  # window 15 min
        new = await correlate(db_session, network_alert("suricata"))
        assert old is not None and new is not None and old.id != new.id

    async def test_other_category_or_endpoint_is_another_attack(self, db_session: AsyncSession) -> None:
        c2 = await correlate(db_session, network_alert("suricata"))
        lateral = await correlate(db_session, network_alert("suricata", mitre_techniques=["T1021"]))
        elsewhere = await correlate(db_session, network_alert("suricata", iocs=[SRC, "198.51.100.7"]))
        assert len({a.id for a in (c2, lateral, elsewhere) if a is not None}) == 3
        assert lateral is not None and lateral.category == "lateral_movement"

    async def test_non_network_alerts_and_alerts_without_ips_are_skipped(
        self, db_session: AsyncSession
    ) -> None:
        assert await correlate(db_session, network_alert("windows", mitre_techniques=["T1059"])) is None
        assert await correlate(db_session, network_alert("suricata", iocs=["evil.example.com"])) is None
        assert (await db_session.scalars(select(NetworkAttackModel))).all() == []

    async def test_convincing_attack_opens_a_case_and_later_alerts_join_it(
        self, db_session: AsyncSession
    ) -> None:
        for source in ("suricata", "zeek", "dns"):
            attack = await correlate(db_session, network_alert(source))
        assert attack is not None and attack.case_id is None  # 0.79 < 0.8
        attack = await correlate(db_session, network_alert("firewall"))
        assert attack is not None and attack.status == "case" and attack.case_id is not None
        found = await db_session.get(CaseModel, attack.case_id)
        assert found is not None and found.source == "network_attack"
        assert found.metadata_["network_attack_id"] == str(attack.id)
        assert found.iocs[:2] == [SRC, DST] and found.confidence == pytest.approx(0.8425)
        late = network_alert("suricata")
        await correlate(db_session, late)
        assert late.case_id == found.id

    async def test_a_batch_places_its_alerts_as_one_by_one_would(self, db_session: AsyncSession) -> None:
        """The pipeline correlates a batch with one read of the candidates: alerts later in the
        batch still join the attack an earlier one started, and the case it opened."""
        batch = [network_alert(s) for s in ("suricata", "zeek", "dns", "firewall", "suricata")]
        batch.insert(2, network_alert("suricata", minutes_ago=40))  # outside the window: its own
        batch.append(network_alert("windows", mitre_techniques=["T1059"]))  # not a network alert
        db_session.add_all(batch)
        await db_session.flush()
        placed = await NetworkAttackCorrelator(db_session).correlate_many(batch)
        assert placed[-1] is None and placed[2] is not None
        joined = {a.id for a in placed[:2] + placed[3:-1] if a is not None}
        assert len(joined) == 1 and placed[2].id not in joined
        attack = placed[0]
        assert attack is not None and attack.status == "case" and attack.case_id is not None
        assert attack.alert_ids == [str(a.id) for a in batch[:2] + batch[3:-1]]
        assert batch[-2].case_id == attack.case_id  # the alert after the case opened joined it
        stored = (await db_session.scalars(select(NetworkAttackModel))).all()
        assert len(stored) == 2


def eve_events() -> list[NormalizedEvent]:
    return [e for e in parse_file(EVE_SAMPLE) if isinstance(e, NormalizedEvent)]


async def settle() -> None:
    await asyncio.wait_for(get_bus().join("aurora:alerts", PIPELINE_GROUP), timeout=10)  # type: ignore[attr-defined]


async def all_attacks() -> list[NetworkAttackModel]:
    async with session_scope() as session:
        return list((await session.scalars(select(NetworkAttackModel))).all())


def detections(category: str) -> float:
    return REGISTRY.get_sample_value("network_attack_detections_total", {"category": category}) or 0.0


class TestPipeline:
    async def test_real_eve_alert_becomes_one_attack(self, client: Any) -> None:
        before = detections("c2_beacon")
        result = await DetectionPipeline(SigmaEngine()).process(eve_events())
        await settle()
        attacks = await all_attacks()
        assert result.alerts_created == 1 and len(attacks) == 1
        attack = attacks[0]
        assert (attack.src_ip, attack.dst_ip, attack.category) == (SRC, DST, "c2_beacon")
        assert attack.telemetry_families == ["ids"] and attack.confidence == pytest.approx(0.5)
        assert attack.severity == "high" and attack.status == "triage" and attack.case_id is None
        assert attack.title == f"Command and control {SRC} → {DST}"  # the tactic, not "C2 beacon"
        assert detections("c2_beacon") == before + 1

    async def test_four_families_on_one_flow_open_a_network_attack_case(
        self, client: Any, admin_headers: Any
    ) -> None:
        await DetectionPipeline(SigmaEngine()).process(eve_events())
        for source in ("zeek", "dns", "firewall"):
            # Forwarders give the event time of what they saw: the beacon's minute (spec §27.1).
            body = {"title": f"{source} sees the beacon", "source": source, "severity": "high",
                    "mitre_techniques": ["T1071.004"], "first_seen_at": "2024-05-01T10:21:00Z",
                    "metadata": {"src_ip": SRC, "dst_ip": DST}}  # fmt: skip
            resp = await client.post("/api/v1/alerts", json=body, headers=admin_headers)
            assert resp.status_code == 201, resp.text
        await settle()
        (attack,) = await all_attacks()
        assert sorted(attack.telemetry_families) == ["dns", "flow", "ids", "pcap"]
        assert attack.confidence == pytest.approx(0.8425) and len(attack.alert_ids) == 4
        assert attack.status == "case"
        resp = await client.get(f"/api/v1/cases/{attack.case_id}", headers=admin_headers)
        assert resp.status_code == 200 and resp.json()["source"] == "network_attack"


async def seed_attack(**extra: Any) -> tuple[str, str]:
    """An attack with one real alert behind it; returns (attack id, alert id)."""
    async with session_scope() as session:
        alert = network_alert("suricata", metadata_={"passthrough": "eve"})
        session.add(alert)
        await session.flush()
        fields: dict[str, Any] = {
            "title": f"C2 beacon {SRC} → {DST}", "category": "c2_beacon", "severity": "high",
            "confidence": 0.5, "src_ip": SRC, "dst_ip": DST, "telemetry_families": ["ids"],
            "alert_ids": [str(alert.id)], "mitre_techniques": ["T1071"],
        }  # fmt: skip
        attack = NetworkAttackModel(**(fields | extra))
        session.add(attack)
        await session.flush()
        return str(attack.id), str(alert.id)


class TestApi:
    async def test_list_filters(self, client: Any, admin_headers: Any) -> None:
        c2, _ = await seed_attack()
        recon, _ = await seed_attack(category="recon", severity="medium", telemetry_families=["flow", "dns"])
        url = "/api/v1/network/attacks"

        async def ids(**params: str) -> list[str]:
            resp = await client.get(url, params=params, headers=admin_headers)
            assert resp.status_code == 200, resp.text
            return [item["id"] for item in resp.json()["items"]]

        assert sorted(await ids()) == sorted([c2, recon])
        assert await ids(category="recon") == [recon]
        assert await ids(severity="high") == [c2]
        assert await ids(family="dns") == [recon]
        assert await ids(family="ids", status="triage") == [c2]
        assert await ids(status="case") == []
        resp = await client.get(url, params={"category": "bogus"}, headers=admin_headers)
        assert resp.status_code == 400 and "category" in resp.text

    async def test_detail_carries_alerts_techniques_and_findings(
        self, client: Any, admin_headers: Any
    ) -> None:
        attack_id, alert_id = await seed_attack()
        resp = await client.get(f"/api/v1/network/attacks/{attack_id}", headers=admin_headers)
        body = resp.json()
        assert resp.status_code == 200 and [a["id"] for a in body["alerts"]] == [alert_id]
        assert body["techniques"][0]["tactics"] == ["command-and-control"]
        assert body["findings"][0].startswith("1 alert(s) from ids telemetry")
        missing = await client.get(f"/api/v1/network/attacks/{uuid.uuid4()}", headers=admin_headers)
        assert missing.status_code == 404

    async def test_open_case_once(self, client: Any, admin_headers: Any) -> None:
        attack_id, _ = await seed_attack()
        url = f"/api/v1/network/attacks/{attack_id}/case"
        resp = await client.post(url, headers=admin_headers)
        assert resp.status_code == 201, resp.text
        created = resp.json()
        assert created["source"] == "network_attack" and created["iocs"][:2] == [SRC, DST]
        assert created["metadata"]["network_attack_id"] == attack_id
        detail = (await client.get(f"/api/v1/network/attacks/{attack_id}", headers=admin_headers)).json()
        assert detail["status"] == "case" and detail["case_id"] == created["id"]
        assert detail["alerts"][0]["case_id"] == created["id"]
        again = await client.post(url, headers=admin_headers)
        assert again.status_code == 409 and "attack_in_case" in again.text

    async def test_dispatch_runs_network_security_on_the_attack(
        self, client: Any, admin_headers: Any
    ) -> None:
        attack_id, _ = await seed_attack()
        resp = await client.post(
            f"/api/v1/network/attacks/{attack_id}/dispatch", json={"priority": 8}, headers=admin_headers
        )
        assert resp.status_code == 202, resp.text
        receipt = resp.json()
        assert receipt["agent"] == "network_security" and receipt["priority"] == 8
        assert attack_id in receipt["prompt"]
        async with session_scope() as session:
            row = await session.get(InvestigationModel, uuid.UUID(receipt["id"]))
        assert row is not None and str(row.network_attack_id) == attack_id
        detail = (await client.get(f"/api/v1/network/attacks/{attack_id}", headers=admin_headers)).json()
        assert [i["id"] for i in detail["investigations"]] == [receipt["id"]]


class TestDashboardStats:
    async def test_top_five_open_attacks_by_severity_then_confidence(
        self, client: Any, admin_headers: Any
    ) -> None:
        low, _ = await seed_attack(severity="low", confidence=0.99)
        dismissed, _ = await seed_attack(severity="critical", status="dismissed")
        strong, _ = await seed_attack(confidence=0.9)
        weak, _ = await seed_attack(confidence=0.3)
        critical, _ = await seed_attack(severity="critical", confidence=0.2)
        for _ in range(2):
            await seed_attack(severity="medium")
        body = (await client.get("/api/v1/dashboard/stats", headers=admin_headers)).json()
        top = [a["id"] for a in body["top_network_attacks"]]
        assert top[:3] == [critical, strong, weak] and len(top) == 5
        assert low not in top and dismissed not in top
        assert "top_network_attacks" not in body["unavailable_sections"]
