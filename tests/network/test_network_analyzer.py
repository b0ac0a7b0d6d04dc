"""POST /api/v1/network-analyzer/analyze: KPIs over real EVE events and a read-only agent run."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from conftest import TEST_DATA
from sqlalchemy import func, select

from aurorasoc.agents.models import InvestigationEventModel, InvestigationModel
from aurorasoc.agents.tools import TOOLS
from aurorasoc.core import runtime
from aurorasoc.core.auth import ROLE_PERMISSIONS
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AlertModel, ConnectorActionModel, HumanApprovalModel, SiemLogModel
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import ActionClass, NormalizedEvent, Role, RuntimeMode
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.intel.observables import ObservableService
from aurorasoc.network.analyzer import attack_query, read_only
from aurorasoc.network.models import NetworkAttackModel
from aurorasoc.siem.parsers import parse_file
from aurorasoc.siem.pipeline import DetectionPipeline
from aurorasoc.workers.alert_pipeline import PIPELINE_GROUP

URL = "/api/v1/network-analyzer/analyze"
EVE_SAMPLE = TEST_DATA / "eve.json"
SRC, DST = "10.0.0.23", "203.0.113.50"  # the alert record of tests/data/eve.json


async def count(model: type, *where: Any) -> int:
    async with session_scope() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.fixture
async def eve(client: Any) -> None:
    """tests/data/eve.json through the detection pipeline, stamped minutes ago (inside every range).

    Both addresses were marked as indicators by an analyst first: extraction alone no longer makes an
    observable an IOC (spec §27.3).
    """
    async with session_scope() as session:
        for value in (SRC, DST):
            await ObservableService(session).promote(value, "analyst")
    now = utcnow()
    events = [
        e.model_copy(update={"timestamp": now - timedelta(minutes=5, seconds=n)})
        for n, e in enumerate(parse_file(EVE_SAMPLE))
        if isinstance(e, NormalizedEvent)
    ]
    result = await DetectionPipeline(SigmaEngine()).process(events)
    assert result.alerts_created == 1
    await asyncio.wait_for(get_bus().join("aurora:alerts", PIPELINE_GROUP), timeout=10)  # type: ignore[attr-defined]


async def analyze(client: Any, headers: Any, body: dict[str, Any], **params: str) -> Any:
    return await client.post(URL, json=body, params=params, headers=headers)


class TestKpis:
    async def test_kpis_come_from_the_matching_events(
        self, eve: None, client: Any, admin_headers: Any
    ) -> None:
        resp = await analyze(client, admin_headers, {"query": f'src_ip:"{SRC}"', "time_range": "1h"})
        assert resp.status_code == 202, resp.text
        body = resp.json()
        assert body["kpis"] == {"flows": 5, "critical": 0, "high": 1, "iocs": 2}
        assert sorted(i["value"] for i in body["iocs"]) == sorted([SRC, DST])
        assert len(body["events"]) == 5 and body["events"][0]["src_ip"] == SRC
        narrow = await analyze(client, admin_headers, {"query": "dst_port:443"})
        assert narrow.json()["kpis"] == {"flows": 2, "critical": 0, "high": 1, "iocs": 2}
        quiet = await analyze(client, admin_headers, {"query": "dst_port:22"})
        assert quiet.json()["kpis"] == {"flows": 1, "critical": 0, "high": 0, "iocs": 1}  # only SRC known

    async def test_the_range_bounds_the_matches(self, eve: None, client: Any, admin_headers: Any) -> None:
        resp = await analyze(client, admin_headers, {"query": f'src_ip:"{SRC}"', "time_range": "15m"})
        assert resp.json()["kpis"]["flows"] == 5
        async with session_scope() as session:  # push every event two hours back
            for row in (await session.scalars(select(SiemLogModel))).all():
                row.timestamp = row.timestamp - timedelta(hours=2)
        resp = await analyze(client, admin_headers, {"query": f'src_ip:"{SRC}"', "time_range": "1h"})
        assert resp.json()["kpis"] == {"flows": 0, "critical": 0, "high": 0, "iocs": 0}
        history = await analyze(client, admin_headers, {"query": f'src_ip:"{SRC}"', "time_range": "all"})
        assert history.json()["kpis"]["flows"] == 5  # imported history stays analysable


class TestRun:
    async def test_the_run_is_a_recorded_network_security_investigation(
        self, eve: None, client: Any, admin_headers: Any
    ) -> None:
        resp = await analyze(client, admin_headers, {"query": f'dst_ip:"{DST}"'})
        body = resp.json()
        run = body["investigation"]
        assert run["agent"] == "network_security" and run["status"] in ("completed", "review_required")
        assert f'dst_ip:"{DST}"' in run["prompt"] and "1 high" in run["prompt"]
        async with session_scope() as session:
            alert = (await session.scalars(select(AlertModel))).one()
        assert run["alert_id"] == str(alert.id) == body["alert_id"]  # the EVE alert leads the run
        listed = await client.get(
            "/api/v1/investigations", params={"agent": "network_security"}, headers=admin_headers
        )
        assert [i["id"] for i in listed.json()["items"]] == [run["id"]]
        steps = await client.get(f"/api/v1/investigations/{run['id']}/events", headers=admin_headers)
        tools = {s["payload"]["tool"] for s in steps.json()["items"] if s["event_type"] == "tool_call"}
        assert "search_alerts" in tools and run["result"]["findings"]  # evidence from the lead alert

    async def test_a_prompt_asking_to_block_acts_on_nothing(
        self, eve: None, client: Any, admin_headers: Any
    ) -> None:
        note = f"Block {DST} at the firewall now, isolate {SRC} and run every containment playbook."
        body = {"query": f'src_ip:"{SRC}"', "context": {"note": note}}
        resp = await analyze(client, admin_headers, body)
        assert resp.status_code == 202, resp.text
        run_id = uuid.UUID(resp.json()["investigation"]["id"])
        assert note in resp.json()["prompt"]
        assert await count(HumanApprovalModel) == 0
        assert await count(ConnectorActionModel) == 0
        async with session_scope() as session:
            steps = (
                await session.scalars(
                    select(InvestigationEventModel).where(InvestigationEventModel.investigation_id == run_id)
                )
            ).all()
        called = {s.payload["tool"] for s in steps if s.event_type == "tool_call"}
        assert called and all(TOOLS[name].action_class is ActionClass.READ for name in called)

    def test_the_permission_set_denies_every_acting_tool(self) -> None:
        granted = read_only(ROLE_PERMISSIONS[Role.ADMIN])
        assert granted == read_only(frozenset({"*"}))
        acting = [t for t in TOOLS.values() if t.action_class is not ActionClass.READ]
        assert acting and not [t.name for t in acting if t.permission in granted]
        assert read_only(frozenset({"siem:read", "alerts:write"})) == {"siem:read"}  # never widened


class TestAttackContext:
    async def test_an_imported_attack_supplies_query_alert_and_link(
        self, eve: None, client: Any, admin_headers: Any
    ) -> None:
        async with session_scope() as session:
            alert = (await session.scalars(select(AlertModel))).one()
            attack = (await session.scalars(select(NetworkAttackModel))).one()  # correlated from EVE
            attack_id = str(attack.id)
        resp = await analyze(client, admin_headers, {"query": "", "context": {"attack_id": attack_id}})
        body = resp.json()
        assert body["query"] == attack_query(SRC, DST)
        assert body["kpis"] == {"flows": 1, "critical": 0, "high": 1, "iocs": 2}
        assert body["attack_id"] == attack_id and body["alert_id"] == str(alert.id)
        async with session_scope() as session:
            row = await session.get(InvestigationModel, uuid.UUID(body["investigation"]["id"]))
            assert row is not None and str(row.network_attack_id) == attack_id


class TestRefusals:
    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"query": "(src_ip:1"}, "query syntax error"),
            ({"query": "src_ip:>abc"}, "only applies to"),
            ({"query": "  "}, "give a query"),
        ],
    )
    async def test_bad_queries_are_400_with_the_reason(
        self, client: Any, admin_headers: Any, body: dict[str, Any], message: str
    ) -> None:
        resp = await analyze(client, admin_headers, body)
        assert resp.status_code == 400 and message in resp.json()["detail"]["message"]
        assert await count(InvestigationModel) == 0

    async def test_context_is_strict(self, client: Any, admin_headers: Any) -> None:
        resp = await analyze(client, admin_headers, {"query": "x", "context": {"action": "block"}})
        assert resp.status_code == 422
        resp = await analyze(client, admin_headers, {"query": "x", "time_range": "4h"})
        assert resp.status_code == 422

    async def test_dummy_mode_refuses_runs_but_previews_store_nothing(
        self, eve: None, client: Any, role_headers: Any
    ) -> None:
        runtime.set_mode(RuntimeMode.DUMMY)
        body = {"query": f'src_ip:"{SRC}"', "context": {"note": "block it"}}
        refused = await analyze(client, role_headers["analyst"], body)
        assert refused.status_code == 409 and "mode_blocks_mutation" in refused.text
        resp = await analyze(client, role_headers["analyst"], body, preview="true")
        assert resp.status_code == 202, resp.text
        preview = resp.json()
        assert preview["preview"] is True and preview["mode"] == "dummy" and preview["investigation"] is None
        assert preview["kpis"]["flows"] == 5
        [effect] = preview["effects"]
        assert effect["agent"] == "network_security" and effect["simulated"] is True
        assert not [p for p in effect["permissions"] if not p.endswith(":read")]
        assert await count(InvestigationModel) == 0 and await count(InvestigationEventModel) == 0

    async def test_viewers_cannot_dispatch(self, client: Any, role_headers: Any) -> None:
        resp = await analyze(client, role_headers["viewer"], {"query": "x"})
        assert resp.status_code == 403
