"""Federation (spec §20): the pure rules, then two sites meeting over the real NATS JetStream.

Site B is the running app (global database, pipeline, lifespan-started federation worker); site A
is a second ``FederationService`` with its own SQLite database, in the same process.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import orjson
import pytest
from conftest import require_service
from nats.js.errors import NotFoundError
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from test_nats_jetstream import wait_until
from typer.testing import CliRunner

from aurorasoc.alerts.service import AlertService
from aurorasoc.cli import app as cli
from aurorasoc.core.bus.nats_jetstream import ALERTS_SUBJECT, AUDIT_SUBJECT
from aurorasoc.core.config import FederationSettings, get_settings, reset_settings
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AlertModel, Base
from aurorasoc.core.vocabulary import AlertCreate
from aurorasoc.network import federation_rules as rules
from aurorasoc.network.federation import FederationService
from aurorasoc.network.models import SiteLinkModel, SiteModel

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def beat(**overrides: Any) -> dict[str, Any]:
    body = {"site_id": "branch", "name": "Branch", "tier": "secondary", "agent_count": 3}
    return body | {"version": "0.1.0", "ts": NOW.isoformat()} | overrides


class TestRules:
    def test_link_ids_are_the_same_from_both_ends(self) -> None:
        assert rules.link_id("hq", "branch") == rules.link_id("branch", "hq") == "link-branch-hq"

    @pytest.mark.parametrize(
        ("silence", "status"),
        [(0, "healthy"), (44.9, "healthy"), (45, "degraded"), (119, "degraded"), (120, "down")],
    )
    def test_link_status_follows_silence(self, silence: float, status: str) -> None:
        assert rules.link_status(silence) == status

    def test_latency_is_receive_time_minus_ts_never_negative(self) -> None:
        assert rules.latency_ms(NOW + timedelta(milliseconds=42), NOW) == pytest.approx(42.0)
        assert rules.latency_ms(NOW, NOW + timedelta(seconds=3)) == 0.0  # peer clock ahead

    @pytest.mark.parametrize(
        ("severity", "origin", "floor", "expected"),
        [
            ("high", None, "high", True),
            ("critical", None, "high", True),
            ("medium", None, "high", False),
            ("medium", None, "low", True),
            ("critical", "branch", "high", False),  # received alerts never go out again
        ],
    )
    def test_which_alerts_leave_the_site(
        self, severity: str, origin: str | None, floor: str, expected: bool
    ) -> None:
        assert rules.should_federate(severity, origin, floor) is expected

    def test_heartbeat_validation(self) -> None:
        parsed = rules.Heartbeat.model_validate(beat())
        assert (parsed.site_id, parsed.agent_count, parsed.ts) == ("branch", 3, NOW)
        for bad in ({"site_id": "a.b"}, {"site_id": "x*"}, {"tier": "tertiary"}, {"agent_count": -1}):
            with pytest.raises(ValidationError):
                rules.Heartbeat.model_validate(beat(**bad))
        with pytest.raises(ValidationError):  # a ts without a zone cannot give a latency
            rules.Heartbeat.model_validate(beat(ts="2026-05-01T12:00:00"))

    def test_a_federated_alert_keeps_the_dedup_fields_and_names_its_origin(self) -> None:
        alert = AlertModel(
            id=uuid.uuid4(), title="Beacon", severity="high", source="ids", iocs=["203.0.113.7"],
            mitre_techniques=["T1071"], affected_assets=["host:web1"], asset_type="server",
        )  # fmt: skip
        message = rules.federated_alert(alert, "hq")
        create = rules.FederatedAlert.model_validate(
            orjson.loads(message.model_dump_json())
        ).to_alert_create()
        assert (create.title, create.source, create.iocs, create.origin_site) == (
            "Beacon",
            "ids",
            ["203.0.113.7"],
            "hq",
        )
        assert create.metadata == {"federated_alert_id": str(alert.id)}
        assert rules.alert_msg_id(message) == f"alert-hq-{alert.id}"


# --- against the real NATS --------------------------------------------------------------------


async def drop_stream(url: str) -> None:
    nc = await nats.connect(url)
    with contextlib.suppress(NotFoundError):
        await nc.jetstream().delete_stream("AURORA")
    await nc.close()


@pytest.fixture
async def nats_url() -> AsyncIterator[str]:
    """The real NATS with a fresh ``AURORA`` stream (and its durable consumers) for this test."""
    url = require_service("nats")
    await drop_stream(url)
    yield url
    await drop_stream(url)


def site_cfg(site_id: str, name: str) -> FederationSettings:
    update = {"enabled": True, "site_id": site_id, "site_name": name, "heartbeat_interval_seconds": 1}
    return get_settings().federation.model_copy(update=update)


@pytest.fixture
async def site_a_db(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'site_a.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


@pytest.fixture
def ids() -> tuple[str, str]:
    """Fresh site ids per test (a and b), so parallel runs on one NATS never mix."""
    tag = uuid.uuid4().hex[:8]
    return f"a-{tag}", f"b-{tag}"


@pytest.fixture
def site_b_env(nats_url: str, ids: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """Federation settings of the app (site B), set before the app fixture creates it."""
    env = {"FEDERATION_ENABLED": "true", "FEDERATION_SITE_ID": ids[1], "FEDERATION_SITE_NAME": "Site B"}
    env |= {"FEDERATION_HEARTBEAT_INTERVAL_SECONDS": "1", "AURORA_NATS_URL": nats_url}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    return nats_url


@pytest.fixture
async def site_a(
    site_b_env: str, ids: tuple[str, str], site_a_db: async_sessionmaker[AsyncSession]
) -> AsyncIterator[FederationService]:
    service = FederationService(site_cfg(ids[0], "Site A"), site_b_env, session_factory=site_a_db)
    await service.start()
    yield service
    await service.stop()


async def rows(sessions: Any, model: Any, *where: Any) -> list[Any]:
    async with sessions() as session:
        return list((await session.scalars(select(model).where(*where))).all())


async def stream_alerts(url: str, subject: str = ALERTS_SUBJECT) -> list[dict[str, Any]]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    state = (await js.stream_info("AURORA")).state
    found = []
    for seq in range(state.first_seq, state.last_seq + 1):
        with contextlib.suppress(NotFoundError):
            msg = await js.get_msg("AURORA", seq)
            if msg.subject == subject:
                found.append(orjson.loads(msg.data or b"{}"))
    await nc.close()
    return found


@pytest.mark.integration
class TestTwoSites:
    async def test_each_site_sees_the_other_with_a_link_and_latency(
        self, site_a: FederationService, client: Any, admin_headers: Any, ids: tuple[str, str]
    ) -> None:
        a_id, b_id = ids
        link = rules.link_id(a_id, b_id)

        async def both_linked() -> bool:
            at_a = await rows(site_a.sessions, SiteLinkModel, SiteLinkModel.link_id == link)
            at_b = await rows(session_scope, SiteLinkModel, SiteLinkModel.link_id == link)
            return bool(at_a and at_b)

        await wait_until(both_linked)
        ours = SiteModel.site_id.in_(ids)  # other runs on the same NATS may gossip too
        (peer_at_a,) = await rows(site_a.sessions, SiteModel, ours)  # its own heartbeat echo is ignored
        assert (peer_at_a.site_id, peer_at_a.name, peer_at_a.is_local, peer_at_a.status) == (
            b_id,
            "Site B",
            False,
            "healthy",
        )
        topo = (await client.get("/api/v1/system/topology", headers=admin_headers)).json()
        assert topo["federation_enabled"] is True and topo["local_site_id"] == b_id
        assert [s["site_id"] for s in topo["sites"] if s["site_id"] in ids] == [b_id, a_id]
        (seen,) = [found for found in topo["links"] if found["link_id"] == link]
        assert (seen["link_id"], seen["status"]) == (link, "healthy")
        assert 0 <= seen["latency_ms"] < 5000

    async def test_a_local_high_alert_reaches_the_peer_and_a_medium_one_stays_home(
        self, site_a: FederationService, client: Any, admin_headers: Any, ids: tuple[str, str], nats_url: str
    ) -> None:
        b_id = ids[1]
        for severity in ("medium", "high"):
            body = {
                "title": f"{severity} beacon",
                "source": "ids",
                "severity": severity,
                "iocs": ["203.0.113.7"],
            }
            assert (await client.post("/api/v1/alerts", json=body, headers=admin_headers)).status_code == 201

        async def arrived() -> list[AlertModel]:
            return await rows(site_a.sessions, AlertModel, AlertModel.title == "high beacon")

        await wait_until(arrived)
        (received,) = await arrived()
        assert (received.origin_site, received.severity, received.iocs) == (b_id, "high", ["203.0.113.7"])
        shared = [m["title"] for m in await stream_alerts(nats_url) if m["origin_site"] == b_id]
        assert shared == ["high beacon"]

    async def test_a_peer_alert_goes_through_alert_service_once_and_is_never_re_federated(
        self, site_a: FederationService, client: Any, admin_headers: Any, ids: tuple[str, str], nats_url: str
    ) -> None:
        a_id, b_id = ids
        async with site_a.sessions() as session:
            alert, _ = await AlertService(session).create(
                AlertCreate(title="Peer ransomware", severity="critical", source="edr")
            )
            await session.commit()
        message = rules.federated_alert(alert, a_id)
        await site_a.nats.publish(
            ALERTS_SUBJECT, message.model_dump(mode="json"), msg_id=rules.alert_msg_id(message)
        )
        at_b = (AlertModel.title == "Peer ransomware",)
        await wait_until(lambda: rows(session_scope, AlertModel, *at_b))
        (received,) = await rows(session_scope, AlertModel, *at_b)
        assert (received.origin_site, received.severity) == (a_id, "critical")
        # B's pipeline handles the received alert before this later local one (FIFO): once the
        # local one is on the stream, the received one would be there too had it been forwarded.
        body = {"title": "Local marker", "source": "ids", "severity": "high"}
        assert (await client.post("/api/v1/alerts", json=body, headers=admin_headers)).status_code == 201
        await wait_until(lambda: marker_on(nats_url))
        assert [m["title"] for m in await stream_alerts(nats_url) if m["origin_site"] == b_id] == [
            "Local marker"
        ]
        # A replay (peer restarted, new Nats-Msg-Id) is absorbed by AlertService's dedup.
        await site_a.nats.publish(ALERTS_SUBJECT, message.model_dump(mode="json"), msg_id="replay-1")

        async def folded() -> bool:
            async with session_scope() as session:
                found = await session.scalars(select(AlertModel.occurrence_count).where(*at_b))
                return found.one() == 2

        await wait_until(folded)
        async with session_scope() as session:
            assert await session.scalar(select(func.count()).select_from(AlertModel).where(*at_b)) == 1

    async def test_audit_entries_are_shared_stamped_with_the_site(
        self, site_b_env: str, client: Any, admin_headers: Any, ids: tuple[str, str]
    ) -> None:
        body = {"title": "Noisy scan", "source": "ids", "severity": "low"}
        alert = (await client.post("/api/v1/alerts", json=body, headers=admin_headers)).json()
        assert (
            await client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=admin_headers)
        ).status_code == 200

        async def shared() -> list[dict[str, Any]]:
            entries = await stream_alerts(site_b_env, AUDIT_SUBJECT)
            return [e for e in entries if e["action"] == "alert.acknowledge"]

        await wait_until(shared)
        (entry,) = await shared()
        assert (entry["origin_site"], entry["resource_id"], entry["actor"]) == (ids[1], alert["id"], "admin")


async def marker_on(url: str) -> bool:
    return any(m["title"] == "Local marker" for m in await stream_alerts(url))


@pytest.mark.integration
async def test_a_silent_peer_goes_degraded_then_down_and_recovers(
    nats_url: str, ids: tuple[str, str], site_a_db: async_sessionmaker[AsyncSession]
) -> None:
    a_id, c_id = ids
    now = [datetime.now(UTC)]
    site = FederationService(
        site_cfg(a_id, "Site A"),
        nats_url,
        session_factory=site_a_db,
        clock=lambda: now[0],
        sweep_interval=3600,
    )
    peer = FederationService(site_cfg(c_id, "Site C"), nats_url)  # only gossips: never started
    client = await peer.nats.client()
    await site.start()
    try:
        spoof = beat(site_id="spoofed", ts=now[0].isoformat())
        links = (SiteLinkModel.link_id == rules.link_id(a_id, c_id),)

        async def heard() -> list[SiteLinkModel]:
            await client.publish(rules.health_subject("other"), orjson.dumps(spoof))  # wrong subject
            await client.publish(rules.health_subject(c_id), b"{not json")
            await peer.send_heartbeat()
            await asyncio.sleep(0.05)
            return await rows(site_a_db, SiteLinkModel, *links)

        await wait_until(heard)
        ours = SiteModel.site_id.in_([a_id, c_id, "spoofed", "other"])  # other runs may gossip too
        assert [s.site_id for s in await rows(site_a_db, SiteModel, ours)] == [c_id]
        for advance, expected in ((50, "degraded"), (80, "down")):
            now[0] += timedelta(seconds=advance)
            await site.sweep()
            (link,) = await rows(site_a_db, SiteLinkModel, *links)
            (peer_row,) = await rows(site_a_db, SiteModel, ours)
            assert (link.status, peer_row.status) == (expected, expected)
        await peer.send_heartbeat()
        await wait_until(lambda: _status(site_a_db, links, "healthy"))
    finally:
        await site.stop()
        await peer.stop()


async def _status(sessions: Any, links: tuple[Any, ...], expected: str) -> bool:
    return [link.status for link in await rows(sessions, SiteLinkModel, *links)] == [expected]


def test_the_federation_worker_refuses_to_start_without_nats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AURORA_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("FEDERATION_ENABLED", "true")
    reset_settings()
    result = CliRunner().invoke(cli, ["worker", "--role", "federation"])
    assert result.exit_code == 2
    assert "AURORA_NATS_URL" in result.output and "FEDERATION_ENABLED" in result.output
