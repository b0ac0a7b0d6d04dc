"""Tests for the /api/v1/siem/logs routes: search, detail and promotion to a case."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from conftest import TEST_START
from sqlalchemy import insert, select

from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AuditLogModel, SiemLogModel, TimelineEntryModel
from aurorasoc.siem import search as siem_search
from aurorasoc.siem.search import SEARCH_CAP

URL = "/api/v1/siem/logs"
NOW = TEST_START  # replaced by the running test's start time (tests/conftest.py)


async def _logs(*rows: dict) -> list[str]:
    """Insert siem_logs rows directly (as the pipeline does); returns their ids, in order."""
    ids = []
    async with session_scope() as session:
        for i, values in enumerate(rows):
            log = SiemLogModel(
                source=values.pop("source", "edr"),
                format="json",
                timestamp=values.pop("timestamp", NOW - timedelta(minutes=i)),
                fields=values.pop("fields", {}),
                **values,
            )
            session.add(log)
            await session.flush()
            ids.append(str(log.id))
    return ids


class TestSearch:
    async def test_query_filters_and_newest_first(self, client, role_headers):
        ids = await _logs(
            {"host": "web-01", "message": "powershell -enc AAAA", "severity": "high"},
            {"host": "web-01", "message": "sshd accepted"},
            {"host": "db-01", "message": "powershell Get-Process", "source": "sysmon"},
            {"host": "web-01", "message": "powershell old", "timestamp": NOW - timedelta(days=3)},
        )
        h = role_headers["api_service"]
        both = await client.get(URL, params={"q": "powershell", "range": "24h"}, headers=h)
        assert both.status_code == 200, both.text
        assert [row["id"] for row in both.json()["items"]] == [ids[0], ids[2]]
        assert (both.json()["total"], both.json()["truncated"]) == (2, False)

        one = await client.get(URL, params={"q": "powershell NOT host:db-01", "source": "edr"}, headers=h)
        assert [row["id"] for row in one.json()["items"]] == [ids[0], ids[3]]
        high = await client.get(URL, params={"severity": "high", "host": ["web-01", "db-01"]}, headers=h)
        assert [row["id"] for row in high.json()["items"]] == [ids[0]]

    async def test_since_until_window(self, client, role_headers):
        ids = await _logs({"message": "a"}, {"message": "b"}, {"message": "c"})
        params = {"since": (NOW - timedelta(minutes=1, seconds=30)).isoformat(), "until": NOW.isoformat()}
        resp = await client.get(URL, params=params, headers=role_headers["analyst"])
        assert [row["id"] for row in resp.json()["items"]] == ids[:2]

    async def test_totals_are_real_and_flagged_when_estimated(self, client, role_headers, monkeypatch):
        """Spec §28: exact totals when cheap, a flagged lower bound past the count cap."""
        async with session_scope() as session:
            rows = [
                {
                    "id": uuid.uuid4(),
                    "source": "bulk",
                    "format": "line",
                    "timestamp": NOW - timedelta(seconds=i),
                }
                for i in range(SEARCH_CAP + 5)
            ]
            await session.execute(
                insert(SiemLogModel), [{**r, "fields": {}, "severity": "info"} for r in rows]
            )
        h = role_headers["analyst"]
        first = await client.get(URL, params={"limit": 200}, headers=h)
        assert (first.json()["total"], first.json()["total_is_estimate"]) == (SEARCH_CAP + 5, False)
        assert first.json()["items"][0]["id"] == str(rows[0]["id"])
        last = await client.get(URL, params={"skip": SEARCH_CAP, "limit": 200}, headers=h)
        assert len(last.json()["items"]) == 5
        monkeypatch.setattr(siem_search, "COUNT_CAP", SEARCH_CAP)
        capped = (await client.get(URL, params={"limit": 1}, headers=h)).json()
        assert (capped["total"], capped["total_is_estimate"], capped["truncated"]) == (SEARCH_CAP, True, True)

    @pytest.mark.parametrize(
        ("params", "needle"),
        [
            ({"q": "host:(web"}, "position 6"),
            ({"q": "dst_port:abc"}, "integer"),
            ({"range": "1h", "since": "2026-01-01T00:00:00+00:00"}, "either range"),
        ],
    )
    async def test_bad_input_is_400_with_a_reason(self, client, role_headers, params, needle):
        resp = await client.get(URL, params=params, headers=role_headers["analyst"])
        assert resp.status_code == 400
        assert needle in resp.json()["detail"]["message"]

    async def test_unknown_range_is_422(self, client, role_headers):
        resp = await client.get(URL, params={"range": "2h"}, headers=role_headers["analyst"])
        assert resp.status_code == 422

    async def test_viewer_cannot_search(self, client, role_headers):
        assert (await client.get(URL, headers=role_headers["viewer"])).status_code == 403


class TestDetail:
    async def test_returns_fields_and_raw(self, client, role_headers):
        [log_id] = await _logs({"host": "h", "raw": "<13>raw line", "fields": {"Event.EventData.Image": "x"}})
        resp = await client.get(f"{URL}/{log_id}", headers=role_headers["analyst"])
        assert resp.status_code == 200
        assert (resp.json()["raw"], resp.json()["fields"]) == ("<13>raw line", {"Event.EventData.Image": "x"})

    async def test_unknown_id_is_404(self, client, role_headers):
        resp = await client.get(f"{URL}/{uuid.uuid4()}", headers=role_headers["analyst"])
        assert resp.status_code == 404


class TestPromote:
    async def test_creates_siem_promotion_case_with_the_log_as_evidence(self, client, role_headers):
        [log_id] = await _logs(
            {"host": "web-01", "user_name": "bob", "message": "mimikatz sekurlsa", "severity": "critical"}
        )
        body = {"rule_id": "rule-42"}
        resp = await client.post(f"{URL}/{log_id}/promote", json=body, headers=role_headers["analyst"])
        assert resp.status_code == 201, resp.text
        case = resp.json()
        assert (case["source"], case["severity"], case["title"]) == (
            "siem_promotion",
            "critical",
            "SIEM: mimikatz sekurlsa",
        )
        assert case["affected_assets"] == ["host:web-01", "user:bob"]
        assert case["metadata"] == {"siem_log_ids": [log_id], "rule_id": "rule-42"}
        async with session_scope() as session:
            stmt = select(TimelineEntryModel).where(TimelineEntryModel.case_id == uuid.UUID(case["id"]))
            entries = {e.action: e for e in (await session.scalars(stmt)).all()}
            audit = (await session.scalars(select(AuditLogModel.action))).all()
        evidence = entries["evidence_added"].data
        assert (evidence["log_id"], evidence["host"], evidence["message"]) == (
            log_id,
            "web-01",
            "mimikatz sekurlsa",
        )
        assert "case_created" in entries
        assert "case.create" in audit

    async def test_body_overrides_title_and_severity(self, client, role_headers):
        [log_id] = await _logs({"message": "x", "severity": "info"})
        body = {"title": "Beaconing", "severity": "high"}
        resp = await client.post(f"{URL}/{log_id}/promote", json=body, headers=role_headers["analyst"])
        assert (resp.json()["title"], resp.json()["severity"]) == ("Beaconing", "high")

    async def test_needs_cases_write(self, client, role_headers):
        [log_id] = await _logs({"message": "x"})
        resp = await client.post(f"{URL}/{log_id}/promote", headers=role_headers["api_service"])
        assert resp.status_code == 403
        assert "cases:write" in resp.json()["detail"]

    async def test_unknown_log_is_404(self, client, role_headers):
        resp = await client.post(f"{URL}/{uuid.uuid4()}/promote", headers=role_headers["analyst"])
        assert resp.status_code == 404
