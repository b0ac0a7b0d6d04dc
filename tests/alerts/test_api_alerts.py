"""Tests for the /api/v1/alerts routes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from aurorasoc.core import runtime
from aurorasoc.core.api_keys import generate_api_key, hash_api_key
from aurorasoc.core.bus.base import BusMessage
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AlertModel, ApiKeyModel, AuditLogModel, CaseModel

URL = "/api/v1/alerts"


def _body(**overrides):
    return {
        "title": "SSH brute force",
        "source": "linux",
        "severity": "high",
        "iocs": ["203.0.113.5"],
        **overrides,
    }


async def _post(client, headers, **overrides):
    resp = await client.post(URL, json=_body(**overrides), headers=headers)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


async def _db_down():
    return False


class TestCreate:
    async def test_new_then_dedup_hit(self, client, role_headers):
        first = await client.post(URL, json=_body(), headers=role_headers["analyst"])
        again = await client.post(
            URL, json=_body(iocs=[" 203.0.113.5 "]), headers=role_headers["api_service"]
        )
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["id"] == first.json()["id"]
        assert again.json()["occurrence_count"] == 2
        assert "dedup_hash" not in again.json()

    async def test_invalid_body_is_422_and_nothing_stored(self, client, admin_headers):
        resp = await client.post(URL, json={"title": "", "source": "x"}, headers=admin_headers)
        assert resp.status_code == 422
        assert (await client.get(URL, headers=admin_headers)).json()["total"] == 0

    async def test_unknown_field_rejected(self, client, admin_headers):
        resp = await client.post(URL, json=_body(dedup_hash="x"), headers=admin_headers)
        assert resp.status_code == 422

    async def test_viewer_cannot_create(self, client, role_headers):
        assert (await client.post(URL, json=_body(), headers=role_headers["viewer"])).status_code == 403

    async def test_batch(self, client, admin_headers):
        alerts = [_body(), _body(), _body(title="Other")]
        resp = await client.post(f"{URL}/batch", json={"alerts": alerts}, headers=admin_headers)
        assert resp.json()["created"] == 2 and resp.json()["deduplicated"] == 1
        assert len(resp.json()["items"]) == 3

    async def test_batch_limit(self, client, admin_headers):
        resp = await client.post(f"{URL}/batch", json={"alerts": [_body()] * 501}, headers=admin_headers)
        assert resp.status_code == 422

    async def test_events_published_created_then_deduplicated(self, client, admin_headers):
        received: list[BusMessage] = []

        async def handler(message: BusMessage) -> None:
            received.append(message)

        get_bus().subscribe("aurora:alerts", "test-listener", handler)
        await get_bus().start()
        await _post(client, admin_headers)
        await _post(client, admin_headers)
        await asyncio.wait_for(get_bus().join("aurora:alerts", "test-listener"), 2)
        # the alert pipeline may add "updated" events when it files the alert into a case
        ingest = [m for m in received if m.data["event"] != "updated"]
        assert [m.data["event"] for m in ingest] == ["created", "deduplicated"]
        assert ingest[1].data["occurrence_count"] == 2


class TestList:
    @pytest.fixture
    async def seeded(self, client, admin_headers):
        for i, severity in enumerate(["critical", "high", "high", "medium", "low"]):
            await _post(
                client,
                admin_headers,
                title=f"alert {i}",
                severity=severity,
                source="linux" if i % 2 else "windows",
            )

    async def test_pagination_and_total(self, client, admin_headers, seeded):
        page = (await client.get(URL, params={"limit": 2, "skip": 1}, headers=admin_headers)).json()
        assert (page["total"], page["skip"], page["limit"], len(page["items"])) == (5, 1, 2, 2)
        assert page["data_source"] == "database"

    async def test_newest_first_by_default(self, client, admin_headers, seeded):
        items = (await client.get(URL, headers=admin_headers)).json()["items"]
        assert [i["title"] for i in items] == [f"alert {i}" for i in range(4, -1, -1)]

    async def test_severity_filter_is_repeatable(self, client, admin_headers, seeded):
        resp = await client.get(f"{URL}?severity=critical&severity=low", headers=admin_headers)
        assert sorted(i["severity"] for i in resp.json()["items"]) == ["critical", "low"]

    async def test_source_status_and_text_filters(self, client, admin_headers, seeded):
        assert (await client.get(URL, params={"source": "linux"}, headers=admin_headers)).json()["total"] == 2
        assert (await client.get(URL, params={"q": "ALERT 3"}, headers=admin_headers)).json()["total"] == 1
        assert (await client.get(URL, params={"status": "resolved"}, headers=admin_headers)).json()[
            "total"
        ] == 0

    async def test_sort_by_severity(self, client, admin_headers, seeded):
        items = (await client.get(URL, params={"sort": "-severity"}, headers=admin_headers)).json()["items"]
        assert [i["severity"] for i in items] == ["critical", "high", "high", "medium", "low"]

    async def test_time_range(self, client, admin_headers, seeded):
        future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        assert (await client.get(URL, params={"since": future}, headers=admin_headers)).json()["total"] == 0
        resp = await client.get(
            URL, params={"since": future, "until": datetime.now(UTC).isoformat()}, headers=admin_headers
        )
        assert resp.status_code == 400

    async def test_time_range_is_on_event_time(self, client, admin_headers):
        """An import of 2019 logs today is found under 2019, by the span of its events."""
        spans = {"early": ("2019-03-01T10:00:00Z", "2019-03-01T11:00:00Z"),
                 "spanning": ("2019-03-01T23:00:00Z", "2019-03-02T01:00:00Z"),
                 "late": ("2019-03-03T08:00:00Z", "2019-03-03T08:05:00Z")}  # fmt: skip
        for title, (first, last) in spans.items():
            await _post(client, admin_headers, title=title, first_seen_at=first, last_seen_at=last)

        async def titles(**params):
            resp = await client.get(URL, params=params, headers=admin_headers)
            return {i["title"] for i in resp.json()["items"]}

        assert await titles(since="2019-03-02T00:00:00Z", until="2019-03-02T23:59:59Z") == {"spanning"}
        assert await titles(since="2019-03-01T12:00:00Z") == {"spanning", "late"}
        assert await titles(until="2019-03-01T12:00:00Z") == {"early"}
        assert await titles(since=datetime.now(UTC).isoformat()) == set()  # stored today, happened in 2019

    async def test_bad_filters_rejected(self, client, admin_headers):
        assert (
            await client.get(URL, params={"severity": "urgent"}, headers=admin_headers)
        ).status_code == 400
        assert (await client.get(URL, params={"limit": 201}, headers=admin_headers)).status_code == 422
        assert (await client.get(URL, params={"sort": "password"}, headers=admin_headers)).status_code == 422

    async def test_viewer_can_read(self, client, role_headers, seeded):
        assert (await client.get(URL, headers=role_headers["viewer"])).status_code == 200


class TestDetail:
    async def test_detail_has_typed_iocs_and_techniques(self, client, admin_headers):
        # Below the auto-case floor a lone alert stays out of a case whenever the pipeline runs.
        alert = await _post(
            client,
            admin_headers,
            severity="medium",
            iocs=["203.0.113.5", "evil.example.com"],
            mitre_techniques=["t1110.001"],
        )
        detail = (await client.get(f"{URL}/{alert['id']}", headers=admin_headers)).json()
        assert {(i["type"], i["value"]) for i in detail["typed_iocs"]} == {
            ("ip", "203.0.113.5"),
            ("domain", "evil.example.com"),
        }
        assert detail["techniques"][0]["id"] == "T1110.001"
        assert detail["case"] is None

    async def test_unknown_is_404_and_bad_id_is_422(self, client, admin_headers):
        assert (await client.get(f"{URL}/{uuid.uuid4()}", headers=admin_headers)).status_code == 404
        assert (await client.get(f"{URL}/not-a-uuid", headers=admin_headers)).status_code == 422


class TestTriage:
    async def test_patch_audits_before_and_after(self, client, role_headers):
        alert = await _post(client, role_headers["analyst"])
        resp = await client.patch(
            f"{URL}/{alert['id']}", json={"status": "triaged"}, headers=role_headers["analyst"]
        )
        assert resp.json()["status"] == "triaged"
        async with session_scope() as session:
            entry = (
                await session.execute(select(AuditLogModel).where(AuditLogModel.action == "alert.update"))
            ).scalar_one()
        assert entry.details == {"before": {"status": "new"}, "after": {"status": "triaged"}}
        assert entry.actor == "analyst" and entry.resource_id == alert["id"]

    async def test_patch_validation(self, client, admin_headers):
        alert = await _post(client, admin_headers)
        assert (await client.patch(f"{URL}/{alert['id']}", json={}, headers=admin_headers)).status_code == 400
        for field in ("status", "severity"):
            resp = await client.patch(f"{URL}/{alert['id']}", json={field: None}, headers=admin_headers)
            assert resp.status_code == 422
        resp = await client.patch(
            f"{URL}/{alert['id']}", json={"resolution": "benign"}, headers=admin_headers
        )
        assert resp.status_code == 400

    async def test_null_unassigns_the_agent(self, client, admin_headers):
        alert = await _post(client, admin_headers)
        url = f"{URL}/{alert['id']}"
        assigned = await client.patch(url, json={"assigned_agent": "threat_hunter"}, headers=admin_headers)
        assert assigned.json()["assigned_agent"] == "threat_hunter"
        cleared = await client.patch(url, json={"assigned_agent": None}, headers=admin_headers)
        assert cleared.status_code == 200 and cleared.json()["assigned_agent"] is None

    async def test_acknowledge(self, client, role_headers):
        alert = await _post(client, role_headers["analyst"])
        resp = await client.post(f"{URL}/{alert['id']}/acknowledge", headers=role_headers["analyst"])
        body = resp.json()
        assert (body["status"], body["resolution"], body["acknowledged_by"]) == (
            "resolved",
            "benign",
            "analyst",
        )

    async def test_acknowledge_preview_persists_nothing(self, client, admin_headers):
        alert = await _post(client, admin_headers)
        resp = await client.post(f"{URL}/{alert['id']}/acknowledge?preview=true", headers=admin_headers)
        assert resp.json()["preview"] is True and resp.json()["effects"]
        assert (await client.get(f"{URL}/{alert['id']}", headers=admin_headers)).json()["status"] == "new"


class TestBulk:
    async def test_resolve_and_escalate_report_missing_ids(self, client, admin_headers):
        a = await _post(client, admin_headers, title="a")
        b = await _post(client, admin_headers, title="b")
        ghost = str(uuid.uuid4())
        body = {"alert_ids": [a["id"], b["id"], ghost], "action": "escalate"}
        resp = (await client.post(f"{URL}/bulk", json=body, headers=admin_headers)).json()
        assert resp["updated"] == 2 and resp["missing"] == [ghost]
        assert (await client.get(f"{URL}/{a['id']}", headers=admin_headers)).json()["status"] == "escalated"

    async def test_create_case_links_alerts(self, client, role_headers):
        a = await _post(client, role_headers["analyst"], title="a", severity="medium")
        b = await _post(client, role_headers["analyst"], title="b", severity="critical")
        body = {"alert_ids": [a["id"], b["id"]], "action": "create_case", "title": "Brute force campaign"}
        resp = (await client.post(f"{URL}/bulk", json=body, headers=role_headers["analyst"])).json()
        assert resp["linked"] == 2
        async with session_scope() as session:
            case = await session.get(CaseModel, uuid.UUID(resp["case_id"]))
            linked = (await session.execute(select(AlertModel.case_id))).scalars().all()
        assert case.severity == "critical" and case.title == "Brute force campaign"
        assert set(linked) == {case.id}

    async def test_create_case_needs_cases_write(self, client, admin_headers):
        raw = generate_api_key()
        async with session_scope() as session:
            session.add(
                ApiKeyModel(
                    service_name="fwd",
                    key_hash=hash_api_key(raw),
                    key_prefix="ak_t",
                    permissions=["alerts:write"],
                )
            )
        a = await _post(client, admin_headers)
        body = {"alert_ids": [a["id"]], "action": "create_case"}
        resp = await client.post(f"{URL}/bulk", json=body, headers={"X-API-Key": raw})
        assert resp.status_code == 403
        assert "cases:write" in resp.text


class TestModes:
    async def test_dry_run_allows_pipeline_but_blocks_operator_writes(self, client, admin_headers):
        runtime.set_mode("dry_run")
        alert = await _post(client, admin_headers)
        resp = await client.patch(f"{URL}/{alert['id']}", json={"status": "triaged"}, headers=admin_headers)
        assert resp.status_code == 409
        assert resp.json()["detail"]["code"] == "mode_blocks_mutation"
        preview = await client.post(f"{URL}/{alert['id']}/acknowledge?preview=true", headers=admin_headers)
        assert preview.status_code == 200

    async def test_dummy_blocks_ingest(self, client, admin_headers):
        runtime.set_mode("dummy")
        resp = await client.post(URL, json=_body(), headers=admin_headers)
        assert resp.status_code == 409

    async def test_dummy_with_db_down_serves_showcase(self, client, admin_headers, monkeypatch):
        runtime.set_mode("dummy")
        monkeypatch.setattr("aurorasoc.core.web.deps.probe_database", _db_down)
        resp = await client.get(URL, params={"severity": "critical"}, headers=admin_headers)
        assert resp.headers["x-aurora-data-source"] == "showcase"
        body = resp.json()
        assert body["data_source"] == "showcase" and body["total"] >= 1
        assert {i["severity"] for i in body["items"]} == {"critical"}
        detail = await client.get(f"{URL}/{body['items'][0]['id']}", headers=admin_headers)
        assert detail.json()["data_source"] == "showcase"

    async def test_real_with_db_down_is_503(self, client, admin_headers, monkeypatch):
        monkeypatch.setattr("aurorasoc.core.web.deps.probe_database", _db_down)
        resp = await client.get(URL, headers=admin_headers)
        assert resp.status_code == 503
        assert resp.json()["detail"]["code"] == "database_unavailable"

    async def test_live_reads_carry_database_source_header(self, client, admin_headers):
        resp = await client.get(URL, headers=admin_headers)
        assert resp.headers["x-aurora-data-source"] == "database"


class TestConcurrentDedup:
    async def test_simultaneous_repeats_make_one_alert(self, client, admin_headers):
        responses = await asyncio.gather(
            *(client.post(URL, json=_body(), headers=admin_headers) for _ in range(20))
        )
        assert sorted(r.status_code for r in responses).count(201) == 1
        page = (await client.get(URL, headers=admin_headers)).json()
        assert page["total"] == 1
        assert page["items"][0]["occurrence_count"] == 20

    async def test_reopening_a_superseded_alert_is_409(self, client, admin_headers):
        first = await _post(client, admin_headers)
        await client.patch(f"{URL}/{first['id']}", json={"status": "resolved"}, headers=admin_headers)
        second = await _post(client, admin_headers)
        assert second["id"] != first["id"]
        resp = await client.patch(f"{URL}/{first['id']}", json={"status": "new"}, headers=admin_headers)
        assert resp.status_code == 409
        assert resp.json()["detail"]["code"] == "duplicate_open_alert"
        assert (await client.get(f"{URL}/{first['id']}", headers=admin_headers)).json()[
            "status"
        ] == "resolved"


async def test_an_observable_without_type_or_value_is_a_422_not_a_500(client, admin_headers):
    """Found by schemathesis on the merged tree: ``observables: [{}]`` crashed alert creation."""
    bad = {"source": "fuzz", "title": "t", "observables": [{}]}
    single = await client.post("/api/v1/alerts", json=bad, headers=admin_headers)
    batch = await client.post("/api/v1/alerts/batch", json={"alerts": [bad]}, headers=admin_headers)
    assert (single.status_code, batch.status_code) == (422, 422)
    assert "non-empty 'type' and 'value'" in single.text
