"""Trigger atoms (aurorasoc.detection.sigma.triggers): the prefilter skips rules, never hits."""

from __future__ import annotations

import re
from typing import Any

import pytest

from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import CompiledRule, SigmaEngine
from aurorasoc.detection.sigma.triggers import regex_literal

PROC = ("windows", "process_creation", "sysmon")


def event(fields: dict[str, Any]) -> NormalizedEvent:
    product, category, service = PROC
    return NormalizedEvent(
        source="test", format="test", product=product, category=category, service=service, fields=fields
    )


def load(engine: SigmaEngine, detection: str, number: int = 1) -> CompiledRule:
    text = (
        f"title: Rule {number}\nid: 11111111-1111-4111-8111-11111111111{number}\nstatus: test\n"
        "logsource:\n    product: windows\n    category: process_creation\n"
        f"detection:\n{detection}"
    )
    [rule] = engine.add_yaml(text)
    assert rule.supported, rule.reason
    return rule


@pytest.mark.parametrize(
    ("pattern", "flags", "literal"),
    [
        (r"ipconfig\s+/all", 0, "ipconfig"),
        (r"\$PSHome\[\s*\d", 0, "$pshome["),
        (r"^cmd\.exe$", 0, "cmd.exe"),
        (r"abc+de", 0, "ab"),
        (r"xyz(?i:abcdef)", 0, "xyz"),
        (r"(?i)invoke-mimikatz", 0, ""),
        (r"invoke-mimikatz", re.IGNORECASE, ""),
        (r"alpha|beta", 0, ""),
        (r"caf\u00e9s", 0, "caf"),
        (r"(unbalanced", 0, ""),
    ],
)
def test_regex_literal_is_a_necessary_ascii_run(pattern: str, flags: int, literal: str) -> None:
    assert regex_literal(pattern, flags) == literal


class TestDerivedAtoms:
    def test_inner_wildcard_needs_its_longest_literal(self) -> None:
        engine = SigmaEngine()
        rule = load(engine, "    sel:\n        CommandLine|contains: 'whoami*>'\n    condition: sel\n")
        assert rule.triggers is not None and {(a.kind, a.literal) for a in rule.triggers} == {
            ("contains", "whoami")
        }
        assert engine.candidates(event({"CommandLine": "net user"})) == []
        assert engine.evaluate(event({"CommandLine": "WHOAMI /all > out.txt"}))
        assert not engine.evaluate(event({"CommandLine": "whoami /all"}))

    def test_case_sensitive_regex_needs_its_literal(self) -> None:
        engine = SigmaEngine()
        rule = load(engine, "    sel:\n        CommandLine|re: 'ipconfig\\s+/all'\n    condition: sel\n")
        assert rule.triggers is not None
        assert engine.candidates(event({"CommandLine": "net user"})) == []
        assert engine.evaluate(event({"CommandLine": "ipconfig   /all"}))
        assert not engine.evaluate(event({"CommandLine": "IPCONFIG /all"}))

    def test_case_insensitive_regex_always_runs(self) -> None:
        engine = SigmaEngine()
        rule = load(engine, "    sel:\n        CommandLine|re|i: 'ipconfig\\s+/all'\n    condition: sel\n")
        assert rule.triggers is None
        assert engine.evaluate(event({"CommandLine": "IPCONFIG /ALL"}))

    def test_short_literal_loses_to_long_ones(self) -> None:
        engine = SigmaEngine()
        det = "    sel:\n        Image|contains:\n            - '\\EDR-Freeze'\n            - '\\EDRFreeze'\n"
        rule = load(engine, det + "        Image|endswith: '.exe'\n    condition: sel\n")
        assert rule.triggers is not None and {a.kind for a in rule.triggers} == {"contains"}
        assert engine.candidates(event({"Image": "C:\\Windows\\cmd.exe"})) == []
        assert engine.evaluate(event({"Image": "C:\\t\\EDR-Freeze.exe"}))


def test_hits_come_in_load_order_whatever_the_prefilter() -> None:
    engine = SigmaEngine()
    plain = load(engine, "    sel:\n        IntegrityLevel: High\n    condition: sel\n", 1)
    negated = load(engine, "    f:\n        Image: 'x'\n    condition: not f\n", 2)
    pinned = load(engine, "    sel:\n        EventID: 1\n    condition: sel\n", 3)
    hits = engine.evaluate(event({"EventID": 1, "IntegrityLevel": "high", "Image": "y"}))
    assert [hit.rule for hit in hits] == [plain, negated, pinned]


def test_case_insensitive_field_names_per_event_shape() -> None:
    """Events with the same key set share one lower-cased key map; values still come from each event."""
    engine = SigmaEngine()
    load(engine, "    sel:\n        CommandLine|contains: mimikatz\n    condition: sel\n")
    assert engine.evaluate(event({"commandline": "run Mimikatz"}))
    assert not engine.evaluate(event({"commandline": "run notepad"}))
    assert engine.evaluate(event({"COMMANDLINE": "mimikatz.exe"}))
