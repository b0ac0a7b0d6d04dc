"""Tests for aurorasoc.intel.extraction (typing and canonicalisation)."""

from __future__ import annotations

import pytest

from aurorasoc.core.vocabulary import IOCType
from aurorasoc.intel.extraction import (
    MAX_IOCS_PER_ALERT,
    canonicalize_iocs,
    canonicalize_technique,
    classify_ioc,
)


class TestClassifyIOC:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("10.0.0.5", (IOCType.IP, "10.0.0.5")),
            (" 203.0.113.7 ", (IOCType.IP, "203.0.113.7")),
            ("2001:DB8:0:0:0:0:0:1", (IOCType.IP, "2001:db8::1")),
            ("Evil.Example.COM", (IOCType.DOMAIN, "evil.example.com")),
            ("evil.example.com.", (IOCType.DOMAIN, "evil.example.com")),
            ("HTTP://Evil.Example.com/Payload.EXE", (IOCType.URL, "http://evil.example.com/Payload.EXE")),
            ("Alice@Example.org", (IOCType.EMAIL, "alice@example.org")),
            ("D41D8CD98F00B204E9800998ECF8427E", (IOCType.HASH_MD5, "d41d8cd98f00b204e9800998ecf8427e")),
            (
                "da39a3ee5e6b4b0d3255bfef95601890afd80709",
                (IOCType.HASH_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            ),
            (
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                (IOCType.HASH_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ),
            ("cve-2021-44228", (IOCType.CVE, "CVE-2021-44228")),
            ("C:\\Windows\\Temp\\x.exe", (IOCType.FILE_PATH, "C:\\Windows\\Temp\\x.exe")),
            ("HKLM\\Software\\Run", (IOCType.REGISTRY_KEY, "HKLM\\Software\\Run")),
        ],
    )
    def test_known_indicators(self, value, expected):
        assert classify_ioc(value) == expected

    @pytest.mark.parametrize("value", ["127.0.0.1", "::1", "0.0.0.0", "::"])
    def test_loopback_and_unspecified_addresses_dropped(self, value):
        assert classify_ioc(value) is None

    def test_private_addresses_kept(self):
        assert classify_ioc("192.168.1.10") == (IOCType.IP, "192.168.1.10")

    @pytest.mark.parametrize("value", ["payload.exe", "helper.dll", "run.ps1", "notes.txt", "report.pdf"])
    def test_file_names_are_not_domains(self, value):
        assert classify_ioc(value) is None

    @pytest.mark.parametrize("value", ["", "   ", "hello world", "not-an-ioc", "abc123", "x" * 3000])
    def test_non_indicators(self, value):
        assert classify_ioc(value) is None


class TestCanonicalizeIOCs:
    def test_dedupes_equivalent_forms_in_order(self):
        assert canonicalize_iocs(["Evil.example.com", "10.0.0.5", "evil.example.com", " 10.0.0.5"]) == [
            "evil.example.com",
            "10.0.0.5",
        ]

    def test_unrecognised_values_are_kept_stripped(self):
        assert canonicalize_iocs(["  some-token  "]) == ["some-token"]

    def test_capped_at_50(self):
        values = [f"10.0.{i // 256}.{i % 256}" for i in range(1, 80)]
        assert len(canonicalize_iocs(values)) == MAX_IOCS_PER_ALERT


class TestTechniques:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("t1110.001", "T1110.001"),
            ("attack.t1059", "T1059"),
            ("T1003.001", "T1003.001"),
            ("T12", None),
            ("x", None),
        ],
    )
    def test_canonical_technique_ids(self, value, expected):
        assert canonicalize_technique(value) == expected
