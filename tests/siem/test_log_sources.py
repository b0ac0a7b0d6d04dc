"""Tests for aurorasoc.siem.sources: status rules, ingest counters, live rates, the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import TEST_START
from sqlalchemy import select

from aurorasoc.core import runtime
from aurorasoc.core.db import session_scope
from aurorasoc.core.errors import Conflict, InvalidInput
from aurorasoc.core.models import AuditLogModel, LogSourceModel
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.siem.entity_days import count_entity_days
from aurorasoc.siem.log_store import store_unseen
from aurorasoc.siem.sources import (
    IMPORT_KIND,
    IngestCount,
    LogSourceService,
    count_ingest_many,
    effective_status,
    ingest_status,
    record_ingest,
)

URL = "/api/v1/siem/sources"
NOW = TEST_START  # replaced by the running test's start time (tests/conftest.py)


class TestStatusRules:
    def test_small_source_is_judged_on_all_its_lines(self):
        assert ingest_status("healthy", total_lines=100, total_errors=6, batch_lines=1, batch_errors=0) == (
            "erroring"
        )
        assert ingest_status("erroring", total_lines=100, total_errors=5, batch_lines=1, batch_errors=0) == (
            "healthy"
        )

    def test_large_source_is_judged_on_a_big_enough_batch(self):
        big = {"total_lines": 50_000, "total_errors": 10_000}
        assert ingest_status("erroring", **big, batch_lines=500, batch_errors=25) == "healthy"
        assert ingest_status("healthy", **big, batch_lines=500, batch_errors=26) == "erroring"

    def test_tiny_batch_keeps_the_previous_verdict(self):
        big = {"total_lines": 50_000, "total_errors": 0}
        assert ingest_status("erroring", **big, batch_lines=3, batch_errors=0) == "erroring"
        assert ingest_status("healthy", **big, batch_lines=3, batch_errors=3) == "healthy"

    def test_silence_for_fifteen_minutes_is_stale(self):
        assert effective_status("healthy", "http", NOW - timedelta(minutes=16), NOW) == "stale"
        assert effective_status("erroring", "file", NOW - timedelta(minutes=16), NOW) == "stale"
        assert effective_status("erroring", "http", NOW - timedelta(minutes=14), NOW) == "erroring"

    def test_a_source_without_events_is_not_stale(self):
        assert effective_status("healthy", "http", None, NOW) == "healthy"

    def test_an_import_is_never_stale(self):
        """It has nothing more to send: every file of an import read "stale" once it was stored."""
        assert effective_status("healthy", IMPORT_KIND, NOW - timedelta(days=30), NOW) == "healthy"


class TestRecordIngest:
    async def test_creates_then_increments(self, any_db_session):
        first = await record_ingest(
            any_db_session, "fw-1", kind="http", format="cef", events=90, parse_errors=10, last_event_at=NOW
        )
        assert (first.kind, first.format, first.status) == ("http", "cef", "erroring")
        again = await record_ingest(
            any_db_session,
            "fw-1",
            kind="file",
            format="json",
            events=400,
            parse_errors=0,
            last_event_at=NOW - timedelta(hours=1),  # late batch does not move last_event_at back
        )
        assert again.id == first.id
        assert (again.kind, again.format) == ("http", "cef")  # the first sighting decides
        assert (again.events_total, again.parse_errors) == (490, 10)
        assert again.status == "healthy"  # 10 / 500 lines = 2 %
        assert again.last_event_at == NOW

    async def test_many_files_are_counted_per_source_in_one_pass(self, any_db_session):
        """``aurorasoc ingest`` of a folder: counts of one name add up, new and known sources alike."""
        known = {"kind": "file", "format": "auto", "events": 5, "parse_errors": 0, "last_event_at": NOW}
        await record_ingest(any_db_session, "known.evtx", **known)
        counts = [
            IngestCount("known.evtx", 10, 0, NOW - timedelta(hours=1)),
            IngestCount("new.log", 60, 40, None),
            IngestCount("new.log", 40, 0, NOW),
        ]
        sources = await count_ingest_many(any_db_session, counts, kind="file", format="auto")
        await any_db_session.commit()
        assert [s.name for s in sources] == ["known.evtx", "new.log", "new.log"]
        stored = {s.name: s for s in (await any_db_session.scalars(select(LogSourceModel))).all()}
        known, new = stored["known.evtx"], stored["new.log"]
        assert (known.events_total, known.parse_errors, known.last_event_at) == (15, 0, NOW)
        assert known.last_received_at is not None and known.last_received_at >= NOW  # arrival, not event time
        assert (new.events_total, new.parse_errors, new.last_event_at) == (100, 40, NOW)
        assert (new.kind, new.status) == ("file", "erroring")  # 40 of 140 lines failed


async def _seed_logs(session, name: str, ages: list[timedelta]) -> None:
    """Stored as the detection pipeline stores a batch: the rows, then their per-day counts."""
    now = datetime.now(UTC)  # not the import-time NOW: EPS looks at the last minute of wall time
    events = [
        NormalizedEvent(
            source=name,
            format="json",
            received_at=now - age,
            timestamp=now - timedelta(days=30),
            fields={"n": n},
            time_source="record",
        )
        for n, age in enumerate(ages)
    ]
    fresh, _ = await store_unseen(session, events)
    await count_entity_days(session, fresh)
    await session.flush()


class TestStats:
    async def test_eps_and_events_today_come_from_received_at(self, any_db_session):
        source = await record_ingest(
            any_db_session, "edr", kind="http", format="json", events=0, parse_errors=0, last_event_at=None
        )
        await _seed_logs(any_db_session, "edr", [timedelta(seconds=2)] * 30 + [timedelta(days=2)])
        await _seed_logs(any_db_session, "other", [timedelta(seconds=1)] * 7)
        stats = (await LogSourceService(any_db_session).stats([source]))[source.id]
        assert stats.eps == 0.5  # 30 events in the last minute
        assert stats.events_today == 30
        assert stats.status == "healthy"


class TestService:
    async def test_duplicate_name_conflicts(self, db_session):
        service = LogSourceService(db_session)
        await service.create({"name": "syslog", "kind": "http"})
        with pytest.raises(Conflict):
            await service.create({"name": "syslog", "kind": "http"})

    @pytest.mark.parametrize(
        ("values", "reason"),
        [
            ({"name": "f", "kind": "file"}, "needs a path"),
            ({"name": "h", "kind": "http", "path": "/var/log/x"}, "only applies"),
            ({"name": "h", "kind": "http", "format": "xml"}, "format"),
        ],
    )
    async def test_invalid_sources_are_refused(self, db_session, values, reason):
        with pytest.raises(InvalidInput, match=reason):
            await LogSourceService(db_session).create(values)


class TestApi:
    async def test_create_list_patch(self, client, role_headers):
        h = role_headers["analyst"]
        body = {"name": "auth-log", "kind": "file", "path": "/var/log/auth.log", "format": "syslog"}
        created = await client.post(URL, json=body, headers=h)
        assert created.status_code == 201, created.text
        source = created.json()
        assert (source["status"], source["eps"], source["events_today"]) == ("healthy", 0.0, 0)

        duplicate = await client.post(URL, json=body, headers=h)
        assert duplicate.status_code == 409
        assert duplicate.json()["detail"]["code"] == "duplicate"

        patched = await client.patch(
            f"{URL}/{source['id']}", json={"enabled": False, "passthrough_alerts": True}, headers=h
        )
        assert patched.status_code == 200
        assert (patched.json()["enabled"], patched.json()["passthrough_alerts"]) == (False, True)
        async with session_scope() as session:
            actions = (await session.scalars(select(AuditLogModel.action))).all()
        assert {"log_source.create", "log_source.update"} <= set(actions)

        listed = await client.get(URL, headers=role_headers["api_service"])
        assert [(s["name"], s["enabled"]) for s in listed.json()["items"]] == [("auth-log", False)]

    async def test_list_shows_live_status(self, client, role_headers):
        async with session_scope() as session:
            hour_ago, now = utcnow() - timedelta(hours=1), utcnow()
            silent = {"last_received_at": hour_ago, "last_event_at": now}
            session.add(LogSourceModel(name="quiet", kind="http", **silent))
            old_logs = {"last_received_at": now, "last_event_at": datetime(2019, 3, 19, tzinfo=UTC)}
            session.add(LogSourceModel(name="replay", kind="http", **old_logs))
            session.add(LogSourceModel(name="sample.evtx", kind=IMPORT_KIND, last_received_at=hour_ago))
        listed = await client.get(URL, headers=role_headers["analyst"])
        status = {s["name"]: s["status"] for s in listed.json()["items"]}
        # silence is measured by arrival; an import has nothing more to send
        assert status == {"quiet": "stale", "replay": "healthy", "sample.evtx": "healthy"}

    async def test_patch_rejects_unknown_fields_and_formats(self, client, role_headers):
        h = role_headers["analyst"]
        source = (await client.post(URL, json={"name": "api", "kind": "http"}, headers=h)).json()
        assert (
            await client.patch(f"{URL}/{source['id']}", json={"path": "/x"}, headers=h)
        ).status_code == 422
        bad_format = await client.patch(f"{URL}/{source['id']}", json={"format": "xml"}, headers=h)
        assert bad_format.status_code == 400

    async def test_writes_are_blocked_outside_real_mode(self, client, role_headers):
        runtime.set_mode("dummy")
        resp = await client.post(URL, json={"name": "x", "kind": "http"}, headers=role_headers["analyst"])
        assert resp.status_code == 409
