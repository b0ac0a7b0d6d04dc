"""Sites and topology (spec §10, §20): the local site from settings, honest when federation is off."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from aurorasoc.core import runtime
from aurorasoc.core.config import reset_settings
from aurorasoc.core.db import session_scope
from aurorasoc.core.types import utcnow
from aurorasoc.network.models import SiteLinkModel, SiteModel


async def seed_peer() -> None:
    """What a federated run would have left: a peer site and the link to it."""
    async with session_scope() as session:
        session.add(SiteModel(site_id="branch", name="Branch office", tier="secondary", agent_count=3))
        session.add(
            SiteLinkModel(link_id="link-branch-hq", site_a="branch", site_b="hq", status="degraded",
                          latency_ms=41.5, last_seen_at=utcnow())
        )  # fmt: skip


@pytest.fixture
def site_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    def _set(**env: str) -> None:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        reset_settings()

    return _set


async def local_rows() -> list[SiteModel]:
    async with session_scope() as session:
        return list((await session.scalars(select(SiteModel).where(SiteModel.is_local.is_(True)))).all())


class TestSites:
    async def test_disabled_federation_shows_only_the_local_site(
        self, client: Any, role_headers: Any, site_env: Any
    ) -> None:
        site_env(FEDERATION_SITE_ID="hq", FEDERATION_SITE_NAME="Head office", FEDERATION_SITE_TIER="primary")
        await seed_peer()
        resp = await client.get("/api/v1/sites", headers=role_headers["operator"])
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["federation_enabled"] is False and body["local_site_id"] == "hq" and body["total"] == 1
        (site,) = body["items"]
        assert (site["site_id"], site["name"], site["tier"], site["is_local"]) == (
            "hq",
            "Head office",
            "primary",
            True,
        )
        assert site["agent_count"] > 0
        topo = (await client.get("/api/v1/system/topology", headers=role_headers["operator"])).json()
        assert [s["site_id"] for s in topo["sites"]] == ["hq"] and topo["links"] == []

    async def test_local_row_is_upserted_from_settings(
        self, client: Any, admin_headers: Any, site_env: Any
    ) -> None:
        site_env(FEDERATION_SITE_ID="hq", FEDERATION_SITE_NAME="Old name")
        await client.get("/api/v1/sites", headers=admin_headers)
        site_env(FEDERATION_SITE_ID="hq", FEDERATION_SITE_NAME="New name", FEDERATION_SITE_TIER="secondary")
        await client.get("/api/v1/sites", headers=admin_headers)
        rows = await local_rows()
        assert [(r.site_id, r.name, r.tier) for r in rows] == [("hq", "New name", "secondary")]

    async def test_enabled_federation_lists_peers_and_links(
        self, client: Any, admin_headers: Any, site_env: Any
    ) -> None:
        site_env(FEDERATION_ENABLED="true", FEDERATION_SITE_ID="hq", AURORA_NATS_URL="nats://127.0.0.1:4222")
        await seed_peer()
        topo = (await client.get("/api/v1/system/topology", headers=admin_headers)).json()
        assert topo["federation_enabled"] is True
        assert [s["site_id"] for s in topo["sites"]] == ["hq", "branch"]
        (link,) = topo["links"]
        assert (link["link_id"], link["status"], link["latency_ms"]) == ("link-branch-hq", "degraded", 41.5)

    async def test_dummy_mode_answers_without_writing(self, client: Any, admin_headers: Any) -> None:
        runtime.set_mode("dummy")
        resp = await client.get("/api/v1/sites", headers=admin_headers)
        assert resp.status_code == 200 and resp.json()["items"][0]["site_id"] == "local"
        assert await local_rows() == []
