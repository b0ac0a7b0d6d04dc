"""Tests for the CPS fleet: health transitions, risk, access decisions, correlation rules, API."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from aurorasoc.core.models import AccessBadgeModel, AlertModel, CPSDeviceModel, SiemLogModel
from aurorasoc.core.types import utcnow
from aurorasoc.cps import access
from aurorasoc.cps.correlation import MIN_SAMPLES, CorrelationEngine
from aurorasoc.cps.health import refresh_device_health, risk_of
from aurorasoc.cps.outbox import CPSOutbox
from aurorasoc.cps.service import CPSService
from aurorasoc.cps.simulator import SimulatedDevice


def _device(device_id: str, **fields) -> CPSDeviceModel:  # type: ignore[no-untyped-def]
    return CPSDeviceModel(
        device_id=device_id, name=device_id, device_type="door_controller", metadata_={}, **fields
    )


class TestHealth:
    async def test_transitions_alert_once_stale_medium_then_offline_critical(self, db_session):
        now = utcnow()
        device = _device("h-1", last_seen_at=now - timedelta(minutes=15), health="online")
        db_session.add(device)
        await db_session.flush()
        outbox = await refresh_device_health(db_session, now)
        assert device.health == "stale"
        assert [(a.severity, a.title) for a, _ in outbox.alerts] == [("medium", "CPS device stale: h-1")]
        assert not (await refresh_device_health(db_session, now)).alerts  # no transition, no alert
        outbox = await refresh_device_health(db_session, now + timedelta(hours=1))
        assert device.health == "offline"
        alert = outbox.alerts[0][0]
        assert (alert.severity, alert.metadata_["dispatch_agent"]) == ("critical", "cps_security")

    def test_risk_adds_up_and_caps_alerts(self):
        now = utcnow()
        device = _device("r-1", attestation_status="failed")
        device.metadata_ = {"firmware_drift": True, "last_anomaly_at": now.isoformat()}
        assert risk_of(device, open_alerts=5, now=now) == 100.0
        assert risk_of(_device("r-2", attestation_status="pending"), open_alerts=1, now=now) == 20.0
        assert risk_of(_device("r-3", attestation_status="verified"), open_alerts=0, now=now) == 0.0


class TestAccess:
    async def test_decision_needs_enabled_unexpired_badge_zone_and_trusted_device(self, db_session):
        now = utcnow()
        badge = AccessBadgeModel(badge_id="b-1", holder="alice", zone_ids=["z1"], enabled=True)
        trusted = _device("door-1", zone_id="z1", trusted=True)
        assert access.decide(badge, trusted, now).allowed
        assert access.decide(badge, _device("door-2", zone_id="z2", trusted=True), now).reason.startswith(
            "zone"
        )
        assert (
            access.decide(badge, _device("door-3", zone_id="z1", trusted=False), now).reason
            == "device not trusted"
        )
        badge.valid_until = now - timedelta(seconds=1)
        assert access.decide(badge, trusted, now).reason == "badge expired"
        assert access.decide(None, trusted, now).reason == "unknown badge"

    async def test_three_denials_in_five_minutes_raise_a_medium_alert_and_are_logged(self, db_session):
        now, outbox = utcnow(), CPSOutbox()
        for _ in range(3):
            decision = await access.badge_event(db_session, None, "door-x", "stolen", now, outbox)
            assert not decision.allowed
        logs = (
            await db_session.scalars(select(SiemLogModel).where(SiemLogModel.product == "aurora_access"))
        ).all()
        assert [log.event_id for log in logs] == ["denied"] * 3
        alert = (await db_session.scalars(select(AlertModel))).one()
        assert (alert.severity, alert.title) == ("medium", "Repeated badge denials: zone unzoned")
        assert alert.metadata_["devices"] == ["door-x"]

    async def test_denials_across_a_zone_are_one_alert_listing_the_devices(self, db_session):
        now, outbox, service = utcnow(), CPSOutbox(), CPSService(db_session)
        body = {"device_type": "door", "name": "d", "firmware_stack": "zephyr", "zone_id": "lab"}
        doors = [await service.register({"device_id": f"door-{n}", **body}) for n in range(4)]
        for door in doors:
            for _ in range(3):
                await access.badge_event(db_session, door, door.device_id, "stolen", now, outbox)
        alert = (await db_session.scalars(select(AlertModel))).one()
        assert (alert.title, alert.occurrence_count) == ("Repeated badge denials: zone lab", 4)
        assert alert.metadata_["devices"] == [f"door-{n}" for n in range(4)]
        assert alert.affected_assets == [f"device:door-{n}" for n in range(4)]


class TestCorrelation:
    def _warm(self, engine: CorrelationEngine, metric: str, start):  # type: ignore[no-untyped-def]
        for i in range(MIN_SAMPLES):
            engine.telemetry("c-1", "z1", metric, 1.0 + (i % 3) * 0.01, start + timedelta(seconds=i))

    def test_outlier_is_anomalous_telemetry_with_evidence(self):
        engine, start = CorrelationEngine(), utcnow()
        self._warm(engine, "temperature", start)
        findings = engine.telemetry("c-1", "z1", "temperature", 50.0, start + timedelta(minutes=1))
        assert [f.type.value for f in findings] == ["ANOMALOUS_TELEMETRY"]
        assert findings[0].evidence["value"] == 50.0 and findings[0].evidence["samples"] == MIN_SAMPLES

    def test_vibration_spike_plus_badge_denial_is_physical_tamper(self):
        engine, start = CorrelationEngine(), utcnow()
        self._warm(engine, "vibration", start)
        engine.telemetry("c-1", "z1", "vibration", 9.0, start + timedelta(minutes=1))
        findings = engine.auth_failure("c-1", start + timedelta(minutes=3), {"badge_id": "b"})
        assert [(f.type.value, f.severity.value) for f in findings] == [("PHYSICAL_TAMPER", "critical")]
        assert "tamper" in findings[0].evidence or "auth_failure" in findings[0].evidence

    def test_tamper_and_failure_far_apart_do_not_correlate(self):
        engine, start = CorrelationEngine(), utcnow()
        engine.tamper_signal("c-2", start, {})
        assert engine.auth_failure("c-2", start + timedelta(minutes=6), {}) == []

    def test_flatline_over_thirty_minutes_is_reported_once(self):
        engine, start = CorrelationEngine(), utcnow()
        kinds = [f.type.value for m in range(40) for f in
                 engine.telemetry("c-3", None, "pressure", 2.0, start + timedelta(minutes=m))]  # fmt: skip
        assert kinds == ["ANOMALOUS_TELEMETRY"]

    def test_badge_in_two_zones_within_a_minute_is_location_anomaly(self):
        engine, now = CorrelationEngine(), utcnow()
        assert engine.badge("b-9", "z1", "door-1", now) == []
        findings = engine.badge("b-9", "z2", "door-2", now + timedelta(seconds=20))
        assert [(f.type.value, f.severity.value) for f in findings] == [("LOCATION_ANOMALY", "high")]
        assert engine.location("d", "hall-a", "hall-b")[0].evidence == {
            "registered": "hall-a",
            "reported": "hall-b",
        }

    def test_message_burst_over_five_times_baseline_is_communication_anomaly(self):
        engine, start = CorrelationEngine(), utcnow().replace(second=0, microsecond=0)
        for minute in range(12):
            engine.message("c-4", start + timedelta(minutes=minute))
        burst = start + timedelta(minutes=12)
        kinds = [f.type.value for _ in range(10) for f in engine.message("c-4", burst)]
        assert kinds == ["COMMUNICATION_ANOMALY"]


class TestAPI:
    async def test_register_list_summary_and_untrusted_command(self, client, admin_headers):
        sim = SimulatedDevice("api-dev-1", zone_id="z1")
        created = await client.post("/api/v1/cps/devices", json=sim.registration(), headers=admin_headers)
        assert created.status_code == 201 and created.json()["has_public_key"] is True
        dup = await client.post("/api/v1/cps/devices", json=sim.registration(), headers=admin_headers)
        assert dup.status_code == 409
        listed = (
            await client.get("/api/v1/cps/devices", params={"zone_id": "z1"}, headers=admin_headers)
        ).json()
        assert [d["device_id"] for d in listed["items"]] == ["api-dev-1"] and listed[
            "data_source"
        ] == "database"
        summary = (await client.get("/api/v1/cps/fleet/summary", headers=admin_headers)).json()
        assert (summary["total"], summary["attestation"]["pending"], summary["trusted"]) == (1, 1, 0)
        command = await client.post("/api/v1/cps/devices/api-dev-1/command", json={"command": "unlock"},
                                    headers=admin_headers)  # fmt: skip
        assert command.status_code == 409

    async def test_bad_key_and_bad_id_are_rejected(self, client, admin_headers):
        body = {**SimulatedDevice("api-dev-2").registration(), "public_key_pem": "garbage"}
        assert (await client.post("/api/v1/cps/devices", json=body, headers=admin_headers)).status_code == 400
        body = {**SimulatedDevice("api-dev-3").registration(), "device_id": "bad id!"}
        assert (await client.post("/api/v1/cps/devices", json=body, headers=admin_headers)).status_code == 422

    async def test_revoke_then_reenrol_with_one_time_token(self, client, admin_headers):
        sim = SimulatedDevice("api-dev-4")
        await client.post("/api/v1/cps/devices", json=sim.registration(), headers=admin_headers)
        revoked = await client.post("/api/v1/cps/devices/api-dev-4/revoke", headers=admin_headers)
        assert revoked.json()["attestation_status"] == "revoked"
        token = (
            await client.post("/api/v1/cps/devices/api-dev-4/enrollment-token", headers=admin_headers)
        ).json()
        body = {
            "device_id": "api-dev-4",
            "token": token["token"],
            "public_key_pem": SimulatedDevice("k").public_key_pem,
        }
        enrolled = await client.post("/api/v1/cps/enroll", json=body)
        assert enrolled.status_code == 200 and enrolled.json()["attestation_status"] == "pending"
        assert (await client.post("/api/v1/cps/enroll", json=body)).status_code == 403  # one-time

    async def test_conduit_isolation_needs_an_approval_and_real_mode(self, client, admin_headers):
        body = {"name": "ot-it", "from_zone_id": "ot", "to_zone_id": "it"}
        made = await client.post("/api/v1/cps/conduits", json=body, headers=admin_headers)
        conduit_id = made.json()["id"]
        url = f"/api/v1/cps/conduits/{conduit_id}/isolate"
        await client.put("/api/v1/system/mode", json={"mode": "dry_run"}, headers=admin_headers)
        assert (await client.post(url, headers=admin_headers)).status_code == 409
        await client.put("/api/v1/system/mode", json={"mode": "real"}, headers=admin_headers)

        requested = await client.post(url, json={"reason": "worm spreading from IT"}, headers=admin_headers)
        assert requested.status_code == 202, requested.text
        approval = requested.json()
        assert (approval["action_type"], approval["status"], approval["risk_level"]) == (
            "isolate_conduit",
            "pending",
            "high",
        )
        assert approval["target"] == "conduit:ot-it"
        again = await client.post(url, headers=admin_headers)
        assert again.status_code == 409 and again.json()["detail"]["code"] == "approval_pending"
        conduits = (await client.get("/api/v1/cps/conduits", headers=admin_headers)).json()["items"]
        assert [c["status"] for c in conduits] == ["open"]  # nothing happens before the decision

        decided = await client.post(
            f"/api/v1/approvals/{approval['id']}/approve", json={"comment": "go"}, headers=admin_headers
        )
        assert decided.status_code == 200, decided.text
        result = decided.json()["result"]
        assert result["status"] == "completed"
        assert result["output"]["connector"]["status"] == "simulated"
        conduits = (await client.get("/api/v1/cps/conduits", headers=admin_headers)).json()["items"]
        assert [c["status"] for c in conduits] == ["isolated"]
        done = await client.post(url, headers=admin_headers)
        assert done.status_code == 409 and done.json()["detail"]["code"] == "already_isolated"
        audit = (await client.get("/api/v1/audit", headers=admin_headers)).json()["items"]
        assert "cps.conduit.isolate_requested" in {a["action"] for a in audit}
