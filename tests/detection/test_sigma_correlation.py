"""Sigma correlation rules: window logic, engine linking, and correlation alerts through the pipeline."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from aurorasoc.cli.rules import BUNDLED_RULES
from aurorasoc.core.db import get_session_factory
from aurorasoc.core.models import AlertModel
from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma import correlation as sigma_correlation
from aurorasoc.detection.sigma.correlation import TOLERANCE_SECONDS, CorrelationHit
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.detection.sigma.rules import RuleHit
from aurorasoc.siem.parsers import ParseError, parse_bytes
from aurorasoc.siem.pipeline import DetectionPipeline

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
BASES = """
title: Failed Logon
name: failed
logsource: {product: windows, service: security}
detection: {sel: {EventID: 4625}, condition: sel}
level: low
tags: [attack.t1110]
---
title: Successful Logon
name: success
logsource: {product: windows, service: security}
detection: {sel: {EventID: 4624}, condition: sel}
"""


def correlation(kind: str, condition: str, *, rules: str = "[failed]", extra: str = "") -> str:
    return f"""
title: Correlated
name: correlated
correlation:
  type: {kind}
  rules: {rules}
  group-by: [Computer]
  timespan: 1m
  condition: {condition}
{extra}
level: high
tags: [attack.t1110.001]
"""


def engine_with(*texts: str) -> SigmaEngine:
    engine = SigmaEngine()
    engine.add_yaml(BASES)
    for text in texts:
        engine.add_yaml(text)
    return engine


def event(seconds: float, computer: str | None = "ws-01", **fields: object) -> NormalizedEvent:
    if computer is not None:
        fields["Computer"] = computer
    return NormalizedEvent(
        timestamp=T0 + timedelta(seconds=seconds), source="test", format="json", fields=fields
    )


def feed(engine: SigmaEngine, rule: str, *events: NormalizedEvent) -> list[CorrelationHit]:
    """Report ``events`` as hits of base rule ``rule`` (by name); collect what fires."""
    base = next(r for r in engine.rules.values() if r.name == rule)
    fired: list[CorrelationHit] = []
    for item in events:
        fired += engine.correlation.observe(item, [RuleHit(rule=base)], str(uuid.uuid4()))
    return fired


def tick(engine: SigmaEngine, seconds: float) -> list[CorrelationHit]:
    """An event no rule matched: it only moves the clock."""
    return engine.correlation.observe(event(seconds), [], str(uuid.uuid4()))


class TestEventCount:
    def test_fires_at_threshold_once_per_burst(self):
        engine = engine_with(correlation("event_count", "{gte: 3}"))
        fired = feed(engine, "failed", *(event(s) for s in range(7)))
        assert [h.count for h in fired] == [3, 3]  # 3rd and 6th event: the group resets after firing
        assert fired[0].group == {"Computer": "ws-01"} and len(fired[0].contributions) == 3

    def test_hits_spread_wider_than_timespan_do_not_fire(self):
        engine = engine_with(correlation("event_count", "{gte: 3}"))
        assert feed(engine, "failed", event(0), event(40), event(80), event(120)) == []

    def test_gt_needs_more_than_the_count(self):
        engine = engine_with(correlation("event_count", "{gt: 3}"))
        assert feed(engine, "failed", event(0), event(1), event(2)) == []
        assert [h.count for h in feed(engine, "failed", event(3))] == [4]

    def test_groups_are_counted_apart_and_missing_group_fields_are_skipped(self):
        engine = engine_with(correlation("event_count", "{gte: 2}"))
        assert feed(engine, "failed", event(0, "a"), event(1, "b"), event(2, None), event(3, "-")) == []
        assert [h.group for h in feed(engine, "failed", event(4, "b"))] == [{"Computer": "b"}]


class TestOutOfOrder:
    def test_late_hits_within_tolerance_count(self):
        engine = engine_with(correlation("event_count", "{gte: 3}"))
        assert feed(engine, "failed", event(200), event(100), event(130)) == []
        fired = feed(engine, "failed", event(150))  # 100, 130, 150 share a minute; 200 does not
        assert [(h.count, h.start, h.end) for h in fired] == [
            (3, T0 + timedelta(seconds=100), T0 + timedelta(seconds=150))
        ]

    def test_hits_older_than_the_tolerance_are_dropped(self):
        engine = engine_with(correlation("event_count", "{gte: 2}"))
        late = 1000 - TOLERANCE_SECONDS - 1
        assert feed(engine, "failed", event(1000), event(late), event(late + 1)) == []


class TestValueCount:
    def test_counts_distinct_values_of_the_condition_field(self):
        rule = correlation("value_count", "{gte: 3, field: TargetUserName}")
        engine = engine_with(rule)
        users = ["alice", "alice", "bob", "bob", "carol"]
        fired = feed(engine, "failed", *(event(i, TargetUserName=u) for i, u in enumerate(users)))
        assert [h.count for h in fired] == [3] and len(fired[0].contributions) == 5

    def test_events_without_the_field_are_not_counted(self):
        engine = engine_with(correlation("value_count", "{gte: 2, field: TargetUserName}"))
        assert feed(engine, "failed", event(0), event(1), event(2, TargetUserName="x")) == []


class TestTemporal:
    def test_all_rules_within_the_timespan_fire_in_any_order(self):
        engine = engine_with(correlation("temporal", "null", rules="[failed, success]"))
        assert feed(engine, "success", event(0)) == []
        fired = feed(engine, "failed", event(30))
        assert [h.count for h in fired] == [2]
        assert feed(engine, "failed", event(200)) == [] and feed(engine, "success", event(300)) == []

    def test_ordered_needs_the_listed_order(self):
        rule = correlation("temporal_ordered", "null", rules="[failed, success]")
        engine = engine_with(rule)
        assert feed(engine, "success", event(0)) + feed(engine, "failed", event(10)) == []
        fired = feed(engine, "success", event(20))
        assert [[c.ts for c in h.contributions] for h in fired] == [
            [(T0 + timedelta(seconds=s)).timestamp() for s in (10, 20)]
        ]

    def test_ordered_with_another_condition_is_unsupported(self):
        rule = correlation("temporal_ordered", "{gte: 1}", rules="[failed, success]")
        (compiled,) = engine_with().add_yaml(rule)
        assert not compiled.supported and "default condition" in (compiled.reason or "")


class TestBoundedConditions:
    def test_lt_is_judged_when_the_clock_passes_the_window(self):
        engine = engine_with(correlation("event_count", "{lt: 3}"))
        assert feed(engine, "failed", event(0, "quiet"), event(10, "quiet")) == []
        assert feed(engine, "failed", *(event(s, "busy") for s in range(20, 25))) == []
        assert tick(engine, 60 + TOLERANCE_SECONDS) == []  # window end + tolerance not yet passed
        fired = tick(engine, 61 + TOLERANCE_SECONDS)
        assert [(h.group, h.count) for h in fired] == [({"Computer": "quiet"}, 2)]
        assert tick(engine, 100 + TOLERANCE_SECONDS) == []  # "busy" (5) fails lt 3

    def test_range_condition(self):
        engine = engine_with(correlation("event_count", "{gte: 2, lte: 3}"))
        feed(engine, "failed", event(0, "one"), *(event(s, "two") for s in (1, 2)))
        feed(engine, "failed", *(event(s, "four") for s in (1, 2, 3, 4)))
        fired = tick(engine, 100 + TOLERANCE_SECONDS)
        assert [h.group["Computer"] for h in fired] == ["two"]


class TestBounds:
    def test_oldest_groups_are_evicted(self, monkeypatch):
        monkeypatch.setattr(sigma_correlation, "MAX_GROUPS", 3)
        engine = engine_with(correlation("event_count", "{gte: 2}"))
        feed(engine, "failed", *(event(i, f"host-{i}") for i in range(5)))
        (linked,) = engine.correlation._linked.values()
        assert list(linked.groups) == [("host-2",), ("host-3",), ("host-4",)]
        assert feed(engine, "failed", event(6, "host-0")) == []  # its first hit was evicted
        assert len(feed(engine, "failed", event(7, "host-4"))) == 1

    def test_entries_per_group_are_capped(self, monkeypatch):
        monkeypatch.setattr(sigma_correlation, "MAX_ENTRIES", 4)
        engine = engine_with(correlation("value_count", "{gte: 99, field: TargetUserName}"))
        feed(engine, "failed", *(event(i, TargetUserName=f"u{i}") for i in range(10)))
        (linked,) = engine.correlation._linked.values()
        assert [e.key for e in linked.groups["ws-01",].entries] == ["u6", "u7", "u8", "u9"]


class TestEngineLinking:
    def test_reference_to_an_unknown_rule_is_unsupported_until_it_is_added(self):
        engine = SigmaEngine()
        (compiled,) = engine.add_yaml(correlation("event_count", "{gte: 2}"))
        assert not compiled.supported and compiled.reason == "references unknown rule(s): failed"
        assert engine.report.unsupported[0][2] == compiled.reason
        engine.add_yaml(BASES)
        assert compiled.supported and len(feed(engine, "failed", event(0), event(1))) == 1

    def test_references_resolve_by_id_across_files(self, tmp_path):
        (tmp_path / "a_corr.yml").write_text(
            correlation("event_count", "{gte: 2}", rules="[a1b2c3d4-0000-4000-8000-000000000001]")
        )
        (tmp_path / "b_base.yml").write_text(
            BASES.replace("name: failed", "id: a1b2c3d4-0000-4000-8000-000000000001")
        )
        engine = SigmaEngine.from_paths([tmp_path])
        assert (engine.report.loaded, engine.report.compiled) == (3, 3)
        base = engine.rules["a1b2c3d4-0000-4000-8000-000000000001"]
        fired = engine.correlation.observe(event(0), [RuleHit(base)], "x") + engine.correlation.observe(
            event(1), [RuleHit(base)], "y"
        )
        assert [h.rule.title for h in fired] == ["Correlated"]

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            (
                correlation("value_sum", "{gte: 2, field: Bytes}"),
                "correlation type value_sum is not supported",
            ),
            (correlation("temporal", "'failed and not success'", rules="[failed, success]"), "extended"),
            (
                correlation("event_count", "{gte: 2}", rules="[correlated]").replace(
                    "name: correlated", "name: chain"
                ),
                "chaining",
            ),
        ],
    )
    def test_unsupported_correlations_are_reported(self, text, reason):
        engine = engine_with(correlation("event_count", "{gte: 2}"))
        (compiled,) = engine.add_yaml(text)
        assert not compiled.supported and reason in (compiled.reason or "")
        assert engine.report.unsupported[-1][1] == compiled.id

    def test_base_rules_are_silenced_unless_generate(self):
        engine = engine_with(correlation("event_count", "{gte: 2}"))
        failed = next(r for r in engine.rules.values() if r.name == "failed")
        success = next(r for r in engine.rules.values() if r.name == "success")
        assert engine.correlation.silences(failed.id) and not engine.correlation.silences(success.id)
        loud = engine_with(correlation("event_count", "{gte: 2}", extra="  generate: true"))
        assert not loud.correlation.silences(failed.id)

    def test_aliases_name_a_group_field_per_rule(self):
        aliases = "  aliases:\n    Computer:\n      failed: WorkstationName\n      success: Computer"
        engine = engine_with(correlation("temporal", "null", rules="[failed, success]", extra=aliases))
        fired = feed(engine, "failed", event(0, None, WorkstationName="ws-9")) + feed(
            engine, "success", event(5, "ws-9")
        )
        assert [h.group for h in fired] == [{"Computer": "ws-9"}]


def sshd_failures(count: int, host: str = "web-01") -> bytes:
    lines = [
        f"<38>1 2026-11-24T10:00:{i:02d}Z {host} sshd {400 + i} - - "
        f"Failed password for root from 203.0.113.5 port {52000 + i} ssh2"
        for i in range(count)
    ]
    return "\n".join(lines).encode()


def rdp_failures(count: int) -> bytes:
    records = [
        {
            "Event": {
                "System": {
                    "EventID": 4625,
                    "Channel": "Security",
                    "Computer": "dc-01",
                    "TimeCreated": {"#attributes": {"SystemTime": f"2026-11-24T10:00:{i:02d}Z"}},
                },
                "EventData": {"LogonType": 10, "IpAddress": "198.51.100.23", "TargetUserName": f"user{i}"},
            }
        }
        for i in range(count)
    ]
    return "\n".join(json.dumps(r) for r in records).encode()


async def alerts() -> list[AlertModel]:
    async with get_session_factory()() as session:
        return list((await session.scalars(select(AlertModel))).all())


class TestBundledBruteForceInThePipeline:
    async def test_sshd_failures_raise_one_brute_force_alert(self, app_db):
        events = [e for e in parse_bytes(sshd_failures(7)) if not isinstance(e, ParseError)]
        assert len(events) == 7
        result = await DetectionPipeline(SigmaEngine.from_paths([BUNDLED_RULES])).process(events)
        (alert,) = await alerts()  # the seven "SSH Failed Password" hits feed the correlation only
        assert result.rule_hits[alert.metadata_["rule_uid"]] == 1
        assert (alert.title, alert.severity) == ("SSH Brute Force", "high")
        assert alert.metadata_["correlation"]["type"] == "event_count"
        assert alert.metadata_["correlation"]["count"] == 5
        assert alert.metadata_["correlation"]["group"] == {"hostname": "web-01"}
        assert alert.metadata_["correlation"]["window"]["seconds"] == 300
        assert len(alert.metadata_["log_ids"]) == 5
        # The attacking address is an observable of the alert, not an indicator by itself (spec §27.3).
        assert "203.0.113.5" in {o["value"] for o in alert.observables} and alert.iocs == []
        assert "host:web-01" in alert.affected_assets and alert.host == "web-01"
        assert alert.mitre_techniques == ["T1110.001"]

    async def test_rdp_failures_group_by_source_address(self, app_db):
        events = [e for e in parse_bytes(rdp_failures(10)) if not isinstance(e, ParseError)]
        result = await DetectionPipeline(SigmaEngine.from_paths([BUNDLED_RULES])).process(events)
        (alert,) = await alerts()
        assert alert.title == "RDP Brute Force" and result.alerts_created == 1
        assert alert.metadata_["correlation"]["group"] == {"IpAddress": "198.51.100.23"}
        assert alert.observables[0]["value"] == "198.51.100.23"
        assert {"host:dc-01", "user:user0", "user:user9"} <= set(alert.affected_assets)
        assert set(alert.mitre_techniques) == {"T1110", "T1110.001"}

    async def test_too_few_failures_raise_nothing(self, app_db):
        events = [e for e in parse_bytes(sshd_failures(4)) if not isinstance(e, ParseError)]
        result = await DetectionPipeline(SigmaEngine.from_paths([BUNDLED_RULES])).process(events)
        assert await alerts() == [] and sum(result.rule_hits.values()) == 4
