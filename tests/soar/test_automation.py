"""Tests for aurorasoc.soar.automation (rule conditions and actions) and the /automation-rules routes."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError
from soar_support import action_log, make_alert
from sqlalchemy import select

from aurorasoc.core import runtime
from aurorasoc.core.bus.base import AGENT_TASKS_STREAM, BusMessage
from aurorasoc.core.bus.current import set_bus
from aurorasoc.core.bus.inprocess import InProcessBus
from aurorasoc.core.models import AutomationRuleModel, PlaybookExecutionModel
from aurorasoc.soar.automation import RuleConditions, RuleDefinition, evaluate_automation_rules
from aurorasoc.soar.automation_rules import AutomationRuleService
from aurorasoc.soar.playbooks import PlaybookService

SSH = {"title": "SSH brute force on vpn-01", "source": "linux", "severity": "high", "iocs": ["192.0.2.44"],
       "mitre_techniques": ["T1110.001"], "affected_assets": ["host:vpn-01", "user:bob"]}  # fmt: skip


async def _rule(session, **fields) -> AutomationRuleModel:  # type: ignore[no-untyped-def]
    rule = await AutomationRuleService(session).create(RuleDefinition(**fields), actor="tester")
    await session.commit()
    return rule


class TestConditions:
    @pytest.mark.parametrize(
        ("conditions", "expected"),
        [
            ({}, True),
            ({"severity_in": ["high", "critical"]}, True),
            ({"min_severity": "critical"}, False),
            ({"source_in": ["windows"]}, False),
            ({"mitre_any": ["T1110.001", "T1059"]}, True),
            ({"title_contains": "brute FORCE"}, True),
            ({"ioc_type_any": ["ip"]}, True),
            ({"ioc_type_any": ["domain"]}, False),
            ({"min_occurrences": 2}, False),
            ({"severity_in": ["high"], "source_in": ["linux"], "min_occurrences": 1}, True),
        ],
    )
    async def test_all_conditions_must_hold(self, conditions, expected, db_session):
        alert = await make_alert(db_session, **SSH)
        await _rule(db_session, name="r", conditions=conditions, action="set_status",
                    action_params={"status": "triaged"})  # fmt: skip
        fired = await evaluate_automation_rules(db_session, alert)
        assert bool(fired) is expected
        assert alert.status == ("triaged" if expected else "new")

    def test_unknown_condition_and_incomplete_actions_are_rejected(self):
        with pytest.raises(ValidationError):
            RuleConditions.model_validate({"severity_above": "high"})
        with pytest.raises(ValidationError, match="run_playbook needs playbook_id"):
            RuleDefinition(name="x", action="run_playbook")
        with pytest.raises(ValidationError, match="set_status needs"):
            RuleDefinition(name="x", action="set_status", action_params={"status": "gone"})


class TestActions:
    async def test_run_playbook_in_real_mode_and_counters(self, db_session):
        await PlaybookService(db_session).import_showcase(actor="tester")
        playbook = await PlaybookService(db_session).by_name("phishing-response")
        playbook.enabled = True
        alert = await make_alert(db_session, **SSH)
        rule = await _rule(db_session, name="phish", action="run_playbook", playbook_id=playbook.id,
                           conditions={"ioc_type_any": ["ip"]}, cooldown_seconds=600)  # fmt: skip

        first = await evaluate_automation_rules(db_session, alert)
        second = await evaluate_automation_rules(db_session, alert)  # inside the cooldown

        execution = (await db_session.scalars(select(PlaybookExecutionModel))).one()
        assert first[0].outcome == {"execution_id": str(execution.id), "status": "completed"}
        assert (execution.trigger, execution.triggered_by) == ("automation_rule", "rule:phish")
        assert second == [] and rule.fire_count == 1 and rule.last_fired_at is not None
        assert ("block_ip", "192.0.2.44") in await action_log(db_session, execution.id)

    async def test_disabled_or_too_severe_playbook_is_not_started(self, db_session):
        await PlaybookService(db_session).import_showcase(actor="tester")  # imported disabled
        playbook = await PlaybookService(db_session).by_name("ransomware-emergency")
        alert = await make_alert(db_session, **SSH)
        await _rule(db_session, name="rw", action="run_playbook", playbook_id=playbook.id)
        disabled = await evaluate_automation_rules(db_session, alert)
        playbook.enabled = True
        below = await evaluate_automation_rules(db_session, alert)
        assert disabled[0].outcome == {"skipped": "playbook missing or disabled"}
        assert "severity filter (critical)" in below[0].outcome["skipped"]
        assert (await db_session.scalars(select(PlaybookExecutionModel))).all() == []

    async def test_dry_run_records_a_preview_and_dummy_evaluates_nothing(self, db_session):
        await PlaybookService(db_session).import_showcase(actor="tester")
        playbook = await PlaybookService(db_session).by_name("phishing-response")
        playbook.enabled = True
        alert = await make_alert(db_session, **SSH)
        rule = await _rule(db_session, name="phish", action="run_playbook", playbook_id=playbook.id)
        try:
            runtime.set_mode("dummy")
            assert await evaluate_automation_rules(db_session, alert) == []
            runtime.set_mode("dry_run")
            fired = await evaluate_automation_rules(db_session, alert)
        finally:
            runtime.reset_mode()
        stored = (await db_session.scalars(select(PlaybookExecutionModel))).one()
        assert fired[0].outcome == {"preview": True, "steps": 4} and stored.preview is True
        assert rule.fire_count == 1 and await action_log(db_session) == []

    async def test_create_case_in_priority_order_then_skip(self, db_session):
        alert = await make_alert(db_session, **SSH)
        await _rule(db_session, name="second", priority=20, action="create_case")
        await _rule(db_session, name="first", priority=10, action="create_case",
                    action_params={"title": "Brute force case"})  # fmt: skip
        fired = await evaluate_automation_rules(db_session, alert)
        assert [f.rule_name for f in fired] == ["first", "second"]
        assert fired[0].outcome["case_id"] == str(alert.case_id)
        assert fired[1].outcome["skipped"] == "alert already in a case"

    async def test_dispatch_agent_publishes_a_task(self, db_session):
        bus, tasks = InProcessBus(max_deliveries=1, backoff_base=0), []

        async def take(message: BusMessage) -> None:
            tasks.append(message.data)

        bus.subscribe(AGENT_TASKS_STREAM, "test", take)
        await bus.start()
        set_bus(bus)
        try:
            alert = await make_alert(db_session, **SSH)
            params = {"agent": "threat_hunter", "prompt_template": "Investigate {{ .alert.ips }}"}
            await _rule(db_session, name="hunt", action="dispatch_agent", action_params=params)
            await evaluate_automation_rules(db_session, alert)
            await bus.join(AGENT_TASKS_STREAM, "test")
        finally:
            await bus.close()
            set_bus(None)
        assert tasks == [{"agent": "threat_hunter", "prompt": "Investigate 192.0.2.44", "priority": 5,
                          "alert_id": str(alert.id), "requested_by": "rule:hunt"}]  # fmt: skip


class TestApi:
    async def test_crud_and_validation(self, client, admin_headers):
        url = "/api/v1/automation-rules"
        body = {"name": "triage ssh", "action": "set_status", "action_params": {"status": "triaged"},
                "conditions": {"source_in": ["linux"]}}  # fmt: skip
        created = await client.post(url, json=body, headers=admin_headers)
        assert created.status_code == 201, created.text
        rule = created.json()
        assert (rule["conditions"], rule["fire_count"], rule["priority"]) == (
            {"source_in": ["linux"]},
            0,
            100,
        )

        disabled = await client.patch(f"{url}/{rule['id']}", json={"enabled": False}, headers=admin_headers)
        broken = await client.patch(
            f"{url}/{rule['id']}", json={"action": "run_playbook"}, headers=admin_headers
        )
        bad_body = await client.post(url, json={"name": "x", "action": "explode"}, headers=admin_headers)
        assert disabled.json()["enabled"] is False
        assert broken.status_code == 400 and "playbook_id" in broken.json()["detail"]["message"]
        assert bad_body.status_code == 422

        assert (await client.delete(f"{url}/{rule['id']}", headers=admin_headers)).status_code == 204
        assert (await client.get(url, headers=admin_headers)).json()["total"] == 0


async def test_the_alert_pipeline_runs_rules_on_every_new_alert(client, admin_headers):
    """End to end: a rule created over the API acts on an alert posted over the API."""
    rule = {"name": "triage linux", "action": "set_status", "action_params": {"status": "triaged"},
            "conditions": {"source_in": ["linux"]}}  # fmt: skip
    assert (
        await client.post("/api/v1/automation-rules", json=rule, headers=admin_headers)
    ).status_code == 201
    posted = await client.post("/api/v1/alerts", json=SSH, headers=admin_headers)
    other = await client.post("/api/v1/alerts", json={**SSH, "title": "other", "source": "windows"},
                              headers=admin_headers)  # fmt: skip
    alert_id, other_id = posted.json()["id"], other.json()["id"]
    for _ in range(100):
        status = (await client.get(f"/api/v1/alerts/{alert_id}", headers=admin_headers)).json()["status"]
        if status == "triaged":
            break
        await asyncio.sleep(0.02)
    rules = (await client.get("/api/v1/automation-rules", headers=admin_headers)).json()["items"]
    untouched = (await client.get(f"/api/v1/alerts/{other_id}", headers=admin_headers)).json()
    assert status == "triaged" and untouched["status"] == "new"
    assert rules[0]["fire_count"] == 1 and rules[0]["last_fired_at"] is not None
