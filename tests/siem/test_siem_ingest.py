"""POST /api/v1/siem/ingest: raw log bodies (NDJSON, text, real EVTX) through the embedded detection lane."""

from __future__ import annotations

import gzip
import json

import pytest
from conftest import SHARED_DATA, require_data
from sqlalchemy import func, select

from aurorasoc.core import runtime
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.config import get_settings, reset_settings
from aurorasoc.core.db import get_session_factory, session_scope
from aurorasoc.core.models import AlertModel, LogSourceModel, SiemLogModel
from aurorasoc.core.vocabulary import RuntimeMode
from aurorasoc.detection.rules import import_startup_rules
from aurorasoc.siem.log_stream import DETECTION_GROUP, LOGS_STREAM

INGEST = "/api/v1/siem/ingest"
ADMINS_4732 = (
    SHARED_DATA / "evtx-attack-samples" / "Persistence" / "Network_Service_Guest_added_to_admins_4732.evtx"
)


async def detected() -> None:
    """Wait until the in-process detection consumer has handled everything queued."""
    await get_bus().join(LOGS_STREAM, DETECTION_GROUP)  # type: ignore[attr-defined]


async def count(model: type) -> int:
    async with get_session_factory()() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def bundled_rules(app_db) -> None:  # type: ignore[no-untyped-def]
    """The bundled pack in ``detection_rules``, as ``serve`` imports it at start."""
    async with session_scope() as session:
        await import_startup_rules(session, get_settings())


class TestIngestFormats:
    async def test_ndjson_events_are_stored_under_the_source(self, client, admin_headers):
        lines = [
            json.dumps({"host": f"web-{n}", "message": f"GET /login {n}", "user": "alice"}) for n in range(5)
        ]
        resp = await client.post(
            f"{INGEST}?source=web-proxy", content="\n".join(lines).encode(), headers=admin_headers
        )
        assert resp.status_code == 202, resp.text
        assert {k: resp.json()[k] for k in ("accepted", "rejected", "errors", "searchable")} == {
            "accepted": 5,
            "rejected": 0,
            "errors": [],
            "searchable": False,
        }
        await detected()
        async with get_session_factory()() as session:
            rows = (await session.scalars(select(SiemLogModel))).all()
        assert sorted(r.host for r in rows) == [f"web-{n}" for n in range(5)]
        assert {r.format for r in rows} == {"json"}

    async def test_the_source_is_created_as_http_and_counts_events_and_errors(self, client, admin_headers):
        body = b'{"message": "a"}\n{"message": "b"}\nbroken {\n'
        await client.post(f"{INGEST}?source=fw-edge&format=ndjson", content=body, headers=admin_headers)
        await client.post(f"{INGEST}?source=fw-edge", content=b'{"message": "c"}', headers=admin_headers)
        async with get_session_factory()() as session:
            source = (await session.scalars(select(LogSourceModel))).one()
        assert (source.name, source.kind) == ("fw-edge", "http")
        assert (source.events_total, source.parse_errors) == (3, 1)
        assert source.last_event_at is not None

    async def test_text_lines_become_one_event_each(self, client, admin_headers):
        body = b"first line\n\nsecond line\nthird line\n"
        resp = await client.post(f"{INGEST}?format=line&source=notes", content=body, headers=admin_headers)
        assert resp.json()["accepted"] == 3
        await detected()
        assert await count(SiemLogModel) == 3

    async def test_real_evtx_bytes_raise_alerts(self, bundled_rules, client, admin_headers):
        require_data(ADMINS_4732)
        resp = await client.post(
            f"{INGEST}?source=dc01", content=ADMINS_4732.read_bytes(), headers=admin_headers
        )
        assert resp.status_code == 202 and resp.json()["accepted"] == 2
        await detected()
        assert await count(SiemLogModel) == 2
        async with get_session_factory()() as session:
            alerts = (await session.scalars(select(AlertModel))).all()
        assert alerts and all(a.metadata_["rule_uid"] for a in alerts)
        assert all(a.metadata_["log_ids"] for a in alerts)

    async def test_a_forwarder_resending_a_batch_stores_nothing_new(
        self, bundled_rules, client, admin_headers
    ):
        """Spec §27.5 on the HTTP → bus lane: the resent records are the same fingerprints."""
        require_data(ADMINS_4732)
        for _ in range(2):
            resp = await client.post(
                f"{INGEST}?source=dc01", content=ADMINS_4732.read_bytes(), headers=admin_headers
            )
            assert resp.status_code == 202
            await detected()
        async with get_session_factory()() as session:
            alerts = (await session.scalars(select(AlertModel))).all()
        assert await count(SiemLogModel) == 2
        assert alerts and sum(a.occurrence_count for a in alerts) == len(
            {i for a in alerts for i in a.metadata_["log_ids"]}
        )


