"""One bad record never takes its batch (spec §28, issue #15): repaired or rejected alone, with its reason.

The acceptance tests run on a real PostgreSQL (which refuses NUL characters and out-of-range integers
that SQLite stores) through the product's own paths: ``POST /siem/ingest`` (queued and ``wait=true``)
and the Redis ``aurora:logs`` lane with a real stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import orjson
import pytest
import redis.asyncio as aioredis
from conftest import require_service
from sqlalchemy import select

from aurorasoc.core.bus.base import DEAD_LETTER, BusMessage
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.bus.redis_streams import RedisStreamsBus
from aurorasoc.core.config import reset_settings
from aurorasoc.core.db import dispose_engine, get_engine, get_session_factory
from aurorasoc.core.models import Base, SiemLogModel
from aurorasoc.core.namespace import redis_key
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.log_stream import (
    DETECTION_GROUP,
    LOGS_STREAM,
    publish_events,
    register_detection_consumer,
)
from aurorasoc.siem.pipeline import DetectionPipeline
from aurorasoc.siem.repair import KEPT_CHARS, MAX_VALUE_CHARS, REPAIRED_KEY, repair

INGEST = "/api/v1/siem/ingest"
FIVE_MB = 5 * 1024 * 1024


def event(**values: object) -> NormalizedEvent:
    """An event with its own raw record (the fingerprint of spec §27.5 tells them apart)."""
    return NormalizedEvent.model_validate({"source": "edge", "format": "json", "raw": repr(values), **values})


class TestRepair:
    def test_nul_is_stripped_everywhere_and_noted(self) -> None:
        fixed = repair(event(message="a\x00b", fields={"k\x00": ["x\x00y"]}, host="h\x00"))
        assert (fixed.message, fixed.host) == ("ab", "h")
        assert fixed.fields["k"] == ["xy"]
        assert "message: NUL removed" in fixed.fields[REPAIRED_KEY]

    def test_a_lone_surrogate_becomes_the_replacement_character(self) -> None:
        fixed = repair(event(message="bad \ud800 text", entities={"user.name": "\udcff"}))
        assert fixed.message == "bad \ufffd text"
        assert fixed.entities == {"user.name": "\ufffd"}
        orjson.dumps(fixed.model_dump(mode="json"))  # encodable again (raised before the repair)

    def test_an_oversized_field_is_cut_with_a_marker(self) -> None:
        fixed = repair(event(fields={"blob": "x" * FIVE_MB}))
        blob = fixed.fields["blob"]
        assert blob == "x" * KEPT_CHARS + f"…[truncated {FIVE_MB - KEPT_CHARS} characters]"
        assert len(blob) <= MAX_VALUE_CHARS and repair(fixed) is fixed  # a second pass changes nothing
        assert f"fields.blob: truncated from {FIVE_MB} characters" in fixed.fields[REPAIRED_KEY]

    def test_a_clean_event_is_returned_untouched(self) -> None:
        clean = event(message="fine", fields={"n": 1})
        assert repair(clean) is clean
        literal = event(message="fine", fields={"path": r"C:\u0000\dir", "list": [r"\u0000"]})
        assert repair(literal) is literal  # a backslash and "u0000" as text is no NUL

    @pytest.mark.parametrize(
        ("fields", "repaired"),
        [
            ({"deep": [{"cmd": "a\x00b"}]}, {"deep": [{"cmd": "ab"}]}),
            ({"deep": {"x": ["\udc80"]}}, {"deep": {"x": ["\ufffd"]}}),
            ({"many": ["y" * 1000] * 300}, None),  # large, yet every value within the limit
        ],
    )
    def test_only_a_nested_field_is_bad(self, fields: dict[str, object], repaired: object) -> None:
        """The text attributes are clean: the fields alone decide, however deep the bad value."""
        bad = event(message="fine", fields=fields, raw=f"record {len(str(fields))}")
        fixed = repair(bad)
        if repaired is None:
            assert fixed is bad
        else:
            assert {k: fixed.fields[k] for k in fields} == repaired and REPAIRED_KEY in fixed.fields


# --- PostgreSQL acceptance -------------------------------------------------------------------


@pytest.fixture
async def app_db(scratch_pg_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """The application on its own PostgreSQL database; lines up to 8 MiB so the 5 MB field reaches the
    per-field limit (``AURORA_INGEST_MAX_FIELD_KB``), which rejects that record alone with its reason."""
    monkeypatch.setenv("AURORA_DATABASE_URL", scratch_pg_url)
    monkeypatch.setenv("AURORA_INGEST_MAX_LINE_KB", "8192")
    reset_settings()
    await dispose_engine()
    async with get_engine().begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield
    await dispose_engine()


def bad_batch() -> bytes:
    good = [json.dumps({"host": f"web-{n}", "message": f"GET /page/{n}"}).encode() for n in range(20)]
    bad = [
        b'{"host": "nul-host", "message": "before\\u0000after"}',
        b'{"host": "bytes-host", "message": "bad \xff\xfe bytes"}',
        b'{"host": "surrogate-host", "message": "lone \\ud800 surrogate"}',
        json.dumps({"host": "big-host", "message": "big", "blob": "y" * FIVE_MB}).encode(),
    ]
    return b"\n".join(good[:10] + bad + good[10:])


async def stored_by_host() -> dict[str, SiemLogModel]:
    async with get_session_factory()() as session:
        return {row.host: row for row in (await session.scalars(select(SiemLogModel))).all() if row.host}


def collect_dead_letters() -> list[BusMessage]:
    """Everything the in-process bus dead-letters from now on."""
    letters: list[BusMessage] = []

    async def keep(message: BusMessage) -> None:
        letters.append(message)

    get_bus().subscribe(DEAD_LETTER, "test-dead-letters", keep)
    return letters


def assert_good_and_repaired(rows: dict[str, SiemLogModel]) -> None:
    """Every good event stored; NUL stripped; bad bytes replaced; the 5 MB record refused by itself."""
    assert {f"web-{n}" for n in range(20)} | {"nul-host", "bytes-host"} == rows.keys()
    assert rows["nul-host"].message == "beforeafter"
    assert rows["nul-host"].fields[REPAIRED_KEY] == ["message: NUL removed", "fields.message: NUL removed"]
    assert rows["bytes-host"].message == "bad \ufffd\ufffd bytes"


@pytest.mark.integration
class TestIngestOnPostgres:
    async def test_queued_batch_keeps_every_good_event_and_repairs_the_bad(
        self, client, admin_headers
    ) -> None:
        letters = collect_dead_letters()
        resp = await client.post(f"{INGEST}?source=edge", content=bad_batch(), headers=admin_headers)
        assert resp.status_code == 202, resp.text
        body = resp.json()
        assert (body["accepted"], body["rejected"], body["searchable"]) == (22, 2, False), body
        surrogate, big = body["errors"]
        assert surrogate["position"] == "line 13" and "surrogate" in surrogate["message"]
        assert big["position"] == "record 14" and "AURORA_INGEST_MAX_FIELD_KB" in big["message"]
        assert "queued" in body["searchable_when"]
        await get_bus().join(LOGS_STREAM, DETECTION_GROUP)  # type: ignore[attr-defined]
        rows = await stored_by_host()
        assert_good_and_repaired(rows)
        assert len(rows) == 22
        await get_bus().join(DEAD_LETTER, "test-dead-letters")  # type: ignore[attr-defined]
        assert letters == []

    async def test_wait_answers_once_the_events_are_searchable(self, client, admin_headers) -> None:
        resp = await client.post(
            f"{INGEST}?source=edge&wait=true", content=bad_batch(), headers=admin_headers
        )
        assert resp.status_code == 200, resp.text
        assert (resp.json()["accepted"], resp.json()["searchable"]) == (22, True)
        rows = await stored_by_host()  # no waiting on any consumer: stored before the answer
        assert_good_and_repaired(rows)
        found = await client.get("/api/v1/siem/logs?q=host:nul-host&range=all", headers=admin_headers)
        assert found.json()["total"] == 1


@pytest.fixture
async def redis_lane(app_db: None) -> AsyncIterator[tuple[RedisStreamsBus, aioredis.Redis]]:
    url = require_service("redis")
    client = aioredis.from_url(url, decode_responses=True)
    bus = RedisStreamsBus(url, block_ms=50, backoff_base=0.01)
    keys = [redis_key(stream, bus.namespace) for stream in (LOGS_STREAM, DEAD_LETTER)]
    await client.delete(*keys)
    yield bus, client
    await bus.close()
    await client.delete(*keys)
    await client.aclose()


@pytest.mark.integration
async def test_redis_lane_dead_letters_only_the_event_the_store_refuses(redis_lane) -> None:
    bus, client = redis_lane
    good = [event(host=f"ok-{n}", message=f"login {n}") for n in range(10)]
    bad = [
        event(host="nul", message="a\x00b"),
        event(host="surrogate", message="lone \udc80"),
        event(host="big", fields={"blob": "z" * FIVE_MB}),
        event(host="port", src_port=2**40),  # valid event, out of PostgreSQL's integer range
    ]
    await publish_events(bus, good[:5] + bad + good[5:], "edge")

    async def pipeline() -> DetectionPipeline:
        return DetectionPipeline(SigmaEngine())

    register_detection_consumer(bus, pipeline, consumer="t1")
    await bus.start()
    letters = redis_key(DEAD_LETTER, bus.namespace)
    async with asyncio.timeout(30):
        while not await client.xlen(letters):  # noqa: ASYNC110 (the consumer task's progress)
            await asyncio.sleep(0.05)
    rows = await stored_by_host()
    assert {f"ok-{n}" for n in range(10)} | {"nul", "surrogate", "big"} == rows.keys()
    assert rows["surrogate"].message == "lone \ufffd"
    assert rows["big"].fields["blob"].endswith(f"…[truncated {FIVE_MB - KEPT_CHARS} characters]")
    [(_, entry)] = await client.xrange(letters)
    letter = orjson.loads(entry["data"])
    assert letter["stream"] == LOGS_STREAM and letter["message_id"]
    assert "DataError" in letter["error"] or "out of range" in letter["error"]
    assert letter["data"]["host"] == "port"
