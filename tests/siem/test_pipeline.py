"""DetectionPipeline: real EVTX samples through real Sigma rules into siem_logs and alerts."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SHARED_DATA, require_data
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from aurorasoc.cli.rules import BUNDLED_RULES
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.config import get_settings
from aurorasoc.core.db import get_session_factory
from aurorasoc.core.models import AlertModel, DetectionRuleModel, SiemLogModel
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.parsers import ParseError, parse_bytes, parse_file
from aurorasoc.siem.pipeline import BATCH_SIZE, DetectionPipeline

DATA = SHARED_DATA
SAMPLES = DATA / "evtx-attack-samples"
SIGMAHQ_WINDOWS = DATA / "sigma" / "rules" / "windows"
COMSVCS = SAMPLES / "Credential Access" / "sysmon_10_1_memdump_comsvcs_minidump.evtx"
ADMINS = SAMPLES / "Persistence" / "Network_Service_Guest_added_to_admins_4732.evtx"
SIGMAHQ_RULES = (
    SIGMAHQ_WINDOWS / "process_creation" / "proc_creation_win_rundll32_process_dump_via_comsvcs.yml",
    SIGMAHQ_WINDOWS / "builtin" / "security" / "win_security_user_added_to_local_administrators.yml",
)
EVE_ALERT = {
    "timestamp": "2026-11-20T10:00:00.000000+0000",
    "event_type": "alert",
    "src_ip": "203.0.113.9",
    "src_port": 4444,
    "dest_ip": "10.0.0.5",
    "dest_port": 80,
    "proto": "TCP",
    "host": "sensor-1",
    "alert": {
        "signature": "ET MALWARE Test C2 Beacon",
        "signature_id": 2030001,
        "severity": 1,
        "metadata": {"mitre_technique_id": ["T1071"]},
    },
}


def rule_doc(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def events(*paths: Path) -> list[NormalizedEvent]:
    return [e for path in paths for e in parse_file(path) if not isinstance(e, ParseError)]


@pytest.fixture
def engine() -> SigmaEngine:
    require_data(COMSVCS, ADMINS, *SIGMAHQ_RULES)
    return SigmaEngine.from_paths([BUNDLED_RULES, *SIGMAHQ_RULES])


async def alerts_by_rule() -> dict[str, AlertModel]:
    async with get_session_factory()() as session:
        rows = (await session.scalars(select(AlertModel))).all()
    return {a.metadata_["rule_uid"]: a for a in rows}


async def count(model: type[Any]) -> int:
    async with get_session_factory()() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


class TestRuleHitsBecomeAlerts:
    async def test_alert_fields_follow_the_rule_and_event(self, app_db, engine):
        result = await DetectionPipeline(engine).process(events(COMSVCS, ADMINS))
        alerts = await alerts_by_rule()
        for rule_file in (*SIGMAHQ_RULES, BUNDLED_RULES / "win_security_admin_group_member_added.yml"):
            doc = rule_doc(rule_file)
            alert = alerts[doc["id"]]
            assert alert.title == doc["title"]
            assert alert.severity == doc["level"]
            expected = [t.removeprefix("attack.").upper() for t in doc["tags"] if t.startswith("attack.t")]
            assert alert.mitre_techniques == expected
            assert alert.metadata_["rule_title"] == doc["title"]
            assert alert.source == "windows"
            assert any(a.startswith("host:") for a in alert.affected_assets)
            assert alert.raw_log and alert.raw_log.startswith("{")
            assert result.rule_hits[doc["id"]] >= 1

    async def test_events_are_stored_and_alerts_point_at_them(self, app_db, engine):
        batch = events(COMSVCS)
        result = await DetectionPipeline(engine).process(batch)
        assert result.events == len(batch) == await count(SiemLogModel)
        alert = (await alerts_by_rule())[rule_doc(SIGMAHQ_RULES[0])["id"]]
        async with get_session_factory()() as session:
            log = await session.get(SiemLogModel, uuid.UUID(alert.metadata_["log_ids"][0]))
        assert log is not None and log.format == "evtx" and log.product == "windows"
        assert log.host and f"host:{log.host}" in alert.affected_assets
        assert "Matched fields:" in (alert.description or "")
        assert alert.metadata_["logsource"]["category"] == "process_creation"

    async def test_repeat_ingest_is_idempotent(self, app_db, engine):
        """Spec §27.5: the same records again store nothing and raise no occurrence count."""
        pipeline = DetectionPipeline(engine)
        sample = events(ADMINS)
        first = await pipeline.process(sample)
        before = await alerts_by_rule()
        second = await pipeline.process(events(ADMINS))
        after = await alerts_by_rule()
        assert first.alerts_created == len(before) > 0
        assert second.events == 0 and second.replayed == len(sample)
        assert second.alerts_created == 0 and second.deduplicated == 0 and not second.rule_hits
        assert {u: a.occurrence_count for u, a in after.items()} == {
            u: a.occurrence_count for u, a in before.items()
        }
        async with get_session_factory()() as session:
            stored = await session.scalar(select(func.count()).select_from(SiemLogModel))
        assert stored == first.events

    async def test_rule_hit_counters_are_updated(self, app_db, engine):
        uid = rule_doc(SIGMAHQ_RULES[1])["id"]
        async with get_session_factory()() as session:
            session.add(DetectionRuleModel(rule_uid=uid, title="t", yaml="title: t", origin="custom"))
            await session.commit()
        result = await DetectionPipeline(engine).process(events(ADMINS))
        async with get_session_factory()() as session:
            rule = await session.scalar(select(DetectionRuleModel).where(DetectionRuleModel.rule_uid == uid))
        assert rule is not None and rule.hit_count == result.rule_hits[uid] > 0
        assert rule.last_hit_at is not None

    async def test_created_alerts_are_published(self, app_db, engine):
        seen: list[dict[str, Any]] = []
        bus = get_bus()
        original = bus.publish

        async def spy(stream: str, payload: dict[str, Any]) -> str:
            seen.append(payload)
            return await original(stream, payload)

        bus.publish = spy  # type: ignore[method-assign]
        try:
            result = await DetectionPipeline(engine).process(events(COMSVCS))
        finally:
            bus.publish = original  # type: ignore[method-assign]
        assert [p["event"] for p in seen].count("created") == result.alerts_created > 0


class TestBatching:
    async def test_large_input_is_split_into_bounded_batches(self, app_db):
        lines = [json.dumps({"message": f"line {i}", "host": "h1"}) for i in range(BATCH_SIZE * 2 + 7)]
        batch = [e for e in parse_bytes("\n".join(lines).encode()) if isinstance(e, NormalizedEvent)]
        pipeline = DetectionPipeline(SigmaEngine())
        calls: list[int] = []
        original = pipeline._process_batch

        async def counting(chunk: list[NormalizedEvent]) -> Any:
            calls.append(len(chunk))
            return await original(chunk)

        pipeline._process_batch = counting  # type: ignore[method-assign]
        result = await pipeline.process(batch)
        assert calls == [BATCH_SIZE, BATCH_SIZE, 7]
        assert result.events == await count(SiemLogModel) == len(lines)

    async def test_oversized_raw_is_clipped(self, app_db):
        big = json.dumps({"message": "x", "blob": "A" * 100_000})
        batch = [e for e in parse_bytes(big.encode()) if isinstance(e, NormalizedEvent)]
        await DetectionPipeline(SigmaEngine()).process(batch)
        async with get_session_factory()() as session:
            log = await session.scalar(select(SiemLogModel))
        assert log is not None and log.raw is not None and len(log.raw) <= 64 * 1024


class TestEvePassthrough:
    async def test_eve_alert_becomes_an_alert(self, app_db):
        batch = [
            e
            for e in parse_bytes(json.dumps(EVE_ALERT).encode(), format="eve")
            if isinstance(e, NormalizedEvent)
        ]
        result = await DetectionPipeline(SigmaEngine()).process(batch)
        async with get_session_factory()() as session:
            alert = await session.scalar(select(AlertModel))
        assert result.alerts_created == 1 and alert is not None
        assert alert.title == EVE_ALERT["alert"]["signature"]  # type: ignore[index]
        assert alert.severity == "high"
        assert alert.mitre_techniques == ["T1071"]
        # Addresses are observables, not indicators (spec §27.3): nothing is auto-promoted.
        observed = {o["value"]: o for o in alert.observables}
        assert observed["203.0.113.9"]["role"] == "source.ip" and "benign" not in observed["203.0.113.9"]
        assert observed["10.0.0.5"]["benign"] == "private_ip" and alert.iocs == []
        assert (alert.host, alert.src_ip, alert.dst_ip) == ("sensor-1", "203.0.113.9", "10.0.0.5")
        assert "host:sensor-1" in alert.affected_assets

    async def test_eve_severity_levels(self, app_db):
        records = [dict(EVE_ALERT, alert={"signature": f"sig {s}", "severity": s}) for s in (1, 2, 3)]
        data = "\n".join(json.dumps(r) for r in records).encode()
        batch = [e for e in parse_bytes(data, format="eve") if isinstance(e, NormalizedEvent)]
        await DetectionPipeline(SigmaEngine()).process(batch)
        async with get_session_factory()() as session:
            alerts = {a.title: a.severity for a in (await session.scalars(select(AlertModel))).all()}
        assert alerts == {"sig 1": "high", "sig 2": "medium", "sig 3": "low"}

    async def test_non_alert_eve_records_raise_nothing(self, app_db):
        dns = dict(EVE_ALERT, event_type="dns", dns={"rrname": "example.org"})
        dns.pop("alert")
        batch = [
            e for e in parse_bytes(json.dumps(dns).encode(), format="eve") if isinstance(e, NormalizedEvent)
        ]
        result = await DetectionPipeline(SigmaEngine()).process(batch)
        assert result.alerts_created == 0 and await count(AlertModel) == 0
        assert await count(SiemLogModel) == 1


async def test_redelivered_events_are_not_stored_or_alerted_twice(app_db, engine):
    """Events carrying ids (bus messages) are idempotent: a replay finds them stored and skips them."""
    batch = [e.model_copy(update={"id": str(uuid.uuid4())}) for e in events(ADMINS)]
    pipeline = DetectionPipeline(engine)
    first = await pipeline.process(batch)
    before = await alerts_by_rule()
    again = await pipeline.process(batch)
    after = await alerts_by_rule()
    assert (first.events, first.replayed) == (len(batch), 0) and first.alerts_created > 0
    assert (again.events, again.replayed, again.alerts_created) == (0, len(batch), 0)
    assert await count(SiemLogModel) == len(batch)
    assert {u: a.occurrence_count for u, a in after.items()} == {
        u: a.occurrence_count for u, a in before.items()
    }


async def test_sqlite_rules_run_outside_the_write_lock_and_skip_stored_events(app_db, engine, monkeypatch):
    """SQLite has one writer: evaluating rules while holding it would stall telemetry and alert writes."""
    database = make_url(get_settings().database_url).database
    assert database and make_url(get_settings().database_url).get_backend_name() == "sqlite"
    original = engine.evaluate
    writer_free: list[bool] = []

    def evaluate(event: NormalizedEvent) -> Any:
        probe = sqlite3.connect(database, timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")  # fails with "database is locked" while a writer holds it
            probe.rollback()
            writer_free.append(True)
        except sqlite3.OperationalError:
            writer_free.append(False)
        finally:
            probe.close()
        return original(event)

    monkeypatch.setattr(engine, "evaluate", evaluate)
    batch = events(ADMINS)
    pipeline = DetectionPipeline(engine)
    first = await pipeline.process(batch)
    assert first.alerts_created > 0 and writer_free and all(writer_free)
    evaluated = len(writer_free)
    again = await pipeline.process(batch)
    assert (again.events, again.replayed) == (0, len(batch))
    assert len(writer_free) == evaluated  # stored events are not evaluated again