class TestIngestRefusals:
    async def test_bad_records_are_rejected_with_positions_and_the_rest_accepted(self, client, admin_headers):
        good = json.dumps({"message": "ok"})
        body = "\n".join([good, *(f"not json {n} {{" for n in range(25)), good])
        resp = await client.post(f"{INGEST}?format=ndjson", content=body.encode(), headers=admin_headers)
        result = resp.json()
        assert (result["accepted"], result["rejected"], len(result["errors"])) == (2, 25, 20)
        assert result["errors"][0]["position"] == "line 2"
        assert "invalid JSON" in result["errors"][0]["message"]

    async def test_garbage_declared_as_evtx_is_rejected(self, client, admin_headers):
        resp = await client.post(f"{INGEST}?format=evtx", content=b"\x00\x01 not evtx", headers=admin_headers)
        assert resp.status_code == 202
        assert resp.json()["accepted"] == 0 and resp.json()["rejected"] >= 1
        assert resp.json()["errors"][0]["position"].startswith("byte ")

    async def test_unknown_format_is_400(self, client, admin_headers):
        resp = await client.post(f"{INGEST}?format=xml", content=b"<a/>", headers=admin_headers)
        assert resp.status_code == 400 and "unknown log format" in resp.json()["detail"]["message"]

    async def test_body_over_the_limit_is_413_with_the_reason(
        self, client, admin_headers, monkeypatch: pytest.MonkeyPatch
    ):
        monkeypatch.setenv("AURORA_INGEST_MAX_BODY_MB", "1")
        reset_settings()
        resp = await client.post(INGEST, content=b"x" * (1024 * 1024 + 1), headers=admin_headers)
        assert resp.status_code == 413
        assert resp.json()["detail"]["code"] == "payload_too_large"
        assert "AURORA_INGEST_MAX_BODY_MB" in resp.json()["detail"]["message"]
        assert (await client.post(INGEST, content=b"x" * 1024, headers=admin_headers)).status_code == 202

    async def test_a_gzip_bomb_is_413_with_the_reason_and_nothing_queued(self, client, admin_headers):
        member = gzip.compress(b"A" * 1024 * 1024, compresslevel=9)
        resp = await client.post(INGEST, content=member * 1024, headers=admin_headers)  # 1 MiB -> 1 GiB
        assert resp.status_code == 413
        assert "decompressed size exceeds 10 MiB" in resp.json()["detail"]["message"]
        await detected()
        assert await count(SiemLogModel) == 0

    async def test_dummy_mode_answers_409(self, client, admin_headers):
        runtime.set_mode(RuntimeMode.DUMMY)
        resp = await client.post(INGEST, content=b'{"message": "x"}', headers=admin_headers)
        assert resp.status_code == 409
        assert resp.json()["detail"]["code"] == "mode_blocks_mutation"

    async def test_viewer_is_forbidden(self, client, role_headers):
        resp = await client.post(INGEST, content=b'{"message": "x"}', headers=role_headers["viewer"])
        assert resp.status_code == 403


async def test_an_api_key_with_siem_write_can_ingest(client, admin_headers):
    created = await client.post(
        "/api/v1/auth/api-keys",
        json={"service_name": "log-forwarder", "permissions": ["siem:write"]},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    key = {"X-API-Key": created.json()["api_key"]}
    resp = await client.post(f"{INGEST}?source=forwarder", content=b'{"message": "hello"}', headers=key)
    assert resp.status_code == 202 and resp.json()["accepted"] == 1
    await detected()
    assert await count(SiemLogModel) == 1
