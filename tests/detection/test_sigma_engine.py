"""Tests for aurorasoc.detection.sigma.engine: modifiers, conditions, prefilter, reporting."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine

PROC = ("windows", "process_creation", "sysmon")


def event(
    fields: dict[str, Any],
    logsource: tuple[str | None, str | None, str | None] = PROC,
    **extra: Any,
) -> NormalizedEvent:
    product, category, service = logsource
    return NormalizedEvent(
        source="test",
        format="test",
        product=product,
        category=category,
        service=service,
        fields=fields,
        **extra,
    )


def rule_yaml(detection: str, logsource: str = "product: windows\n    category: process_creation") -> str:
    return (
        "title: Test rule\n"
        "id: 11111111-1111-4111-8111-111111111111\n"
        "status: test\n"
        "level: high\n"
        "tags:\n    - attack.t1059.001\n"
        f"logsource:\n    {logsource}\n"
        f"detection:\n{detection}"
    )


def fires(detection: str, fields: dict[str, Any], **extra: Any) -> bool:
    engine = SigmaEngine()
    [rule] = engine.add_yaml(rule_yaml(detection))
    assert rule.supported, rule.reason
    return bool(engine.evaluate(event(fields, **extra)))


class TestStringValues:
    def test_exact_is_case_insensitive(self) -> None:
        det = "    sel:\n        Image: 'C:\\Windows\\cmd.exe'\n    condition: sel\n"
        assert fires(det, {"Image": "c:\\windows\\CMD.EXE"})
        assert not fires(det, {"Image": "c:\\windows\\cmd.exe.bak"})

    def test_wildcards(self) -> None:
        det = "    sel:\n        CommandLine: '*pow?rshell*-enc *'\n    condition: sel\n"
        assert fires(det, {"CommandLine": "x PowerShell.exe -enc AAA"})
        assert not fires(det, {"CommandLine": "powershell -nop"})

    def test_contains_startswith_endswith(self) -> None:
        det = (
            "    sel:\n        CommandLine|contains: mimikatz\n"
            "        Image|endswith: '.exe'\n        User|startswith: 'NT AUTHORITY'\n"
            "    condition: sel\n"
        )
        good = {"CommandLine": "run MimiKatz now", "Image": "a.EXE", "User": "nt authority\\system"}
        assert fires(det, good)
        assert not fires(det, {**good, "User": "bob"})
        assert not fires(det, {**good, "Image": "a.dll"})

    def test_contains_all(self) -> None:
        det = "    sel:\n        CommandLine|contains|all:\n            - ' -w '\n            - hidden\n"
        det += "    condition: sel\n"
        assert fires(det, {"CommandLine": "ps -w hidden"})
        assert not fires(det, {"CommandLine": "ps -w normal"})

    def test_list_values_are_ored(self) -> None:
        det = "    sel:\n        Image|endswith:\n            - '\\a.exe'\n            - '\\b.exe'\n"
        det += "    condition: sel\n"
        assert fires(det, {"Image": "C:\\b.exe"})
        assert not fires(det, {"Image": "C:\\c.exe"})

    def test_case_insensitive_field_name(self) -> None:
        det = "    sel:\n        commandline|contains: whoami\n    condition: sel\n"
        assert fires(det, {"CommandLine": "whoami /all"})
        assert not fires(det, {"Other": "whoami"})

    def test_cased_modifier(self) -> None:
        det = "    sel:\n        CommandLine|cased: Foo\n    condition: sel\n"
        assert fires(det, {"CommandLine": "Foo"})
        assert not fires(det, {"CommandLine": "foo"})

    def test_list_field_values(self) -> None:
        det = "    sel:\n        Tags: evil\n    condition: sel\n"
        assert fires(det, {"Tags": ["good", "EVIL"]})
        assert not fires(det, {"Tags": ["good"]})


class TestEncodingModifiers:
    def test_base64offset_contains(self) -> None:
        det = "    sel:\n        CommandLine|base64offset|contains: 'IEX'\n    condition: sel\n"
        for prefix in ("", "a", "ab"):
            encoded = base64.b64encode(f"{prefix}IEX (New-Object)".encode()).decode()
            assert fires(det, {"CommandLine": f"powershell -e {encoded}"})
        assert not fires(det, {"CommandLine": base64.b64encode(b"hello world").decode()})

    def test_base64(self) -> None:
        det = "    sel:\n        Data|base64: 'secret'\n    condition: sel\n"
        assert fires(det, {"Data": base64.b64encode(b"secret").decode()})
        assert not fires(det, {"Data": "secret"})

    def test_wide_base64offset(self) -> None:
        det = "    sel:\n        CommandLine|wide|base64offset|contains: 'ping'\n    condition: sel\n"
        encoded = base64.b64encode("x ping".encode("utf-16le")).decode()
        assert fires(det, {"CommandLine": encoded})
        assert not fires(det, {"CommandLine": base64.b64encode(b"x ping").decode()})

    def test_windash(self) -> None:
        det = "    sel:\n        CommandLine|windash|contains: ' -exec '\n    condition: sel\n"
        assert fires(det, {"CommandLine": "x /exec y"})
        assert fires(det, {"CommandLine": "x \u2013exec y"})
        assert not fires(det, {"CommandLine": "x exec y"})


class TestOtherValueTypes:
    def test_regex_and_flags(self) -> None:
        det = "    sel:\n        CommandLine|re: '^cmd\\s+/c'\n    condition: sel\n"
        assert fires(det, {"CommandLine": "cmd  /c dir"})
        assert not fires(det, {"CommandLine": "CMD /c dir"})
        det_i = "    sel:\n        CommandLine|re|i: '^cmd\\s+/c'\n    condition: sel\n"
        assert fires(det_i, {"CommandLine": "CMD /c dir"})

    def test_cidr(self) -> None:
        det = "    sel:\n        DestinationIp|cidr: 10.0.0.0/8\n    condition: sel\n"
        assert fires(det, {"DestinationIp": "10.1.2.3"})
        assert not fires(det, {"DestinationIp": "11.1.2.3"})
        assert not fires(det, {"DestinationIp": "not-an-ip"})

    def test_numeric_comparisons(self) -> None:
        det = "    sel:\n        Size|gte: 100\n        Size|lt: 200\n    condition: sel\n"
        assert fires(det, {"Size": 100})
        assert fires(det, {"Size": "150"})
        assert not fires(det, {"Size": 200})
        assert not fires(det, {"Size": "big"})

    def test_numbers_match_numeric_strings(self) -> None:
        det = "    sel:\n        EventID: 4688\n    condition: sel\n"
        assert fires(det, {"EventID": "4688"})
        assert fires(det, {"EventID": 4688})
        assert not fires(det, {"EventID": 4624})

    def test_exists(self) -> None:
        det = "    sel:\n        ParentImage|exists: true\n    condition: sel\n"
        assert fires(det, {"ParentImage": "x"})
        assert not fires(det, {"Image": "x"})

    def test_null_means_missing_or_empty(self) -> None:
        det = "    sel:\n        ParentImage: null\n    condition: sel\n"
        assert fires(det, {"Image": "x"})
        assert fires(det, {"ParentImage": ""})
        assert not fires(det, {"ParentImage": "x"})

    def test_fieldref(self) -> None:
        det = "    sel:\n        Image|fieldref: ParentImage\n    condition: sel\n"
        assert fires(det, {"Image": "a.exe", "ParentImage": "A.EXE"})
        assert not fires(det, {"Image": "a.exe", "ParentImage": "b.exe"})

    def test_keywords_search_message_and_raw(self) -> None:
        det = "    keywords:\n        - 'Failed password'\n        - 'authentication failure'\n"
        det += "    condition: keywords\n"
        assert fires(det, {}, message="sshd: FAILED PASSWORD for root")
        assert fires(det, {}, raw="pam: authentication failure; user=x")
        assert not fires(det, {"msg": "failed password"}, message="accepted password")


class TestConditions:
    DET = "    sel_a:\n        A: 1\n    sel_b:\n        B: 1\n    filter:\n        C: 1\n    condition: {}\n"

    @pytest.mark.parametrize(
        ("condition", "fields", "expected"),
        [
            ("1 of sel_*", {"B": 1}, True),
            ("1 of sel_*", {"C": 1}, False),
            ("all of sel_*", {"A": 1, "B": 1}, True),
            ("all of sel_*", {"A": 1}, False),
            ("1 of them", {"C": 1}, True),
            ("all of them", {"A": 1, "B": 1}, False),
            ("all of them", {"A": 1, "B": 1, "C": 1}, True),
            ("sel_a and not filter", {"A": 1}, True),
            ("sel_a and not filter", {"A": 1, "C": 1}, False),
            ("(sel_a or sel_b) and not filter", {"B": 1}, True),
            ("sel_a or (sel_b and filter)", {"B": 1}, False),
        ],
    )
    def test_condition_forms(self, condition: str, fields: dict[str, Any], expected: bool) -> None:
        assert fires(self.DET.format(condition), fields) is expected


class TestLoadingAndReporting:
    def test_unsupported_rule_is_kept_with_reason(self) -> None:
        engine = SigmaEngine()
        det = "    sel:\n        Data|expand: '%hosts%'\n    condition: sel\n"
        [rule] = engine.add_yaml(rule_yaml(det))
        assert not rule.supported
        assert rule.reason is not None and "placeholder" in rule.reason
        assert engine.rule(rule.id) is rule
        assert engine.report.unsupported == [("custom", rule.id, rule.reason)]
        assert engine.report.compiled == 0 and engine.report.loaded == 1
        assert engine.evaluate(event({"Data": "%hosts%"})) == []

    def test_unparseable_yaml_raises(self) -> None:
        engine = SigmaEngine()
        with pytest.raises(ValueError, match="invalid YAML"):
            engine.add_yaml("title: [unclosed")
        with pytest.raises(ValueError):
            engine.add_yaml("- just\n- a list\n")

    def test_from_paths_reports_bad_files(self, tmp_path: Any) -> None:
        (tmp_path / "good.yml").write_text(rule_yaml("    sel:\n        A: 1\n    condition: sel\n"))
        (tmp_path / "sub").mkdir()
        (tmp_path / "sub" / "bad.yml").write_text("title: x\ndetection: {}\n")
        engine = SigmaEngine.from_paths([tmp_path])
        assert engine.report.loaded == 2 and engine.report.compiled == 1
        assert engine.report.unsupported[0][0].endswith("bad.yml")

    def test_hit_carries_metadata_and_matched_fields(self) -> None:
        engine = SigmaEngine()
        engine.add_yaml(rule_yaml("    sel:\n        Image|endswith: cmd.exe\n    condition: sel\n"))
        [hit] = engine.evaluate(event({"Image": "C:\\cmd.exe", "Other": 1}))
        assert hit.rule.title == "Test rule" and hit.rule.level == "high"
        assert hit.rule.tags == ["attack.t1059.001"]
        assert hit.rule.logsource == (*PROC[:2], None)
        assert hit.matched_fields == {"Image": "C:\\cmd.exe"}


class TestPrefilter:
    def test_other_logsource_is_skipped(self) -> None:
        engine = SigmaEngine()
        engine.add_yaml(rule_yaml("    sel:\n        A: 1\n    condition: sel\n"))
        assert engine.evaluate(event({"A": 1}, ("WINDOWS", "process_creation", "security")))
        assert engine.candidates(event({"A": 1}, ("windows", "file_event", "sysmon"))) == []
        assert engine.evaluate(event({"A": 1}, ("linux", "process_creation", None))) == []

    def test_rule_without_constraints_on_service_always_runs(self) -> None:
        engine = SigmaEngine()
        engine.add_yaml(rule_yaml("    sel:\n        A: 1\n    condition: sel\n", "product: linux"))
        assert engine.evaluate(event({"A": 1}, ("linux", "auditd", "auditd")))
        assert not engine.evaluate(event({"A": 1}, ("windows", None, None)))

    def test_event_id_index(self) -> None:
        engine = SigmaEngine()
        det = "    sel:\n        EventID:\n            - 4624\n            - 4625\n        A: 1\n"
        det += "    condition: sel\n"
        [rule] = engine.add_yaml(rule_yaml(det, "product: windows\n    service: security"))
        assert rule.event_ids == frozenset({4624, 4625})
        sec = ("windows", None, "security")
        assert engine.candidates(event({"EventID": 4688, "A": 1}, sec)) == []
        assert engine.candidates(event({"EventID": "4625", "A": 1}, sec)) == [rule]
        assert engine.evaluate(event({"EventID": 4625, "A": 1}, sec))

    def test_or_branch_without_event_id_is_not_pinned(self) -> None:
        engine = SigmaEngine()
        det = "    a:\n        EventID: 1\n    b:\n        X: 1\n    condition: a or b\n"
        [rule] = engine.add_yaml(rule_yaml(det))
        assert rule.event_ids is None
        assert engine.evaluate(event({"EventID": 7, "X": 1}))

    def test_string_atoms_select_candidates(self) -> None:
        engine = SigmaEngine()
        det = "    sel:\n        Image|endswith: '\\net.exe'\n        CommandLine|contains: user\n"
        [rule] = engine.add_yaml(rule_yaml(det + "    condition: sel\n"))
        assert rule.triggers is not None and {a.kind for a in rule.triggers} == {"suffix"}
        assert engine.candidates(event({"Image": "C:\\net.exe"})) == [rule]
        assert engine.candidates(event({"Image": "C:\\cmd.exe", "CommandLine": "user"})) == []

    def test_negated_rule_has_no_atoms_and_always_runs(self) -> None:
        engine = SigmaEngine()
        [rule] = engine.add_yaml(rule_yaml("    f:\n        A: x\n    condition: not f\n"))
        assert rule.triggers is None
        assert engine.evaluate(event({"A": "y"}))
        assert not engine.evaluate(event({"A": "X"}))

    def test_keyword_atoms_select_candidates(self) -> None:
        engine = SigmaEngine()
        det = "    keywords:\n        - 'sekurlsa::'\n        - 'Kiwi Legit'\n"
        det += "    filter:\n        EventID: 15\n"
        [rule] = engine.add_yaml(rule_yaml(det + "    condition: keywords and not filter\n"))
        assert rule.triggers is not None and {a.field for a in rule.triggers} == {None}
        assert engine.candidates(event({"EventID": 1}, raw='{"x": "benign"}')) == []
        assert engine.candidates(event({"EventID": 1}, message="kiwi LEGIT printer")) == [rule]
        assert engine.evaluate(event({"EventID": 1}, raw='{"c": "SEKURLSA::logonpasswords"}'))
        assert not engine.evaluate(event({"EventID": 15}, raw='{"c": "sekurlsa::"}'))

    def test_substring_atoms_of_any_length_share_one_scan(self) -> None:
        engine = SigmaEngine()
        many = engine.add_yaml(
            rule_yaml(
                "    sel:\n        CommandLine|contains:\n            - '😐'\n"
                "            - '^^'\n    condition: sel\n"
            )
        )
        other = engine.add_yaml(
            rule_yaml("    sel:\n        CommandLine|contains: 'ab^'\n    condition: sel\n").replace(
                "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
            )
        )
        assert engine.candidates(event({"CommandLine": "plain"})) == []
        assert engine.candidates(event({"CommandLine": "x 😐 y"})) == many
        assert engine.candidates(event({"CommandLine": "XAB^^"})) == many + other
        assert [hit.rule for hit in engine.evaluate(event({"CommandLine": ["no", "ab^"]}))] == other

    def test_candidate_buckets_follow_event_id_and_new_rules(self) -> None:
        engine = SigmaEngine()
        sec = "product: windows\n    service: security"
        [first] = engine.add_yaml(rule_yaml("    sel:\n        EventID: 4624\n    condition: sel\n", sec))
        logon = event({"EventID": 4624}, ("windows", None, "security"))
        assert engine.candidates(logon) == [first]
        assert engine.candidates(event({"EventID": 4625}, ("windows", None, "security"))) == []
        det = "    sel:\n        EventID: 4624\n        LogonType: 3\n    condition: sel\n"
        [second] = engine.add_yaml(rule_yaml(det, sec).replace("1111-4111", "1111-4112"))
        assert engine.candidates(logon) == [first, second]

    def test_empty_prefix_is_no_trigger(self) -> None:
        engine = SigmaEngine()
        [rule] = engine.add_yaml(rule_yaml("    sel:\n        Image|startswith: ''\n    condition: sel\n"))
        assert rule.triggers is None
        assert engine.evaluate(event({"Image": "C:\\a.exe"}))
