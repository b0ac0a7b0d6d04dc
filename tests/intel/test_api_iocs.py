"""Tests for the /api/v1/iocs routes: upsert, validation, filters, edits, lookup, similarity, sharing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import nats
import orjson
import pytest
from conftest import require_service
from nats.js.api import DeliverPolicy
from sqlalchemy import select, update

from aurorasoc.core import runtime
from aurorasoc.core.config import reset_settings
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AuditLogModel, IOCModel
from aurorasoc.intel.enrichment import default_intel_service
from aurorasoc.intel.service import IOC_SHARING_SUBJECT, parse_ioc
from aurorasoc.intel.similarity import registered_domain

URL = "/api/v1/iocs"


@pytest.fixture(autouse=True)
def _fresh_intel_cache() -> Iterator[None]:
    """The process-wide enrichment cache must not carry results from another test's database."""
    default_intel_service.cache_clear()
    yield
    default_intel_service.cache_clear()


async def _post(client, headers, value, **extra):
    resp = await client.post(URL, json={"value": value, **extra}, headers=headers)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


async def _alert(client, headers, title, iocs):
    body = {"title": title, "source": "ioc-test", "severity": "high", "iocs": iocs}
    resp = await client.post("/api/v1/alerts", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _db_down():
    return False


class TestValidation:
    @pytest.mark.parametrize(
        ("value", "type_", "expected"),
        [
            (" EVIL.Example.COM. ", None, ("domain", "evil.example.com")),
            ("HTTP://Evil.COM/Path/A", "url", ("url", "http://evil.com/Path/A")),
            ("2001:DB8:0:0::1", "ip", ("ip", "2001:db8::1")),
            ("cve-2024-3094", None, ("cve", "CVE-2024-3094")),
            ("Global\\MyMutex", "mutex", ("mutex", "Global\\MyMutex")),
        ],
    )
    def test_values_are_typed_and_canonicalised(self, value, type_, expected):
        assert parse_ioc(value, type_) == expected

    def test_registered_domain_keeps_country_second_levels(self):
        assert registered_domain("a.b.example.co.uk") == "example.co.uk"
        assert registered_domain("cdn.example.com") == "example.com"

    @pytest.mark.parametrize(
        ("body", "reason"),
        [
            ({"type": "ip", "value": "300.1.2.3"}, "not a valid IP address"),
            ({"type": "ip", "value": "127.0.0.1"}, "loopback"),
            ({"type": "domain", "value": "payload.exe"}, "not a valid domain"),
            ({"type": "hash_sha256", "value": "d41d8cd98f00b204e9800998ecf8427e"}, "looks like a hash_md5"),
            ({"type": "ipv9", "value": "1.2.3.4"}, "unknown IOC type 'ipv9'"),
            ({"value": "just words"}, "give its type"),
        ],
    )
    async def test_bad_type_or_value_is_400_with_the_reason(self, client, admin_headers, body, reason):
        resp = await client.post(URL, json=body, headers=admin_headers)
        assert resp.status_code == 400
        assert reason in resp.json()["detail"]["message"]

    @pytest.mark.parametrize("extra", [{"confidence": 1.5}, {"confidence": -0.1}, {"tlp": "white"}, {"x": 1}])
    async def test_confidence_tlp_and_unknown_fields_are_schema_errors(self, client, admin_headers, extra):
        resp = await client.post(URL, json={"value": "198.51.100.7", **extra}, headers=admin_headers)
        assert resp.status_code == 422
        assert (await client.get(URL, headers=admin_headers)).json()["total"] == 0


class TestUpsert:
    async def test_new_then_sighting_keeps_max_confidence_and_merges_tags(self, client, role_headers):
        first = await client.post(
            URL,
            json={"value": "Evil.Example.com", "confidence": 0.9, "tags": ["c2", " c2 ", ""], "tlp": "green"},
            headers=role_headers["analyst"],
        )
        again = await client.post(
            URL,
            json={"type": "domain", "value": "evil.example.com", "confidence": 0.2, "tags": ["apt"]},
            headers=role_headers["api_service"],
        )
        assert (first.status_code, again.status_code) == (201, 200)
        body = again.json()
        assert body["id"] == first.json()["id"] and body["value"] == "evil.example.com"
        assert (body["sightings"], body["confidence"], body["tags"], body["tlp"]) == (
            2,
            0.9,
            ["c2", "apt"],
            "green",
        )
        assert (body["source"], body["status"]) == ("manual", "active")

    async def test_upserts_are_audited(self, client, role_headers):
        created = await _post(client, role_headers["analyst"], "203.0.113.50", tags=["scan"])
        async with session_scope() as session:
            entry = (
                await session.execute(select(AuditLogModel).where(AuditLogModel.action == "ioc.upsert"))
            ).scalar_one()
        assert (entry.actor, entry.resource_type, entry.resource_id) == ("analyst", "ioc", created["id"])
        assert entry.details == {"type": "ip", "value": "203.0.113.50", "created": True, "tags": ["scan"]}

    async def test_viewer_and_operator_have_no_ioc_access(self, client, role_headers):
        for role in ("viewer", "operator"):
            assert (await client.get(URL, headers=role_headers[role])).status_code == 403
            resp = await client.post(URL, json={"value": "198.51.100.9"}, headers=role_headers[role])
            assert resp.status_code == 403


class TestListAndDetail:
    @pytest.fixture
    async def seeded(self, client, admin_headers):
        alert = await _alert(client, admin_headers, "Beacon", ["203.0.113.5", "evil.example.com"])
        await _post(
            client, admin_headers, "d41d8cd98f00b204e9800998ecf8427e", source="sandbox", description="dropper"
        )
        await _post(client, admin_headers, "198.51.100.20")
        return alert

    async def test_paging_and_total(self, client, admin_headers, seeded):
        page = (await client.get(URL, params={"limit": 2, "skip": 1}, headers=admin_headers)).json()
        assert (page["total"], page["skip"], page["limit"], len(page["items"])) == (4, 1, 2, 2)
        assert page["data_source"] == "database"

    async def test_filters(self, client, admin_headers, seeded):
        async def values(**params):
            page = (await client.get(URL, params=params, headers=admin_headers)).json()
            return sorted(i["value"] for i in page["items"])

        assert await values(type="ip") == ["198.51.100.20", "203.0.113.5"]
        assert await values(alert_id=seeded["id"]) == ["203.0.113.5", "evil.example.com"]
        assert await values(source="ioc-test") == ["203.0.113.5", "evil.example.com"]
        assert await values(q="DROPPER") == ["d41d8cd98f00b204e9800998ecf8427e"]
        assert await values(q="100_2") == []  # LIKE wildcards in q are literal
        bad = await client.get(URL, params={"type": "nope"}, headers=admin_headers)
        assert bad.status_code == 422

    async def test_stale_active_iocs_read_and_filter_as_expired(self, client, admin_headers, seeded):
        async with session_scope() as session:
            stale = datetime.now(UTC) - timedelta(days=91)  # AURORA_IOC_EXPIRY_DAYS defaults to 90
            await session.execute(
                update(IOCModel).where(IOCModel.value == "198.51.100.20").values(last_seen=stale)
            )
        expired = (await client.get(URL, params={"status": "expired"}, headers=admin_headers)).json()
        assert [i["value"] for i in expired["items"]] == ["198.51.100.20"]
        assert expired["items"][0]["status"] == "expired"
        active = (await client.get(URL, params={"status": "active"}, headers=admin_headers)).json()
        assert active["total"] == 3
        revived = await _post(client, admin_headers, "198.51.100.20")  # a new sighting makes it current
        assert (revived["status"], revived["sightings"]) == ("active", 2)

    async def test_detail_lists_linked_alerts(self, client, admin_headers, seeded):
        second = await _alert(client, admin_headers, "Beacon again", ["203.0.113.5"])
        ioc = (await client.get(URL, params={"q": "203.0.113.5"}, headers=admin_headers)).json()["items"][0]
        detail = (await client.get(f"{URL}/{ioc['id']}", headers=admin_headers)).json()
        assert detail["linked_alert_count"] == 2 and detail["sightings"] == 2
        assert [a["id"] for a in detail["linked_alerts"]] == [second["id"], seeded["id"]]
        missing = await client.get(f"{URL}/{uuid.uuid4()}", headers=admin_headers)
        assert missing.status_code == 404


class TestPatch:
    async def test_edit_fields_and_audit(self, client, role_headers):
        ioc = await _post(client, role_headers["admin"], "evil.example.org")
        changes = {
            "status": "false_positive",
            "confidence": 0.1,
            "tags": ["cdn"],
            "tlp": "clear",
            "description": "CDN",
        }
        resp = await client.patch(f"{URL}/{ioc['id']}", json=changes, headers=role_headers["analyst"])
        assert resp.status_code == 200
        assert {k: resp.json()[k] for k in changes} == changes
        async with session_scope() as session:
            entry = (
                await session.execute(select(AuditLogModel).where(AuditLogModel.action == "ioc.update"))
            ).scalar_one()
        assert entry.details["before"]["status"] == "active" and entry.details["after"] == changes

    @pytest.mark.parametrize(
        ("body", "status"),
        [({}, 400), ({"status": None}, 422), ({"confidence": 2}, 422), ({"tlp": "x"}, 422)],
    )
    async def test_invalid_edits(self, client, admin_headers, body, status):
        ioc = await _post(client, admin_headers, "evil.example.net")
        assert (
            await client.patch(f"{URL}/{ioc['id']}", json=body, headers=admin_headers)
        ).status_code == status


class TestLookup:
    async def test_unknown_indicator_gets_simulated_enrichment_then_the_cache(self, client, admin_headers):
        first = (
            await client.post(f"{URL}/lookup", json={"value": "198.51.100.99"}, headers=admin_headers)
        ).json()
        assert (first["type"], first["ioc"], first["cached"]) == ("ip", None, False)
        [result] = first["enrichment"]
        assert (result["provider"], result["verdict"], result["simulated"]) == ("simulated", "unknown", True)
        assert result["context"] == {"known_locally": False}
        again = (
            await client.post(f"{URL}/lookup", json={"value": "198.51.100.99"}, headers=admin_headers)
        ).json()
        assert again["cached"] is True and again["enrichment"] == first["enrichment"]
        assert (await client.get(URL, headers=admin_headers)).json()["total"] == 0  # a lookup stores nothing

    async def test_known_indicator_returns_local_record_and_alerts(self, client, admin_headers):
        alert = await _alert(client, admin_headers, "Phish", ["attacker@evil.example.com"])
        resp = await client.post(
            f"{URL}/lookup",
            json={"value": "Attacker@Evil.Example.com", "type": "email"},
            headers=admin_headers,
        )
        body = resp.json()
        assert body["ioc"]["value"] == "attacker@evil.example.com" and body["linked_alert_count"] == 1
        assert body["linked_alerts"][0]["id"] == alert["id"]
        context = body["enrichment"][0]["context"]
        assert (context["known_locally"], context["sightings"], context["linked_alerts"]) == (True, 1, 1)

    async def test_invalid_value_is_400(self, client, admin_headers):
        resp = await client.post(
            f"{URL}/lookup", json={"value": "1.2.3", "type": "ip"}, headers=admin_headers
        )
        assert resp.status_code == 400


class TestSimilar:
    @pytest.fixture
    async def seeded(self, client, admin_headers):
        for value in ["203.0.113.5", "203.0.113.77", "198.51.100.1", "a.evil.com", "http://b.evil.com/x",
                      "ops@evil.com", "notevil.com", "evil.co.uk"]:  # fmt: skip
            await _post(client, admin_headers, value)

    async def _similar(self, client, headers, q):
        resp = await client.get(f"{URL}/similar", params={"q": q}, headers=headers)
        assert resp.status_code == 200, resp.text
        return {i["ioc"]["value"]: i["reason"] for i in resp.json()["items"]}

    async def test_same_slash_24(self, client, admin_headers, seeded):
        hits = await self._similar(client, admin_headers, "203.0.113.5")
        assert hits == {"203.0.113.77": "same /24 as 203.0.113.5"}  # itself excluded

    async def test_shared_registered_domain_across_types(self, client, admin_headers, seeded):
        hits = await self._similar(client, admin_headers, "c.evil.com")
        assert set(hits) == {"a.evil.com", "http://b.evil.com/x", "ops@evil.com"}
        assert hits["a.evil.com"] == "shares domain evil.com"

    async def test_substring_fragment(self, client, admin_headers, seeded):
        hits = await self._similar(client, admin_headers, "51.100")
        assert hits == {"198.51.100.1": "value contains '51.100'"}
        body = (await client.get(f"{URL}/similar", params={"q": "x"}, headers=admin_headers)).json()
        assert body["method"] == "lexical" and body["items"] == []


class TestModesAndSharing:
    async def test_dry_run_blocks_edits_and_sharing(self, client, admin_headers):
        ioc = await _post(client, admin_headers, "203.0.113.60")
        runtime.set_mode("dry_run")
        for resp in (
            await client.post(URL, json={"value": "203.0.113.61"}, headers=admin_headers),
            await client.patch(f"{URL}/{ioc['id']}", json={"tags": ["x"]}, headers=admin_headers),
            await client.post(f"{URL}/{ioc['id']}/share", headers=admin_headers),
        ):
            assert resp.status_code == 409
            assert resp.json()["detail"]["code"] == "mode_blocks_mutation"
        assert (await client.get(URL, headers=admin_headers)).json()["total"] == 1  # reads still work

    async def test_dummy_with_db_down_serves_an_empty_showcase_page(self, client, admin_headers, monkeypatch):
        runtime.set_mode("dummy")
        monkeypatch.setattr("aurorasoc.core.web.deps.probe_database", _db_down)
        resp = await client.get(URL, headers=admin_headers)
        assert resp.headers["x-aurora-data-source"] == "showcase"
        assert resp.json() == {"items": [], "total": 0, "skip": 0, "limit": 50, "data_source": "showcase"}

    async def test_tlp_red_is_never_shared(self, client, admin_headers):
        ioc = await _post(client, admin_headers, "203.0.113.62", tlp="red")
        resp = await client.post(f"{URL}/{ioc['id']}/share", headers=admin_headers)
        assert resp.status_code == 400 and resp.json()["detail"]["code"] == "tlp_red"

    async def test_without_nats_sharing_is_refused_with_the_reason(self, client, admin_headers):
        ioc = await _post(client, admin_headers, "203.0.113.63")
        resp = await client.post(f"{URL}/{ioc['id']}/share", headers=admin_headers)
        assert resp.status_code == 409
        assert resp.json()["detail"]["code"] == "sharing_unavailable"
        assert "AURORA_NATS_URL" in resp.json()["detail"]["message"]


@pytest.fixture
def nats_configured(monkeypatch: pytest.MonkeyPatch) -> str:
    """``AURORA_NATS_URL`` set before the app (next fixture) starts its JetStream publisher."""
    url = require_service("nats")
    monkeypatch.setenv("AURORA_NATS_URL", url)
    monkeypatch.setenv("FEDERATION_SITE_ID", "site-a")
    reset_settings()
    return url


@pytest.mark.integration
async def test_share_publishes_the_aurora_ioc_document(nats_configured, client, admin_headers):
    ioc = await _post(client, admin_headers, f"share-{uuid.uuid4().hex[:8]}.example.com", tags=["c2"])
    nc = await nats.connect(nats_configured)
    try:  # the app's publisher created the AURORA stream at start
        sub = await nc.jetstream().subscribe(
            IOC_SHARING_SUBJECT, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
        )
        resp = await client.post(f"{URL}/{ioc['id']}/share", headers=admin_headers)
        assert resp.status_code == 202, resp.text
        message = orjson.loads((await sub.next_msg(timeout=10)).data)
    finally:
        await nc.close()
    assert message == resp.json()["message"]
    assert (message["spec"], message["origin_site"], message["value"], message["tags"], message["tlp"]) == (
        "aurora-ioc/1", "site-a", ioc["value"], ["c2"], "amber"
    )  # fmt: skip
