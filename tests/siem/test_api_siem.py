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


class TestFacets:
    async def test_top_values_of_every_match_in_the_range(self, client, role_headers):
        await _logs(
            {"host": "web-01", "user_name": "alice", "src_ip": "10.0.0.7"},
            {"host": "db-01", "user_name": "alice"},
            {"host": "web-01", "event_id": "4624"},
            {"host": "old-01", "timestamp": NOW - timedelta(days=3)},
        )
        body = (
            await client.get("/api/v1/siem/facets", params={"range": "24h"}, headers=role_headers["analyst"])
        ).json()
        assert body["host"] == [{"value": "web-01", "count": 2}, {"value": "db-01", "count": 1}]
        assert (
            body["user_name"] == [{"value": "alice", "count": 2}] and body["event_id"][0]["value"] == "4624"
        )
        assert body["sampled"] is None  # every match counted

    async def test_past_the_sample_the_newest_matches_are_counted(self, client, role_headers, monkeypatch):
        """At 1M events a GROUP BY per column over every match took seconds; a sample bounds it."""
        monkeypatch.setattr(siem_search, "FACET_SAMPLE", 3)
        # newest first; the newest names nothing a facet counts (a text log line), so it is passed over
        await _logs(
            {"message": "x"}, {"host": "a"}, {"user_name": "u"}, {"host": "a"}, {"host": "c"}, {"host": "c"}
        )
        body = (
            await client.get("/api/v1/siem/facets", params={"range": "all"}, headers=role_headers["analyst"])
        ).json()
        assert body["host"] == [{"value": "a", "count": 2}] and body["user_name"] == [
            {"value": "u", "count": 1}
        ]
        assert body["sampled"] == 3


class TestHistogram:
    @pytest.mark.parametrize("bounded", [False, True], ids=["range", "since-until"])
    async def test_counting_time_ranges_gives_the_grouped_answer(
        self, client, role_headers, monkeypatch, bounded
    ):
        """Without a query the buckets are counted as index ranges (one per bucket); the answer must be
        the per-row grouping's, the inclusive ``until`` included (an event sits exactly on it)."""
        await _logs(*({"message": f"m{i}", "timestamp": NOW - timedelta(hours=7 * i)} for i in range(12)))
        window = {"range": "7d"}
        if bounded:
            window = {
                "since": (NOW - timedelta(days=2)).isoformat(),
                "until": (NOW - timedelta(hours=14)).isoformat(),
            }
        h = role_headers["analyst"]
        counted = (await client.get("/api/v1/siem/histogram", params=window, headers=h)).json()
        monkeypatch.setattr(siem_search.LogFilters, "time_only", lambda _self: False)
        grouped = (await client.get("/api/v1/siem/histogram", params=window, headers=h)).json()
        assert counted == grouped
        assert sum(b["count"] for b in counted["buckets"]) == (5 if bounded else 12)  # 14 h … 42 h ago


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
