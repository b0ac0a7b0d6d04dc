"""The overview's CPS fleet panel: ``cps_devices`` in GET /api/v1/dashboard/stats (spec §24.3)."""

from __future__ import annotations

from aurorasoc.core import runtime
from aurorasoc.core.db import session_scope
from aurorasoc.core.vocabulary import RuntimeMode
from aurorasoc.cps.models import CPSDeviceModel

URL = "/api/v1/dashboard/stats"


def _device(device_id: str, health: str, attestation: str, risk: float) -> CPSDeviceModel:
    return CPSDeviceModel(
        device_id=device_id,
        name=device_id,
        device_type="plc",
        metadata_={},
        health=health,
        attestation_status=attestation,
        trusted=attestation == "verified",
        risk_score=risk,
    )


async def test_cps_fleet_counts_come_from_the_registry(client, admin_headers):
    async with session_scope() as session:
        session.add_all(
            [
                _device("plc-1", "online", "verified", 10.0),
                _device("plc-2", "offline", "failed", 80.0),
                _device("plc-3", "online", "verified", 30.0),
            ]
        )
    body = (await client.get(URL, headers=admin_headers)).json()
    fleet = body["cps_devices"]
    assert fleet["total"] == 3 and fleet["trusted"] == 2
    assert fleet["health"]["online"] == 2 and fleet["health"]["offline"] == 1
    assert fleet["attestation"]["verified"] == 2 and fleet["attestation"]["failed"] == 1
    assert fleet["average_risk"] == 40.0
    assert "cps_devices" not in body["unavailable_sections"]


async def test_an_empty_registry_is_zero_not_unavailable(client, admin_headers):
    body = (await client.get(URL, headers=admin_headers)).json()
    assert body["cps_devices"]["total"] == 0
    assert "cps_devices" not in body["unavailable_sections"]


async def test_showcase_stats_declare_the_fleet_unavailable(client, admin_headers, monkeypatch):
    async def down(*_args, **_kwargs) -> bool:
        return False

    monkeypatch.setattr("aurorasoc.core.web.deps.probe_database", down)
    runtime.set_mode(RuntimeMode.DUMMY)
    body = (await client.get(URL, headers=admin_headers)).json()
    assert body["data_source"] == "showcase"
    assert body["cps_devices"] is None and "cps_devices" in body["unavailable_sections"]
