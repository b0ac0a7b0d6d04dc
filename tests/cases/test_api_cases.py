"""Tests for the /api/v1/cases routes and alert promote / case-link."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from aurorasoc.cases.filters import CaseFilters
from aurorasoc.cases.service import CaseService
from aurorasoc.core import runtime
from aurorasoc.core.api_keys import generate_api_key, hash_api_key
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AlertModel, ApiKeyModel, AuditLogModel, CaseModel
from aurorasoc.core.vocabulary import CaseStatus, Severity

URL = "/api/v1/cases"


async def _alert(client, headers, **overrides):
    body = {
        "title": "Beacon to C2",
        "source": "suricata",
        "severity": "medium",
        "iocs": ["198.51.100.9"],
        **overrides,
    }
    resp = await client.post("/api/v1/alerts", json=body, headers=headers)
    return resp.json()


async def _case(client, headers, **overrides):
    resp = await client.post(
        URL, json={"title": "Investigation", "severity": "low", **overrides}, headers=headers
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _api_key(permissions: list[str]) -> dict[str, str]:
    raw = generate_api_key()
    async with session_scope() as session:
        session.add(
            ApiKeyModel(
                service_name="svc", key_hash=hash_api_key(raw), key_prefix="ak_c", permissions=permissions
            )
        )
    return {"X-API-Key": raw}


async def _db_down():
    return False


class TestCreate:
    async def test_from_alerts_links_and_merges(self, client, role_headers):
        h = role_headers["analyst"]
        a = await _alert(client, h, severity="critical", mitre_techniques=["T1071.001"])
        b = await _alert(client, h, title="Other", iocs=["evil.example.com"])
        case = await _case(client, h, alert_ids=[a["id"], b["id"]])
        assert case["severity"] == "critical"
        assert set(case["iocs"]) == {"198.51.100.9", "evil.example.com"}
        assert case["mitre_techniques"] == ["T1071.001"]
        detail = (await client.get(f"{URL}/{case['id']}", headers=h)).json()
        assert {x["id"] for x in detail["alerts"]} == {a["id"], b["id"]}
        assert [t["action"] for t in detail["timeline"]] == ["case_created", "alert_linked", "alert_linked"]
        assert detail["approvals"] == [] and detail["data_source"] == "database"

    async def test_a_linked_alert_says_when_its_events_happened(self, client, role_headers):
        """Spec §27.1: the entry is written at import, and carries the event time it is about."""
        h = role_headers["analyst"]
        seen = {"first_seen_at": "2019-07-19T14:47:40Z", "last_seen_at": "2019-07-19T14:50:02Z"}
        a = await _alert(client, h, title="Shadow Copy Deletion", **seen)
        case = await _case(client, h, alert_ids=[a["id"]])
        detail = (await client.get(f"{URL}/{case['id']}", headers=h)).json()
        linked = next(t for t in detail["timeline"] if t["action"] == "alert_linked")
        assert linked["data"]["first_seen_at"].startswith("2019-07-19T14:47:40")
        assert linked["data"]["last_seen_at"].startswith("2019-07-19T14:50:02")
        assert not linked["timestamp"].startswith("2019")  # when it was linked: now

    async def test_unknown_alert_is_404_and_nothing_persists(self, client, admin_headers):
        resp = await client.post(
            URL, json={"title": "x", "alert_ids": [str(uuid.uuid4())]}, headers=admin_headers
        )
        assert resp.status_code == 404
        async with session_scope() as session:
            assert await session.scalar(select(func.count()).select_from(CaseModel)) == 0

    async def test_audited(self, client, admin_headers):
        case = await _case(client, admin_headers)
        async with session_scope() as session:
            entry = (
                await session.execute(select(AuditLogModel).where(AuditLogModel.action == "case.create"))
            ).scalar_one()
        assert entry.resource_id == case["id"] and entry.details["after"]["title"] == "Investigation"


class TestList:
    async def test_filters_and_totals(self, client, admin_headers):
        for i, severity in enumerate(["low", "high", "high"]):
            await _case(client, admin_headers, title=f"case {i}", severity=severity)
        page = (await client.get(URL, params={"severity": "high", "limit": 1}, headers=admin_headers)).json()
        assert page["total"] == 2 and len(page["items"]) == 1
        assert (await client.get(URL, params={"q": "CASE 0"}, headers=admin_headers)).json()["total"] == 1
        assert (await client.get(URL, params={"status": "closed"}, headers=admin_headers)).json()[
            "total"
        ] == 0

    async def test_each_case_says_how_many_alerts_and_when_their_events_happened(self, client, admin_headers):
        spans = [
            ("2019-03-17T19:09:41Z", "2019-03-17T19:10:00Z"),
            ("2019-03-17T18:00:00Z", "2019-03-18T02:00:00Z"),
        ]
        alerts = [
            await _alert(client, admin_headers, title=f"alert {i}", first_seen_at=first, last_seen_at=last)
            for i, (first, last) in enumerate(spans)
        ]
        await _case(client, admin_headers, title="two", alert_ids=[a["id"] for a in alerts])
        await _case(client, admin_headers, title="empty")
        items = {c["title"]: c for c in (await client.get(URL, headers=admin_headers)).json()["items"]}
        two, empty = items["two"], items["empty"]
        assert (two["alert_count"], two["first_seen_at"], two["last_seen_at"]) == (
            2,
            "2019-03-17T18:00:00Z",
            "2019-03-18T02:00:00Z",
        )
        assert (empty["alert_count"], empty["first_seen_at"], empty["last_seen_at"]) == (0, None, None)
        detail = (await client.get(f"{URL}/{two['id']}", headers=admin_headers)).json()
        assert [(a["title"], a["first_seen_at"]) for a in detail["alerts"]] == [  # in event time
            ("alert 1", "2019-03-17T18:00:00Z"),
            ("alert 0", "2019-03-17T19:09:41Z"),
        ]


class TestLifecycle:
    async def test_legal_transition_writes_timeline_and_audit(self, client, admin_headers):
        case = await _case(client, admin_headers)
        resp = await client.patch(
            f"{URL}/{case['id']}", json={"status": "in_progress"}, headers=admin_headers
        )
        assert resp.json()["status"] == "in_progress"
        timeline = (await client.get(f"{URL}/{case['id']}/timeline", headers=admin_headers)).json()
        assert timeline[-1]["action"] == "status_changed"
        async with session_scope() as session:
            entry = (
                await session.execute(select(AuditLogModel).where(AuditLogModel.action == "case.update"))
            ).scalar_one()
        assert entry.details == {"before": {"status": "open"}, "after": {"status": "in_progress"}}

    async def test_illegal_transition_is_409_with_allowed_states(self, client, admin_headers):
        case = await _case(client, admin_headers)
        await client.patch(f"{URL}/{case['id']}", json={"status": "contained"}, headers=admin_headers)
        resp = await client.patch(
            f"{URL}/{case['id']}", json={"status": "pending_approval"}, headers=admin_headers
        )
        assert resp.status_code == 409
        assert resp.json()["detail"]["code"] == "invalid_transition"
        assert "in_progress" in resp.json()["detail"]["allowed"]

    async def test_resolving_needs_cases_close(self, client, admin_headers):
        case = await _case(client, admin_headers)
        writer = await _api_key(["cases:read", "cases:write"])
        resp = await client.patch(f"{URL}/{case['id']}", json={"status": "resolved"}, headers=writer)
        assert resp.status_code == 403 and "cases:close" in resp.text
        ok = await client.patch(f"{URL}/{case['id']}", json={"status": "contained"}, headers=writer)
        assert ok.status_code == 200

    async def test_close_then_reopen_clears_closed_at(self, client, role_headers):
        h = role_headers["analyst"]
        case = await _case(client, h)
        closed = (
            await client.post(f"{URL}/{case['id']}/close", json={"resolution_notes": "benign"}, headers=h)
        ).json()
        assert closed["status"] == "closed" and closed["closed_at"] and closed["resolution_notes"] == "benign"
        again = await client.post(f"{URL}/{case['id']}/close", json={}, headers=h)
        assert again.status_code == 409
        reopened = (
            await client.patch(f"{URL}/{case['id']}", json={"status": "in_progress"}, headers=h)
        ).json()
        assert reopened["status"] == "in_progress" and reopened["closed_at"] is None

    async def test_comment_and_assign(self, client, admin_headers):
        case = await _case(client, admin_headers)
        comment = await client.post(
            f"{URL}/{case['id']}/comments", json={"text": "Looks like a pentest"}, headers=admin_headers
        )
        assert comment.status_code == 201 and comment.json()["action"] == "comment"
        assigned = (
            await client.post(
                f"{URL}/{case['id']}/assign", json={"assigned_to": "analyst"}, headers=admin_headers
            )
        ).json()
        assert assigned["assigned_to"] == "analyst"
        blank = await client.post(f"{URL}/{case['id']}/comments", json={"text": "   "}, headers=admin_headers)
        assert blank.status_code == 422

    async def test_empty_patch_and_unknown_case(self, client, admin_headers):
        case = await _case(client, admin_headers)
        assert (await client.patch(f"{URL}/{case['id']}", json={}, headers=admin_headers)).status_code == 422
        assert (await client.get(f"{URL}/{uuid.uuid4()}", headers=admin_headers)).status_code == 404


class TestPromoteAndLink:
    async def test_promote_creates_in_progress_case(self, client, role_headers):
        h = role_headers["analyst"]
        alert = await _alert(client, h)
        preview = await client.post(f"/api/v1/alerts/{alert['id']}/promote?preview=true", json={}, headers=h)
        assert preview.status_code == 200 and preview.json()["preview"] is True
        assert (await client.get(f"/api/v1/alerts/{alert['id']}", headers=h)).json()["case_id"] is None
        resp = await client.post(
            f"/api/v1/alerts/{alert['id']}/promote", json={"severity": "high"}, headers=h
        )
        assert resp.status_code == 201
        case = resp.json()
        assert (case["status"], case["source"], case["severity"]) == (
            "in_progress",
            "alert_promotion",
            "high",
        )
        refreshed = (await client.get(f"/api/v1/alerts/{alert['id']}", headers=h)).json()
        assert refreshed["case_id"] == case["id"] and refreshed["status"] == "escalated"
        again = await client.post(f"/api/v1/alerts/{alert['id']}/promote", json={}, headers=h)
        assert again.status_code == 409 and again.json()["detail"]["case_id"] == case["id"]

    async def test_case_link_and_closed_case_refuses(self, client, admin_headers):
        alert = await _alert(client, admin_headers)
        case = await _case(client, admin_headers)
        resp = await client.post(
            f"/api/v1/alerts/{alert['id']}/case-link", json={"case_id": case["id"]}, headers=admin_headers
        )
        assert resp.json() == {"alert_id": alert["id"], "case_id": case["id"]}
        other = await _alert(client, admin_headers, title="Other")
        await client.post(f"{URL}/{case['id']}/close", json={}, headers=admin_headers)
        refused = await client.post(
            f"/api/v1/alerts/{other['id']}/case-link", json={"case_id": case["id"]}, headers=admin_headers
        )
        assert refused.status_code == 409

    async def test_operator_cannot_promote(self, client, role_headers, admin_headers):
        alert = await _alert(client, admin_headers)
        resp = await client.post(
            f"/api/v1/alerts/{alert['id']}/promote", json={}, headers=role_headers["operator"]
        )
        assert resp.status_code == 403


class TestModes:
    async def test_viewer_reads_but_cannot_write(self, client, role_headers):
        assert (await client.get(URL, headers=role_headers["viewer"])).status_code == 200
        resp = await client.post(URL, json={"title": "x"}, headers=role_headers["viewer"])
        assert resp.status_code == 403

    async def test_dry_run_blocks_case_creation(self, client, admin_headers):
        runtime.set_mode("dry_run")
        resp = await client.post(URL, json={"title": "x"}, headers=admin_headers)
        assert resp.status_code == 409
        assert resp.json()["detail"]["code"] == "mode_blocks_mutation"
        assert resp.json()["detail"]["mode"] == "dry_run"

    async def test_dummy_with_db_down_serves_showcase(self, client, admin_headers, monkeypatch):
        runtime.set_mode("dummy")
        monkeypatch.setattr("aurorasoc.core.web.deps.probe_database", _db_down)
        page = (await client.get(URL, headers=admin_headers)).json()
        assert page["data_source"] == "showcase" and page["total"] == 5
        assert sum(c["alert_count"] for c in page["items"]) == 7  # the showcase alerts filed in cases
        detail = await client.get(f"{URL}/{page['items'][0]['id']}", headers=admin_headers)
        assert detail.json()["timeline"] and detail.headers["x-aurora-data-source"] == "showcase"

    async def test_dry_run_with_db_down_is_503(self, client, admin_headers, monkeypatch):
        runtime.set_mode("dry_run")
        monkeypatch.setattr("aurorasoc.core.web.deps.probe_database", _db_down)
        assert (await client.get(URL, headers=admin_headers)).status_code == 503


class TestApiDetails:
    async def test_pages_do_not_overlap_and_severity_sort(self, client, admin_headers):
        for severity in ["low", "critical", "medium"]:
            await _case(client, admin_headers, severity=severity)
        params = {"sort": "-severity", "limit": 2}
        first = (await client.get(URL, params=params, headers=admin_headers)).json()
        second = (await client.get(URL, params={**params, "skip": 2}, headers=admin_headers)).json()
        severities = [c["severity"] for c in first["items"] + second["items"]]
        assert severities == ["critical", "medium", "low"] and first["total"] == second["total"] == 3

    async def test_status_change_wording_and_audit_ip(self, client, admin_headers):
        case = await _case(client, admin_headers)
        changes = {"status": "in_progress", "severity": "high", "assigned_to": "analyst"}
        await client.patch(f"{URL}/{case['id']}", json=changes, headers=admin_headers)
        timeline = (await client.get(f"{URL}/{case['id']}/timeline", headers=admin_headers)).json()
        details = {t["action"]: t["details"] for t in timeline}
        assert details["status_changed"] == "Status open → in_progress"
        assert details["severity_changed"] == "Severity low → high"
        assert details["assignment_changed"] == "Assignment unassigned → analyst"
        async with session_scope() as session:
            entry = (
                await session.execute(select(AuditLogModel).where(AuditLogModel.action == "case.update"))
            ).scalar_one()
        assert entry.ip and entry.details["after"]["severity"] == "high"

    async def test_same_status_is_a_noop(self, client, admin_headers):
        case = await _case(client, admin_headers)
        resp = await client.patch(f"{URL}/{case['id']}", json={"status": "open"}, headers=admin_headers)
        assert resp.status_code == 200
        timeline = (await client.get(f"{URL}/{case['id']}/timeline", headers=admin_headers)).json()
        assert [t["action"] for t in timeline] == ["case_created"]

    async def test_previews_persist_nothing(self, client, admin_headers):
        alert = await _alert(client, admin_headers)
        await client.post(f"/api/v1/alerts/{alert['id']}/promote?preview=true", headers=admin_headers)
        async with session_scope() as session:
            assert await session.scalar(select(func.count()).select_from(CaseModel)) == 0
        case = await _case(client, admin_headers)
        preview = await client.post(
            f"/api/v1/alerts/{alert['id']}/case-link?preview=true",
            json={"case_id": case["id"]},
            headers=admin_headers,
        )
        assert preview.status_code == 200 and preview.json()["effects"][0]["action"] == "link_alert"
        assert (await client.get(f"/api/v1/alerts/{alert['id']}", headers=admin_headers)).json()[
            "case_id"
        ] is None


class TestCaseService:
    async def test_link_alert_moves_it_and_merges(self, db_session):
        alert = AlertModel(title="Beacon", severity="critical", source="zeek", iocs=["192.0.2.7"])
        db_session.add(alert)
        await db_session.flush()
        service = CaseService(db_session)
        first = await service.create(title="First", severity="low", actor="a", alert_ids=[alert.id])
        second = await service.create(title="Second", severity=Severity.LOW, actor="a")
        assert await service.link_alert(second, alert, "a") is True
        assert await service.link_alert(second, alert, "a") is False
        assert (alert.case_id, second.severity, second.iocs) == (second.id, "critical", ["192.0.2.7"])
        linked = (await service.timeline(second.id))[-1]
        assert linked.action == "alert_linked" and linked.data["previous_case_id"] == str(first.id)

    async def test_legacy_status_counts_as_in_progress(self, db_session):
        db_session.add(CaseModel(title="Old", severity="medium", status="investigating"))
        await db_session.flush()
        service = CaseService(db_session)
        rows, total = await service.list(CaseFilters(status=[CaseStatus.IN_PROGRESS]), skip=0, limit=10)
        assert total == 1
        before, after = await service.update(rows[0], {"status": "escalated"}, "a")
        assert (before, after, rows[0].status) == ({}, {}, "investigating")
        await service.update(rows[0], {"status": "contained"}, "a")
        assert rows[0].status == "contained"

    async def test_showcase_rows_filter_like_sql(self):
        rows = [
            {"title": "Phish", "severity": "low", "status": "open", "updated_at": "2026-01-01"},
            {"title": "Ransom", "severity": "critical", "status": "escalated", "updated_at": "2026-01-02"},
        ]
        kept = CaseFilters(status=[CaseStatus.IN_PROGRESS], q="rans").apply(rows)
        assert [r["title"] for r in kept] == ["Ransom"]
        assert [r["title"] for r in CaseFilters(sort="severity").apply(rows)] == ["Ransom", "Phish"]


async def test_closed_cases_become_recallable_episodic_memory(client, role_headers):
    """Closing a case (either route) stores it for agents' similar-case recall (spec §17)."""
    from aurorasoc.memory import ORCHESTRATOR_MEMORY, TieredAgentMemory

    h = role_headers["analyst"]
    emotet = await _case(client, h, title="Emotet phishing wave on finance mailboxes")
    ssh = await _case(client, h, title="SSH brute force against bastion host")
    await client.post(
        f"{URL}/{emotet['id']}/close", json={"resolution_notes": "mailboxes cleaned"}, headers=h
    )
    await client.patch(f"{URL}/{ssh['id']}", json={"status": "closed"}, headers=h)
    memory = TieredAgentMemory(ORCHESTRATOR_MEMORY)
    phishing = await memory.recall_similar("phishing emails with Emotet attachments")
    brute = await memory.recall_similar("brute force SSH logins")
    assert phishing[0]["source_id"] == emotet["id"] and brute[0]["source_id"] == ssh["id"]
