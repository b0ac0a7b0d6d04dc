"""Tests for the /api/v1/attack routes and the ATT&CK techniques in alert detail."""

from __future__ import annotations

from typing import Any

import pytest

from aurorasoc.core import runtime

URL = "/api/v1/attack"
SHOWCASE_ALERT = "7202595d-a56b-55df-9b1d-1181217b8a4f"  # T1059.001 + T1566.001 in data/showcase/alerts.json


async def _db_down() -> bool:
    return False


class TestTechniqueRoute:
    async def test_viewer_gets_a_subtechnique_by_lowercase_id(self, client: Any, role_headers: Any) -> None:
        resp = await client.get(f"{URL}/techniques/t1059.001", headers=role_headers["viewer"])
        assert resp.status_code == 200, resp.text
        assert resp.json() == {
            "id": "T1059.001",
            "name": "PowerShell",
            "tactics": ["execution"],
            "parent": "T1059",
            "is_subtechnique": True,
            "deprecated": False,
            "revoked": False,
            "domain": "enterprise-attack",
            "url": "https://attack.mitre.org/techniques/T1059/001/",
            "attack_version": "17.0",
        }

    async def test_unknown_id_is_404_with_reason(self, client: Any, admin_headers: Any) -> None:
        resp = await client.get(f"{URL}/techniques/T9999.001", headers=admin_headers)
        assert resp.status_code == 404
        detail = resp.json()["detail"]
        assert detail["code"] == "not_found"
        assert detail["message"] == "technique T9999.001 is not in the bundled ATT&CK 17.0 index"

    @pytest.mark.parametrize("tid", ["TA0002", "T1059.1", "T10590", "powershell"])
    async def test_malformed_id_is_422(self, client: Any, admin_headers: Any, tid: str) -> None:
        assert (await client.get(f"{URL}/techniques/{tid}", headers=admin_headers)).status_code == 422

    async def test_anonymous_is_401(self, client: Any) -> None:
        assert (await client.get(f"{URL}/techniques/T1059")).status_code == 401


class TestSearchRoute:
    async def test_name_search_is_ranked_and_paged(self, client: Any, role_headers: Any) -> None:
        params = {"q": "PowerShell", "limit": 1}
        resp = await client.get(f"{URL}/search", params=params, headers=role_headers["viewer"])
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert (body["total"], body["skip"], body["limit"]) == (2, 0, 1)
        assert [i["id"] for i in body["items"]] == ["T1059.001"]
        second = await client.get(
            f"{URL}/search", params={**params, "skip": 1}, headers=role_headers["viewer"]
        )
        assert [i["name"] for i in second.json()["items"]] == ["PowerShell Profile"]

    async def test_id_prefix_and_blank_query(self, client: Any, admin_headers: Any) -> None:
        prefix = (await client.get(f"{URL}/search", params={"q": "t1003"}, headers=admin_headers)).json()
        assert prefix["items"][0]["id"] == "T1003" and prefix["total"] == 9
        browse = (await client.get(f"{URL}/search", headers=admin_headers)).json()
        assert browse["total"] > 600 and len(browse["items"]) == 50

    async def test_limits_are_validated(self, client: Any, admin_headers: Any) -> None:
        for params in ({"q": "x", "limit": 201}, {"q": "x" * 101}):
            assert (
                await client.get(f"{URL}/search", params=params, headers=admin_headers)
            ).status_code == 422


class TestAlertDetailTechniques:
    async def test_known_fallback_and_unknown_techniques(self, client: Any, admin_headers: Any) -> None:
        body = {
            "title": "Encoded PowerShell then LSASS access",
            "source": "edr",
            "severity": "high",
            "mitre_techniques": ["t1059.001", "T1003.999", "T9999"],
        }
        created = await client.post("/api/v1/alerts", json=body, headers=admin_headers)
        assert created.status_code == 201, created.text
        detail = await client.get(f"/api/v1/alerts/{created.json()['id']}", headers=admin_headers)
        assert detail.json()["techniques"] == [
            {
                "id": "T1059.001",
                "name": "PowerShell",
                "tactics": ["execution"],
                "url": "https://attack.mitre.org/techniques/T1059/001/",
            },
            {"id": "T1003.999", "name": None, "tactics": ["credential-access"], "url": None},
            {"id": "T9999", "name": None, "tactics": [], "url": None},
        ]

    async def test_showcase_detail_names_techniques(
        self, client: Any, admin_headers: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        runtime.set_mode("dummy")
        monkeypatch.setattr("aurorasoc.core.web.deps.probe_database", _db_down)
        detail = (await client.get(f"/api/v1/alerts/{SHOWCASE_ALERT}", headers=admin_headers)).json()
        assert detail["data_source"] == "showcase"
        named = {t["id"]: (t["name"], t["tactics"]) for t in detail["techniques"]}
        assert named == {
            "T1059.001": ("PowerShell", ["execution"]),
            "T1566.001": ("Spearphishing Attachment", ["initial-access"]),
        }
