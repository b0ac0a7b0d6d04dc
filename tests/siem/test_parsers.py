"""Log parsers: every format from hand-written samples, EVTX against real files, damage handling."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from conftest import SHARED_DATA, TEST_DATA, require_data
from evtx import PyEvtxParser

from aurorasoc.core.vocabulary import NormalizedEvent, Severity
from aurorasoc.siem.parsers import ParseError, detect_format, parse_bytes, parse_file
from aurorasoc.siem.parsers.line_time import YEAR_ASSUMED

DATA = TEST_DATA
EVTX_SAMPLES = (
    "Privilege Escalation/Sysmon_UACME_64.evtx",
    "Defense Evasion/DE_1102_security_log_cleared.evtx",
    "Defense Evasion/Sysmon_12_DE_AntiForensics_MRU_DeleteKey.evtx",
    "Defense Evasion/DE_Fake_ComputerAccount_4720.evtx",
)


@pytest.fixture
def shared_data() -> Path:
    """The real public data set beside the checkout: required in CI, optional locally."""
    require_data(SHARED_DATA)
    return SHARED_DATA


def events(path: Path | bytes, **kwargs: str) -> tuple[list[NormalizedEvent], list[ParseError]]:
    results = list(parse_file(path, **kwargs) if isinstance(path, Path) else parse_bytes(path, **kwargs))
    good = [r for r in results if isinstance(r, NormalizedEvent)]
    return good, [r for r in results if isinstance(r, ParseError)]


def evtx_count(path: Path) -> int:
    return sum(1 for _ in PyEvtxParser(str(path)).records_json())


class TestDetectFormat:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("events.ndjson", "json"),
            ("windows_event_data_list.json", "json"),
            ("eve.json", "eve"),
            ("zeek.log", "zeek"),
            ("cef.log", "cef"),
            ("syslog_rfc3164.log", "syslog"),
            ("syslog_rfc5424.log", "syslog"),
            ("plain.log", "line"),
            ("events.ndjson.gz", "json"),
            ("misnamed.log", "eve"),
        ],
    )
    def test_sample_files(self, name: str, expected: str) -> None:
        assert detect_format((DATA / name).read_bytes()[:4096]) == expected

    def test_evtx_magic_and_cef_behind_syslog_header(self) -> None:
        assert detect_format(b"ElfFile\x00" + b"\x00" * 100) == "evtx"
        assert detect_format(b"<134>May  1 10:15:30 gw CEF:0|V|P|1|x|y|3|src=1.2.3.4") == "cef"
        assert detect_format(b"May  1 10:15:30 gw sshd[1]: hello") == "syslog"

    def test_unknown_format_name_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="unknown log format"):
            parse_bytes(b"x", format="xml")


class TestJson:
    def test_ecs_documents_map_to_sigma_field_names(self) -> None:
        good, errors = events(DATA / "events.ndjson")
        assert errors == [] and len(good) == 3
        proc, script, plain = good
        assert proc.fields["EventID"] == 4688 and proc.fields["Channel"] == "Security"
        assert proc.fields["Image"] == "C:\\Windows\\System32\\cmd.exe"
        assert proc.fields["ParentImage"] == "C:\\Windows\\explorer.exe"
        assert proc.fields["CommandLine"] == "cmd.exe /c whoami"
        assert proc.fields["winlog.event_data.CommandLine"] == "cmd.exe /c whoami"
        assert (proc.product, proc.category, proc.service) == ("windows", "process_creation", "security")
        assert proc.host == "WS01.corp.local" and proc.user_name == "alice" and proc.event_id == "4688"
        assert (script.fields["EventID"], script.category, script.service) == (
            4104,
            "ps_script",
            "powershell",
        )
        assert plain.message == "plain app event" and plain.src_ip == "10.9.8.7" and plain.user_name == "bob"

    def test_corrupt_line_in_the_middle(self) -> None:
        good, errors = events(DATA / "corrupt.ndjson")
        assert [e.fields["n"] for e in good] == [1, 2, 4]
        assert len(errors) == 1 and errors[0].position == "line 3"

    def test_data_list_with_name_attributes_and_text_event_id(self) -> None:
        (event,), errors = events(DATA / "windows_event_data_list.json")
        assert errors == []
        assert event.fields["EventID"] == 4625 and event.fields["TargetUserName"] == "administrator"
        assert event.fields["Provider_Name"] == "Microsoft-Windows-Security-Auditing"
        assert not any("#" in key for key in event.fields)
        assert (event.src_ip, event.src_port, event.user_name) == ("192.0.2.44", 51515, "administrator")
        assert event.timestamp.isoformat().startswith("2024-05-01T08:00:00.123456")

    def test_concatenated_pretty_objects_and_single_object(self) -> None:
        stream = b'{\n  "a": {"b": 1}\n}\n{\n  "a": {"b": 2}\n}\n{\n  "broken":\n}\n{\n  "a": {"b": 3}\n}\n'
        good, errors = events(stream)
        assert [e.fields["a.b"] for e in good] == [1, 2, 3]
        assert [e.fields["b"] for e in good] == [1, 2, 3]
        assert len(errors) == 1 and errors[0].position == "line 9"
        single, _ = events(b'{"message": "one"}')
        assert [e.message for e in single] == ["one"]

    def test_raw_is_capped(self) -> None:
        (event,), _ = events(b'{"message": "' + b"x" * 70000 + b'"}')
        assert event.raw is not None and len(event.raw) == 64 * 1024


class TestSyslog:
    def test_rfc3164(self) -> None:
        good, errors = events(DATA / "syslog_rfc3164.log")
        assert errors == [] and len(good) == 4
        sshd = good[0]
        assert (sshd.host, sshd.fields["program"], sshd.fields["pid"]) == ("web01", "sshd", 4121)
        assert sshd.fields["facility"] == "auth" and sshd.fields["level"] == "info"
        assert sshd.message is not None and sshd.message.startswith("Failed password")
        assert (sshd.timestamp.month, sshd.timestamp.day, sshd.timestamp.hour) == (3, 3, 14)
        assert {e.time_source for e in good} == {YEAR_ASSUMED}  # RFC 3164 has no year
        assert [e.service for e in good] == ["sshd", "sudo", "cron", "kernel"]
        assert good[1].fields["facility"] == "authpriv"

    def test_rfc5424_structured_data(self) -> None:
        (audit, pg), errors = events(DATA / "syslog_rfc5424.log")
        assert errors == []
        assert audit.fields["sd"]["exampleSDID@32473"]["eventID"] == "1011"
        assert audit.fields["sd"]["meta"]["note"] == 'a "quoted" ] value'
        assert (audit.host, audit.service, audit.message) == (
            "fw01.example.net",
            "auditd",
            "audit log rotated",
        )
        assert audit.fields["facility"] == "local4" and audit.severity == Severity.LOW
        assert pg.fields["sd"] == {} and pg.timestamp.utcoffset() is not None
        assert pg.message == "connection received: host=10.1.2.3 port=5432"

    def test_non_syslog_line_is_an_error(self) -> None:
        good, errors = events(
            b"<13>1 2024-05-01T10:00:00Z h app - - - ok\nnot syslog at all\n", format="syslog"
        )
        assert len(good) == 1 and [e.position for e in errors] == ["line 2"]


class TestCef:
    def test_header_and_extension(self) -> None:
        good, errors = events(DATA / "cef.log")
        assert errors == [] and len(good) == 3
        first = good[0]
        assert (first.src_ip, first.dst_ip, first.src_port, first.dst_port) == (
            "10.0.0.1",
            "2.1.2.2",
            1232,
            445,
        )
        assert first.user_name == "bob" and first.severity == Severity.CRITICAL and first.event_id == "100"
        assert first.fields["msg"] == "Detected a threat. No action needed."
        assert (first.product, first.category) == ("security_threatmanager", "firewall")

    def test_escapes(self) -> None:
        escaped = events(DATA / "cef.log")[0][1]
        assert (
            escaped.fields["deviceVendor"] == "Acme|Corp" and escaped.fields["deviceProduct"] == "Fire\\Wall"
        )
        assert escaped.fields["cs1"] == "a=b c\nd" and escaped.fields["cs1Label"] == "note"
        assert (
            escaped.timestamp.year == 2024
            and escaped.host == "edge-fw"
            and escaped.severity == Severity.MEDIUM
        )

    def test_syslog_header_supplies_host(self) -> None:
        behind_syslog = events(DATA / "cef.log")[0][2]
        assert behind_syslog.host == "edge-gw" and behind_syslog.fields["deviceProduct"] == "PAN-OS"
        assert behind_syslog.product == "palo_alto_networks_pan-os" and behind_syslog.severity == Severity.LOW

    def test_short_header_is_an_error(self) -> None:
        _, errors = events(b"CEF:0|only|three\n", format="cef")
        assert [e.position for e in errors] == ["line 1"]


class TestEveAndZeek:
    def test_eve_columns_and_categories(self) -> None:
        good, errors = events(DATA / "eve.json")
        assert errors == [] and len(good) == 5
        alert = good[0]
        assert (alert.src_ip, alert.src_port, alert.dst_ip, alert.dst_port) == (
            "10.0.0.23",
            49152,
            "203.0.113.50",
            443,
        )
        assert alert.severity == Severity.HIGH and alert.event_id == "2024897"
        assert alert.fields["alert.signature"] == "ET MALWARE Example C2 Beacon"
        assert [e.fields["event_type"] for e in good] == ["alert", "dns", "http", "flow", "tls"]
        assert [e.category for e in good] == [None, "dns", "proxy", "firewall", None]
        assert {e.product for e in good} == {"suricata"} and good[2].host is None

    def test_zeek_columns(self) -> None:
        good, errors = events(DATA / "zeek.log")
        assert errors == [] and len(good) == 3
        conn, dns, http = good
        assert (conn.src_ip, conn.src_port, conn.dst_ip, conn.dst_port) == (
            "10.0.0.23",
            50010,
            "192.0.2.99",
            3389,
        )
        assert (conn.product, conn.service) == ("zeek", "conn") and conn.timestamp.year == 2024
        assert (dns.service, dns.category, dns.fields["query"]) == ("dns", "dns", "evil.example.com")
        assert http.format == "zeek" and http.src_ip == "10.0.0.24"


class TestPlainAndGzip:
    def test_plain_lines(self) -> None:
        good, errors = events(DATA / "plain.log", source="app")
        assert errors == [] and [e.message for e in good][1] == "user bob logged in from 10.0.0.5"
        # The file name is the log source, never a host (spec §27.1).
        assert {e.host for e in good} == {None} and {e.source for e in good} == {"app"}
        assert {e.format for e in good} == {"line"}

    def test_gzip_is_transparent(self) -> None:
        plain = [e.fields for e in events(DATA / "events.ndjson")[0]]
        assert [e.fields for e in events(DATA / "events.ndjson.gz")[0]] == plain
        assert len(events(DATA / "misnamed.log")[0]) == 5

    def test_truncated_gzip_yields_readable_part_and_error(self) -> None:
        blob = gzip.compress(b'{"n": 1}\n' * 2000)
        good, errors = events(blob[: len(blob) - 10])
        assert len(good) > 1000
        assert errors[-1].message == "truncated gzip stream"

    def test_unreadable_file_raises_oserror(self, tmp_path: Path) -> None:
        with pytest.raises(OSError):
            parse_file(tmp_path / "missing.log")


class TestEvtx:
    @pytest.mark.parametrize("relative", EVTX_SAMPLES)
    def test_counts_match_the_evtx_package(self, shared_data: Path, relative: str) -> None:
        path = shared_data / "evtx-attack-samples" / relative
        good, errors = events(path)
        assert errors == [] and len(good) == evtx_count(path) > 0
        assert all(isinstance(e.fields["EventID"], int) and e.fields["Channel"] and e.host for e in good)
        assert all(e.format == "evtx" and e.product == "windows" for e in good)

    def test_sysmon_fields(self, shared_data: Path) -> None:
        good, _ = events(shared_data / "evtx-attack-samples" / EVTX_SAMPLES[0])
        creation = [e for e in good if e.fields["EventID"] == 1]
        assert creation and all(e.fields["Image"] and "CommandLine" in e.fields for e in creation)
        assert {e.category for e in creation} == {"process_creation"} and creation[0].service == "sysmon"
        assert creation[0].fields["Provider_Name"] == "Microsoft-Windows-Sysmon"

    def test_truncated_file_yields_events_and_error(self, shared_data: Path, tmp_path: Path) -> None:
        data = (shared_data / "evtx-attack-samples" / EVTX_SAMPLES[0]).read_bytes()
        half = tmp_path / "half.evtx"
        half.write_bytes(data[: len(data) // 2])
        good, errors = events(half)
        assert 0 < len(good) < evtx_count(shared_data / "evtx-attack-samples" / EVTX_SAMPLES[0])
        assert len(errors) == 1 and errors[0].position == f"byte {len(data) // 2}"
        _, header_only = events(data[:100])
        assert len(header_only) == 1

    def test_gzipped_evtx(self, shared_data: Path) -> None:
        path = shared_data / "evtx-attack-samples" / EVTX_SAMPLES[1]
        good, errors = events(gzip.compress(path.read_bytes()))
        assert errors == [] and len(good) == evtx_count(path)

    def test_regression_evtx_and_json_renderings_agree(self, shared_data: Path) -> None:
        cases = sorted((shared_data / "sigma-regression").rglob("*.evtx"))
        assert len(cases) >= 5
        for case in cases:
            from_evtx, evtx_errors = events(case)
            from_json, json_errors = events(case.with_suffix(".json"))
            assert evtx_errors == json_errors == [] and len(from_evtx) == len(from_json) > 0, case
            for left, right in zip(from_evtx, from_json, strict=True):
                assert _key_fields(left) == _key_fields(right), case


def _key_fields(event: NormalizedEvent) -> tuple[object, ...]:
    """Fields Sigma rules lean on; the JSON renderings strip trailing blanks, so compare stripped."""
    names = ("EventID", "Channel", "Computer", "Image", "CommandLine", "ParentImage", "TargetFilename")
    values = [event.fields.get(n) for n in names]
    stripped = [v.rstrip() if isinstance(v, str) else v for v in values]
    return (*stripped, event.event_id, event.category, event.service, event.timestamp)
