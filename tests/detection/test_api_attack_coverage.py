"""ATT&CK coverage (issue 17, scope 2): matrix of enabled-rule vs observed techniques, Navigator layers.

Real SigmaHQ rules are imported through the rule service (one then disabled); alerts are stored with
techniques at known times and in a case. The layer is checked against the Navigator layer format 4.x.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED_DATA, TEST_START, require_data
from httpx import AsyncClient
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from typer.testing import CliRunner

from aurorasoc.cli import app as cli_app
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AlertModel, CaseModel, DetectionRuleModel
from aurorasoc.detection.rules import DetectionRuleService
from aurorasoc.intel import attack

SIGMA = SHARED_DATA / "sigma"
RULES = (
    SIGMA / "rules/linux/auditd/lnx_auditd_audio_capture.yml",  # T1123 collection
    SIGMA
    / "rules-emerging-threats/2019/Exploits/CVE-2019-14287/lnx_sudo_exploit_cve_2019_14287.yml",  # T1068
    SIGMA / "rules/web/webserver_generic/web_sql_injection_in_access_logs.yml",  # T1190, disabled below
)
URL = "/api/v1/attack/coverage"
NOW = TEST_START  # replaced by the running test's start time (tests/conftest.py)


class LayerTechnique(BaseModel):
    model_config = ConfigDict(extra="allow")
    techniqueID: str = Field(pattern=r"^T\d{4}(\.\d{3})?$")
    score: float
    color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    comment: str


class LayerVersions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    layer: str = Field(pattern=r"^4\.\d+$")
    navigator: str = Field(pattern=r"^\d+\.\d+(\.\d+)?$")
    attack: str = Field(pattern=r"^\d+(\.\d+)?$")


class Layer(BaseModel):
    """The Navigator layer format 4.x fields this export writes (the Navigator rejects a wrong type)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    versions: LayerVersions
    domain: str = Field(pattern=r"^enterprise-attack$")
    description: str
    techniques: list[LayerTechnique]
    gradient: dict[str, Any]
    legendItems: list[dict[str, str]]
    metadata: list[dict[str, str]]
    hideDisabled: bool


@pytest.fixture
async def seeded(app_db: None) -> dict[str, str]:
    require_data(*RULES)
    async with session_scope() as session:
        await DetectionRuleService(session).import_paths(RULES, origin="sigma", actor="test")
        web = await session.scalar(
            select(DetectionRuleModel).where(DetectionRuleModel.title.like("SQL Injection%"))
        )
        assert web is not None
        web.enabled = False
        case = CaseModel(title="Lateral movement on web01", severity="high")
        session.add(case)
        await session.flush()
        alerts = [
            ("audio capture", ["T1123"], NOW - timedelta(hours=1), None),
            ("powershell", ["T1059.001"], NOW - timedelta(hours=2), None),
            ("old sqli", ["T1190"], NOW - timedelta(days=10), None),
            ("rdp", ["T1021.001"], NOW - timedelta(hours=3), case.id),
        ]
        for title, techniques, at, case_id in alerts:  # all stored now; ``at`` is their event time
            session.add(AlertModel(title=title, severity="high", status="new", source="test",
                                   mitre_techniques=techniques, first_seen_at=at, last_seen_at=at,
                                   case_id=case_id))  # fmt: skip
    return {"case_id": str(case.id)}


def _cell(body: dict[str, Any], tactic: str, tid: str) -> dict[str, Any] | None:
    column: dict[str, Any] = next((c for c in body["tactics"] if c["tactic"] == tactic), {"techniques": []})
    return next((t for t in column["techniques"] if t["id"] == tid), None)


