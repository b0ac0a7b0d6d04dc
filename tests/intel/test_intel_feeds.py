"""Indicator feeds (issue 17, scope 1): STIX 2.1 and MISP feeds served over HTTP, imported on schedule.

The STIX bundle is built with the ``stix2`` library and the MISP feed as MISP writes it (manifest.json plus
one ``<uuid>.json`` per event); both are served by a local HTTP server. The scheduled job is called, not
waited for. Events then go through the real detection pipeline and the alerts are read from the API.
"""

from __future__ import annotations

import functools
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import stix2
from conftest import SHARED_DATA, TEST_DATA, TEST_START, require_data
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from aurorasoc.cli import app as cli_app
from aurorasoc.core.db import get_session_factory
from aurorasoc.core.models import IntelFeedModel, IOCModel
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.intel.feed_formats import (
    FeedFormatError,
    FeedIndicator,
    read_csv,
    read_misp_event,
    read_stix,
    read_text,
)
from aurorasoc.intel.feeds import store_indicators
from aurorasoc.intel.matching import active_indicators, match_indicators
from aurorasoc.siem.parsers import parse_bytes
from aurorasoc.siem.pipeline import DetectionPipeline
from aurorasoc.workers.scheduler import BackgroundScheduler

FEEDS = "/api/v1/intel/feeds"
SAMPLES = TEST_DATA / "linux_network"
CLEARTEXT_RULE = SHARED_DATA / "sigma/rules/network/firewall/net_firewall_cleartext_protocols.yml"
NOW = TEST_START  # replaced by the running test's start time (tests/conftest.py)
C2_IP, C2_DOMAIN, STALE_IP = "198.51.100.66", "c2.badexample.net", "203.0.113.99"
MISP_IP, MISP_SHA256 = "192.0.2.200", "a" * 64
MISP_EVENT = "5f1c9a3e-8d5b-4c2e-9a61-3b8f2d7c4e10"


def stix_bundle(*, with_domain: bool = True) -> str:
    objects: list[Any] = [
        stix2.Indicator(
            name="Cobalt Strike team server", pattern=f"[ipv4-addr:value = '{C2_IP}']", pattern_type="stix",
            valid_from=NOW - timedelta(days=2), valid_until=NOW + timedelta(days=30), confidence=85,
            object_marking_refs=[stix2.TLP_RED], labels=["malicious-activity"],
        ),
        stix2.Indicator(
            name="expired sinkhole", pattern=f"[ipv4-addr:value = '{STALE_IP}']", pattern_type="stix",
            valid_from=NOW - timedelta(days=20), valid_until=NOW - timedelta(days=1), confidence=90,
        ),
    ]  # fmt: skip
    if with_domain:
        objects.append(
            stix2.Indicator(
                pattern=f"[domain-name:value = '{C2_DOMAIN}']", pattern_type="stix", valid_from=NOW
            )
        )
    return stix2.Bundle(*objects).serialize()


def misp_event() -> dict[str, Any]:
    return {
        "Event": {
            "uuid": MISP_EVENT, "info": "Emotet epoch 5 C2", "date": "2026-12-01", "threat_level_id": "1",
            "Tag": [{"name": "tlp:green"}, {"name": "malware:emotet"}],
            "Attribute": [
                {"type": "ip-dst|port", "category": "Network activity", "value": f"{MISP_IP}|8080",
                 "to_ids": True},
                {"type": "domain", "category": "Network activity", "value": "benign.example.org",
                 "to_ids": False},
            ],
            "Object": [{"name": "file", "Attribute": [
                {"type": "sha256", "category": "Payload delivery", "value": MISP_SHA256, "to_ids": True},
            ]}],
        }
    }  # fmt: skip


@pytest.fixture
def feed_dir(tmp_path: Path) -> Path:
    root = tmp_path / "www"
    (root / "misp").mkdir(parents=True)
    (root / "bundle.json").write_text(stix_bundle())
    (root / "misp" / "manifest.json").write_text(json.dumps({MISP_EVENT: {"info": "Emotet epoch 5 C2"}}))
    (root / "misp" / f"{MISP_EVENT}.json").write_text(json.dumps(misp_event()))
    return root


