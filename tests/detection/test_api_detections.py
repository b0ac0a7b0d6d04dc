"""Tests for the /api/v1/detections routes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_detection_rules import BRUTE, CORRELATION_PAIR, PLACEHOLDER_RULE, rule_yaml

from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AuditLogModel, DetectionRuleModel, SiemLogModel
from aurorasoc.detection.rules import BUNDLED_RULES, DetectionRuleService

URL = "/api/v1/detections/rules"


async def _count(model: type) -> int:
    async with session_scope() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
async def bundled(app_db) -> None:
    async with session_scope() as session:
        await DetectionRuleService(session).import_paths([BUNDLED_RULES], origin="bundled", actor="system")


class TestCreate:
    async def test_created_unsupported_and_audited(self, client, role_headers):
        ok = await client.post(URL, json={"yaml": rule_yaml()}, headers=role_headers["analyst"])
        limited = await client.post(URL, json={"yaml": PLACEHOLDER_RULE}, headers=role_headers["analyst"])
        assert (ok.status_code, limited.status_code) == (201, 201), limited.text
        [rule] = ok.json()["items"]
        assert (rule["rule_uid"], rule["supported"], rule["origin"], rule["created_by"]) == (
            BRUTE, True, "custom", "analyst",
        )  # fmt: skip
        assert "placeholder %Admins%" in limited.json()["items"][0]["unsupported_reason"]
        async with session_scope() as session:
            actions = (await session.scalars(select(AuditLogModel.action))).all()
        assert actions.count("detection_rule.create") == 2

    async def test_rule_with_correlation(self, client, admin_headers):
        resp = await client.post(URL, json={"yaml": CORRELATION_PAIR}, headers=admin_headers)
        assert resp.status_code == 201
        assert sorted(item["kind"] for item in resp.json()["items"]) == ["correlation", "rule"]

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            ({"yaml": "title: [x"}, 400, "invalid_rule"),
            ({"yaml": "title: x\n"}, 400, "invalid_rule"),
            ({"yaml": rule_yaml() + "x" * (2 * 1024 * 1024)}, 413, "payload_too_large"),
        ],
    )
    async def test_rejected_bodies_store_nothing(self, client, admin_headers, body, status, code):
        resp = await client.post(URL, json=body, headers=admin_headers)
        assert (resp.status_code, resp.json()["detail"]["code"]) == (status, code)
        assert await _count(DetectionRuleModel) == 0

    async def test_duplicate_is_409(self, client, admin_headers):
        await client.post(URL, json={"yaml": rule_yaml()}, headers=admin_headers)
        again = await client.post(URL, json={"yaml": rule_yaml(title="Again")}, headers=admin_headers)
        assert (again.status_code, again.json()["detail"]["code"]) == (409, "duplicate")

    async def test_viewer_and_operator_cannot_write(self, client, role_headers):
        for role in ("viewer", "operator"):
            resp = await client.post(URL, json={"yaml": rule_yaml()}, headers=role_headers[role])
            assert resp.status_code == 403


class TestRead:
    async def test_list_filters_and_detail(self, client, admin_headers, bundled):
        everything = (await client.get(URL, params={"limit": 200}, headers=admin_headers)).json()
        assert everything["total"] == len(everything["items"]) > 20
        assert {"hit_count", "unsupported_reason", "last_hit_at"} <= set(everything["items"][0])
        linux = await client.get(URL, params={"product": "linux", "kind": "rule"}, headers=admin_headers)
        expected = [
            i for i in everything["items"] if i["logsource_product"] == "linux" and i["kind"] == "rule"
        ]
        assert linux.json()["total"] == len(expected) > 0
        correlations = await client.get(URL, params={"kind": "correlation"}, headers=admin_headers)
        assert correlations.json()["total"] == sum(i["kind"] == "correlation" for i in everything["items"])
        detail = await client.get(f"{URL}/{expected[0]['rule_uid']}", headers=admin_headers)
        assert detail.json()["id"] == expected[0]["id"] and "detection:" in detail.json()["yaml"]
        assert (await client.get(f"{URL}/no-such-rule", headers=admin_headers)).status_code == 404

    async def test_bad_filter_is_422(self, client, admin_headers):
        resp = await client.get(URL, params={"kind": "playbook"}, headers=admin_headers)
        assert resp.status_code == 422


class TestChange:
    async def test_toggle_replace_and_delete(self, client, admin_headers, bundled):
        [rule] = (await client.post(URL, json={"yaml": rule_yaml()}, headers=admin_headers)).json()["items"]
        off = await client.patch(f"{URL}/{rule['id']}", json={"enabled": False}, headers=admin_headers)
        assert off.json()["enabled"] is False
        renamed = rule_yaml(title="Renamed")
        edited = await client.patch(f"{URL}/{BRUTE}", json={"yaml": renamed}, headers=admin_headers)
        assert (edited.json()["title"], edited.json()["enabled"]) == ("Renamed", False)
        other_id = rule_yaml("6b1b0e2c-9d1f-4f55-9d0c-5f0a3c1e0042")
        bad = await client.patch(f"{URL}/{BRUTE}", json={"yaml": other_id}, headers=admin_headers)
        assert bad.status_code == 400
        assert (await client.patch(f"{URL}/{BRUTE}", json={}, headers=admin_headers)).status_code == 422
        assert (await client.delete(f"{URL}/{BRUTE}", headers=admin_headers)).status_code == 204
        assert (await client.get(f"{URL}/{BRUTE}", headers=admin_headers)).status_code == 404

    async def test_bundled_rule_delete_is_409(self, client, admin_headers, bundled):
        rows = (await client.get(URL, params={"q": "cleared"}, headers=admin_headers)).json()["items"]
        resp = await client.delete(f"{URL}/{rows[0]['id']}", headers=admin_headers)
        assert (resp.status_code, resp.json()["detail"]["code"]) == (409, "bundled_rule")
        assert "disable it instead" in resp.json()["detail"]["message"]


class TestDryRun:
    async def test_events_and_stored_logs_match_without_writes(self, client, role_headers):
        async with session_scope() as session:
            log = SiemLogModel(
                source="dc01", format="evtx", product="windows", service="security", event_id="4625",
                fields={"EventID": 4625, "Channel": "Security", "TargetUserName": "bob"},
            )  # fmt: skip
            session.add(log)
        events = [{"EventID": 4625, "Channel": "Security", "TargetUserName": "eve"}, {"EventID": 4624}]
        body = {"yaml": rule_yaml(), "events": events, "log_ids": [str(log.id)]}
        resp = await client.post(f"{URL}/test", json=body, headers=role_headers["api_service"])
        assert resp.status_code == 200, resp.text
        result = resp.json()
        assert (result["events"], result["matched"]) == (3, 2)
        assert [len(r["matches"]) for r in result["results"]] == [1, 0, 1]
        assert result["results"][2]["log_id"] == str(log.id)
        assert result["results"][0]["matches"][0]["matched_fields"] == {"EventID": 4625}
        assert await _count(DetectionRuleModel) == 0

    async def test_unsupported_rule_is_reported_and_missing_log_is_404(self, client, admin_headers):
        resp = await client.post(
            f"{URL}/test", json={"yaml": PLACEHOLDER_RULE, "events": [{"a": 1}]}, headers=admin_headers
        )
        assert resp.json()["rules"][0]["supported"] is False and resp.json()["matched"] == 0
        missing = "00000000-0000-4000-8000-000000000000"
        resp = await client.post(
            f"{URL}/test", json={"yaml": rule_yaml(), "log_ids": [missing]}, headers=admin_headers
        )
        assert resp.status_code == 404 and missing in resp.json()["detail"]["message"]

    async def test_viewer_cannot_test(self, client, role_headers):
        resp = await client.post(
            f"{URL}/test", json={"yaml": rule_yaml(), "events": [{}]}, headers=role_headers["viewer"]
        )
        assert resp.status_code == 403


def test_bundled_pack_exists():
    assert any(Path(BUNDLED_RULES).glob("*.yml"))