class TestMatrix:
    async def test_enabled_rules_against_observed_alerts_per_tactic(
        self, client: AsyncClient, admin_headers: dict[str, str], seeded: dict[str, str]
    ) -> None:
        resp = await client.get(URL, headers=admin_headers)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["attack_version"] == attack.attack_version()
        tactics = [c["tactic"] for c in body["tactics"]]
        assert tactics == attack.kill_chain_order(tactics)
        audio = _cell(body, "collection", "T1123")
        assert audio is not None and (audio["rules"], audio["alerts"]) == (1, 1)
        assert audio["name"] == "Audio Capture" and audio["rule_titles"] == ["Audio Capture"]
        powershell = _cell(body, "execution", "T1059.001")
        assert powershell is not None and (powershell["rules"], powershell["alerts"]) == (0, 1)
        sudo = _cell(body, "privilege-escalation", "T1068")
        assert sudo is not None and (sudo["rules"], sudo["alerts"]) == (1, 0)
        sqli = _cell(body, "initial-access", "T1190")
        assert sqli is not None and sqli["rules"] == 0  # its only rule is disabled
        assert body["covered"] == 3  # T1123, T1068, T1548.003
        assert set(body["observed_uncovered"]) == {"T1059.001", "T1190", "T1021.001"}

    async def test_alert_scope_by_time_and_case(
        self, client: AsyncClient, admin_headers: dict[str, str], seeded: dict[str, str]
    ) -> None:
        since = (NOW - timedelta(days=1)).isoformat()
        recent = (await client.get(URL, params={"since": since}, headers=admin_headers)).json()
        assert set(recent["observed_uncovered"]) == {"T1059.001", "T1021.001"}
        case = (await client.get(URL, params={"case_id": seeded["case_id"]}, headers=admin_headers)).json()
        assert case["observed"] == 1 and case["observed_uncovered"] == ["T1021.001"]
        bad = await client.get(URL, params={"since": NOW.isoformat(), "until": since}, headers=admin_headers)
        assert bad.status_code == 400 and "since" in bad.text

    async def test_a_technique_newer_than_the_index_sits_under_the_tactic_its_rules_name(
        self, client: AsyncClient, admin_headers: dict[str, str], app_db: None
    ) -> None:
        """SigmaHQ tags 'Clear Windows Event Logs' T1685.005 under defense-impairment (ATT&CK v18);
        the bundled v17 index knows neither, so the cell took an 'unknown' column."""
        rule = SIGMA / "rules/windows/builtin/wmi/win_wmi_activity_nteventlogfile_cleareventlog.yml"
        require_data(rule)
        assert attack.lookup("T1685.005") is None
        async with session_scope() as session:
            await DetectionRuleService(session).import_paths((rule,), origin="sigma", actor="test")
        body = (await client.get(URL, headers=admin_headers)).json()
        columns = {t["tactic"]: [c["id"] for c in t["techniques"]] for t in body["tactics"]}
        assert columns.get("defense-impairment") == ["T1685.005"] and "unknown" not in columns


class TestNavigatorLayer:
    async def test_rule_layer_follows_the_layer_format(
        self, client: AsyncClient, admin_headers: dict[str, str], seeded: dict[str, str]
    ) -> None:
        resp = await client.get(f"{URL}/layer", params={"source": "rules"}, headers=admin_headers)
        assert resp.status_code == 200
        layer = Layer.model_validate(resp.json())
        assert layer.versions.attack == attack.attack_version().split(".")[0]
        scores = {t.techniqueID: t.score for t in layer.techniques}
        assert scores == {"T1068": 1, "T1123": 1, "T1548.003": 1}
        assert all(attack.lookup(tid) is not None for tid in scores)
        assert "Audio Capture" in next(t.comment for t in layer.techniques if t.techniqueID == "T1123")

    async def test_alert_layer_for_a_time_range_and_for_a_case(
        self, client: AsyncClient, admin_headers: dict[str, str], seeded: dict[str, str]
    ) -> None:
        params = {
            "source": "alerts",
            "since": (NOW - timedelta(days=1)).isoformat(),
            "until": NOW.isoformat(),
        }
        ranged = Layer.model_validate(
            (await client.get(f"{URL}/layer", params=params, headers=admin_headers)).json()
        )
        assert {t.techniqueID for t in ranged.techniques} == {"T1123", "T1059.001", "T1021.001"}
        assert re.search(r"from \S+ to \S+", ranged.description)
        params = {"source": "alerts", "case_id": seeded["case_id"]}
        case = Layer.model_validate(
            (await client.get(f"{URL}/layer", params=params, headers=admin_headers)).json()
        )
        assert [(t.techniqueID, t.score) for t in case.techniques] == [("T1021.001", 1)]
        assert seeded["case_id"] in case.description

    async def test_needs_siem_read(
        self, client: AsyncClient, role_headers: dict[str, dict[str, str]], seeded: dict[str, str]
    ) -> None:
        assert (await client.get(f"{URL}/layer")).status_code == 401
        bad = await client.get(f"{URL}/layer", params={"source": "cases"}, headers=role_headers["analyst"])
        assert bad.status_code == 422


class TestCli:
    def test_layer_export_to_a_file(self, tmp_path: Path) -> None:
        runner = CliRunner()
        target = tmp_path / "rules-layer.json"
        done = runner.invoke(cli_app, ["intel", "layer", "--source", "rules", "-o", str(target)])
        assert done.exit_code == 0, done.output
        layer = Layer.model_validate(json.loads(target.read_text()))
        assert layer.techniques == []  # a fresh database: no rules stored yet
        bad = runner.invoke(cli_app, ["intel", "layer", "--source", "cases"])
        assert bad.exit_code == 2 and "rules or alerts" in bad.output