@pytest.fixture
def feed_url(feed_dir: Path) -> Iterator[str]:
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(feed_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _events(*records: dict[str, Any]) -> list[NormalizedEvent]:
    data = "\n".join(json.dumps(r) for r in records).encode()
    return [e for e in parse_bytes(data, format="json", source="fw") if isinstance(e, NormalizedEvent)]


async def _subscribe(client: Any, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    resp = await client.post(FEEDS, json={"refresh_now": False, **body}, headers=headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def _feed_rows(feed: str) -> dict[str, IOCModel]:
    async with get_session_factory()() as session:
        rows = await session.scalars(select(IOCModel).where(IOCModel.feed == feed))
        return {row.value: row for row in rows}


async def _alerts(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    resp = await client.get("/api/v1/alerts", params={"limit": 100}, headers=headers)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


class TestScheduledImportAndMatch:
    @pytest.mark.slow
    async def test_feeds_import_on_schedule_and_matching_events_raise_marked_alerts(
        self, client: AsyncClient, admin_headers: dict[str, str], feed_url: str
    ) -> None:
        await _subscribe(client, admin_headers, name="osint-stix", kind="stix", url=f"{feed_url}/bundle.json")
        await _subscribe(client, admin_headers, name="partner-misp", kind="misp", url=f"{feed_url}/misp",
                         confidence=0.6)  # fmt: skip
        await BackgroundScheduler().refresh_feeds()  # the scheduled job, called once

        feeds = {f["name"]: f for f in (await client.get(FEEDS, headers=admin_headers)).json()}
        assert feeds["osint-stix"]["last_status"] == "ok" and feeds["osint-stix"]["indicator_count"] == 3
        assert feeds["partner-misp"]["last_status"] == "ok" and feeds["partner-misp"]["indicator_count"] == 2
        stix_rows = await _feed_rows("osint-stix")
        assert stix_rows[C2_IP].tlp == "red" and stix_rows[C2_IP].confidence == pytest.approx(0.85)
        assert stix_rows[C2_DOMAIN].tlp == "amber"  # the feed's default
        assert "benign.example.org" not in await _feed_rows("partner-misp")  # not to_ids

        events = _events(
            {"src_ip": "10.1.1.5", "dst_ip": C2_IP, "message": "outbound 443"},
            {"src_ip": "10.1.1.6", "dst_ip": MISP_IP, "message": "outbound 8080"},
            {"src_ip": "10.1.1.7", "dst_ip": STALE_IP, "message": "outbound 80"},
            {"src_ip": "10.1.1.8", "dst_ip": "198.51.100.1", "message": "outbound 80"},
        )
        result = await DetectionPipeline(SigmaEngine()).process(events)
        assert result.alerts_created == 2  # the expired and the unknown address raise nothing

        matched = {a["intel_matches"][0]["value"]: a for a in await _alerts(client, admin_headers)}
        assert set(matched) == {C2_IP, MISP_IP}
        stix_match = matched[C2_IP]["intel_matches"][0]
        assert (stix_match["feed"], stix_match["tlp"], stix_match["confidence"]) == (
            "osint-stix",
            "red",
            0.85,
        )
        assert matched[C2_IP]["severity"] == "high" and "Threat intel match" in matched[C2_IP]["title"]
        misp_match = matched[MISP_IP]["intel_matches"][0]
        assert (misp_match["source"], misp_match["tlp"], misp_match["confidence"]) == (
            "partner-misp",
            "green",
            0.6,
        )

        detail = await client.get(f"/api/v1/alerts/{matched[C2_IP]['id']}", headers=admin_headers)
        assert detail.json()["intel_matches"][0]["value"] == C2_IP

    async def test_a_rule_alert_is_marked_instead_of_a_second_alert(
        self, client: AsyncClient, admin_headers: dict[str, str], feed_url: str
    ) -> None:
        await _subscribe(client, admin_headers, name="osint-stix", kind="stix", url=f"{feed_url}/bundle.json")
        await BackgroundScheduler().refresh_feeds()
        require_data(CLEARTEXT_RULE)
        conn = (SAMPLES / "conn.log").read_text().splitlines()[0].replace("198.51.100.77", C2_IP)
        events = [e for e in parse_bytes(conn.encode(), source="conn.log") if isinstance(e, NormalizedEvent)]
        result = await DetectionPipeline(SigmaEngine.from_paths([CLEARTEXT_RULE])).process(events)
        assert result.alerts_created == 1
        (alert,) = await _alerts(client, admin_headers)
        assert alert["title"] == "Cleartext Protocol Usage"
        assert [m["value"] for m in alert["intel_matches"]] == [C2_IP]

    async def test_not_due_feeds_are_left_alone(
        self, client: AsyncClient, admin_headers: dict[str, str], feed_url: str, feed_dir: Path
    ) -> None:
        await _subscribe(client, admin_headers, name="osint-stix", kind="stix", url=f"{feed_url}/bundle.json",
                         refresh_minutes=60)  # fmt: skip
        scheduler = BackgroundScheduler()
        await scheduler.refresh_feeds()
        (feed_dir / "bundle.json").write_text(stix_bundle(with_domain=False))
        await scheduler.refresh_feeds()  # within the hour: nothing fetched
        assert (await _feed_rows("osint-stix"))[C2_DOMAIN].status == "active"


class TestRefusedFeeds:
    async def test_malformed_feed_is_refused_and_previous_indicators_stay(
        self, client: AsyncClient, admin_headers: dict[str, str], feed_url: str, feed_dir: Path
    ) -> None:
        feed = await _subscribe(
            client, admin_headers, name="osint-stix", kind="stix", url=f"{feed_url}/bundle.json"
        )
        first = await client.post(f"{FEEDS}/{feed['id']}/refresh", headers=admin_headers)
        assert first.status_code == 200 and first.json()["indicators"] == 3

        (feed_dir / "bundle.json").write_text('{"type": "bundle", "id": "bundle--1", "objects": [')
        refused = await client.post(f"{FEEDS}/{feed['id']}/refresh", headers=admin_headers)
        assert refused.status_code == 422
        assert "not a STIX 2.1 bundle" in refused.text
        listed = (await client.get(FEEDS, headers=admin_headers)).json()[0]
        assert listed["last_status"] == "error" and "not a STIX 2.1 bundle" in listed["last_error"]
        rows = await _feed_rows("osint-stix")
        assert rows[C2_IP].status == "active" and rows[C2_DOMAIN].status == "active"
        result = await DetectionPipeline(SigmaEngine()).process(_events({"dst_ip": C2_DOMAIN}))
        assert result.alerts_created == 1  # still matching

        (feed_dir / "bundle.json").unlink()
        missing = await client.post(f"{FEEDS}/{feed['id']}/refresh", headers=admin_headers)
        assert missing.status_code == 422 and "HTTP 404" in missing.text

    @pytest.mark.slow
    async def test_a_good_refresh_retires_indicators_the_feed_dropped(
        self, client: AsyncClient, admin_headers: dict[str, str], feed_url: str, feed_dir: Path
    ) -> None:
        feed = await _subscribe(
            client, admin_headers, name="osint-stix", kind="stix", url=f"{feed_url}/bundle.json"
        )
        await client.post(f"{FEEDS}/{feed['id']}/refresh", headers=admin_headers)
        (feed_dir / "bundle.json").write_text(stix_bundle(with_domain=False))
        again = await client.post(f"{FEEDS}/{feed['id']}/refresh", headers=admin_headers)
        assert again.json()["indicators"] == 2
        assert (await _feed_rows("osint-stix"))[C2_DOMAIN].status == "expired"
        result = await DetectionPipeline(SigmaEngine()).process(_events({"dst_ip": C2_DOMAIN}))
        assert result.alerts_created == 0

    async def test_bad_subscriptions_get_a_reason(
        self, client: AsyncClient, admin_headers: dict[str, str], role_headers: dict[str, dict[str, str]]
    ) -> None:
        local = await client.post(FEEDS, json={"name": "x", "kind": "text", "url": "/etc/passwd"},
                                  headers=admin_headers)  # fmt: skip
        assert local.status_code == 400 and "http(s)" in local.text
        kind = await client.post(FEEDS, json={"name": "x", "kind": "taxii", "url": "https://x.example/f"},
                                 headers=admin_headers)  # fmt: skip
        assert kind.status_code == 422
        viewer = await client.post(FEEDS, json={"name": "x", "kind": "text", "url": "https://x.example/f"},
                                   headers=role_headers["viewer"])  # fmt: skip
        assert viewer.status_code == 403


class TestFormats:
    def test_stix_reader_takes_equality_comparisons_and_skips_revoked(self) -> None:
        bundle = stix2.Bundle(
            stix2.Indicator(pattern="[file:hashes.'SHA-256' = '" + "b" * 64 + "'] OR [url:value = "
                            "'http://evil.example.com/a.php']", pattern_type="stix", valid_from=NOW),
            stix2.Indicator(pattern="[ipv4-addr:value = '192.0.2.1']", pattern_type="stix", valid_from=NOW,
                            revoked=True),
        ).serialize()  # fmt: skip
        found = {(i.type, i.value) for i in read_stix(bundle.encode())}
        assert found == {("hash_sha256", "b" * 64), ("url", "http://evil.example.com/a.php")}
        with pytest.raises(FeedFormatError, match=r"not a STIX 2\.1 bundle"):
            read_stix(b'{"type": "indicator"}')

    def test_misp_event_reader(self) -> None:
        found = read_misp_event(json.dumps(misp_event()).encode(), MISP_EVENT)
        assert {(i.type, i.value, i.tlp) for i in found} == {
            ("ip", MISP_IP, "green"),
            ("hash_sha256", MISP_SHA256, "green"),
        }
        with pytest.raises(FeedFormatError, match="no 'Event' object"):
            read_misp_event(b'{"event": {}}', MISP_EVENT)

    def test_csv_and_text_lists(self) -> None:
        feodo = (
            b"# Feodo Tracker botnet C2 IP blocklist\n"
            b'"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"\n'
            b'"2026-11-30 10:12:05","192.0.2.10","443","online","2026-12-05","QakBot"\n'
            b'"2026-11-30 11:00:00","192.0.2.11","8080","offline","2026-12-01","Emotet"\n'
        )
        assert [i.value for i in read_csv(feodo, "dst_ip")] == ["192.0.2.10", "192.0.2.11"]
        with pytest.raises(FeedFormatError, match="column 'ip' not found"):
            read_csv(feodo, "ip")
        text = b"# blocklist\nevil.example.com\nnot an indicator\n10.1.2.3\nfe80::1\n192.0.2.44\n"
        assert [i.value for i in read_text(text)] == ["evil.example.com", "192.0.2.44"]  # private: never
        with pytest.raises(FeedFormatError, match="HTML"):
            read_text(b"<html><body>rate limited</body></html>")


class TestCli:
    @pytest.mark.slow
    def test_add_refresh_and_list_a_local_text_feed(self, tmp_path: Path) -> None:
        listing = tmp_path / "blocklist.txt"
        listing.write_text("# blocklist\n192.0.2.77\nbad.example.net\n")
        runner = CliRunner()
        added = runner.invoke(
            cli_app, ["intel", "feeds", "add", "local-list", "text", str(listing), "--tlp", "green"]
        )
        assert added.exit_code == 0, added.output
        assert "2 indicators imported" in added.output
        listing.write_text("<html>oops</html>")
        refused = runner.invoke(cli_app, ["intel", "feeds", "refresh", "local-list"])
        assert refused.exit_code == 1 and "HTML" in refused.output
        shown = runner.invoke(cli_app, ["intel", "feeds", "list"])
        assert "local-list" in shown.output and "error" in shown.output


class TestIndicatorStore:
    async def test_upsert_retire_and_match_on_each_database(self, any_db_session: AsyncSession) -> None:
        session = any_db_session
        feed = IntelFeedModel(name="blocklist", kind="text", url="https://feeds.example/l.txt", tlp="amber",
                              confidence=0.5, expiry_days=30, refresh_minutes=60, enabled=True,
                              last_status="never", indicator_count=0)  # fmt: skip
        session.add(feed)
        session.add(
            IOCModel(type="ip", value="192.0.2.5", source="alert", sightings=4)
        )  # seen before: an observable
        await session.flush()
        found = [
            FeedIndicator("ip", "192.0.2.5", tlp="red", confidence=0.9),
            FeedIndicator("domain", "old.example.com", expires_at=NOW - timedelta(hours=1)),
            FeedIndicator("domain", "kept.example.com"),
        ]
        assert await store_indicators(session, feed, found) == 3
        keys = {("ip", "192.0.2.5"), ("domain", "old.example.com"), ("domain", "kept.example.com")}
        active = await active_indicators(session, keys, utcnow())
        assert set(active) == {("ip", "192.0.2.5"), ("domain", "kept.example.com")}
        promoted = active[("ip", "192.0.2.5")]
        assert (promoted.feed, promoted.tlp, promoted.confidence, promoted.sightings) == (
            "blocklist",
            "red",
            0.9,
            4,
        )
        expires = active[("domain", "kept.example.com")].expires_at
        assert expires is not None and expires > NOW + timedelta(days=29)

        assert await store_indicators(session, feed, [FeedIndicator("domain", "kept.example.com")]) == 1
        assert set(await active_indicators(session, keys, utcnow())) == {("domain", "kept.example.com")}

    async def test_indicators_are_found_in_any_field_and_in_the_message(
        self, db_session: AsyncSession
    ) -> None:
        feed = IntelFeedModel(name="hashes", kind="text", url="https://feeds.example/h.txt", tlp="green",
                              confidence=0.7, expiry_days=30, refresh_minutes=60, enabled=True,
                              last_status="never", indicator_count=0)  # fmt: skip
        db_session.add(feed)
        await db_session.flush()
        sha = "c" * 64
        found = [FeedIndicator("hash_sha256", sha), FeedIndicator("url", "http://dl.example.net/Payload.EXE")]
        await store_indicators(db_session, feed, found)
        events = _events(
            {"Image": "C:\\\\x.exe", "Hashes": f"MD5={'d' * 32},SHA256={sha.upper()}"},
            {"message": "curl fetched (http://DL.example.net/Payload.EXE), exit 0"},
            {"message": "curl fetched http://dl.example.net/payload.exe"},  # the path differs in case
        )
        alerts = await match_indicators(db_session, events, [uuid.uuid4() for _ in events], [])
        assert [a.metadata["intel_matches"][0]["value"] for a in alerts] == [
            sha,
            "http://dl.example.net/Payload.EXE",
        ]
        assert alerts[0].metadata["intel_matches"][0]["tlp"] == "green"
