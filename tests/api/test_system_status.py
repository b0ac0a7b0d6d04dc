"""``GET /api/v1/system/status``: what this process runs, its bus, agents and dead letters."""

from __future__ import annotations

from aurorasoc.agents.factory import breaker_for, reset_breakers
from aurorasoc.api.system_status import embedded_roles
from aurorasoc.workers.scheduler import BackgroundScheduler


def register_alert_pipeline() -> None: ...


def register_embedded_detection() -> None: ...


def test_roles_come_from_what_is_registered():
    assert embedded_roles([register_alert_pipeline, print], [BackgroundScheduler()]) == [
        "pipeline",
        "scheduler",
    ]
    assert embedded_roles([register_embedded_detection], []) == ["detection"]
    assert embedded_roles([], []) == []


async def test_embedded_server_reports_its_roles_bus_and_agents(client, role_headers):
    reset_breakers()
    for _ in range(10):
        breaker_for("threat_hunter").record_failure()
    try:
        resp = await client.get("/api/v1/system/status", headers=role_headers["viewer"])
    finally:
        reset_breakers()
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["bus"] == "in-process"
    assert {"pipeline", "detection", "agents"} <= set(body["roles"])
    assert "scheduler" not in body["roles"]  # the test app runs with AURORA_SCHEDULER_ENABLED=false
    assert body["agents"] == {
        "backend": "offline",
        "a2a_mode": "embedded",
        "open_circuits": ["threat_hunter"],
    }
    assert body["dead_letters"] == {"aurora:dead_letter": None, "aurora:agent:dead_letter": None}
    assert body["health"]["database"] == "up" and body["health"]["redis"] == "disabled"


async def test_status_needs_a_signed_in_principal(client):
    assert (await client.get("/api/v1/system/status")).status_code == 401
