"""extract_iocs: indicators from normalised events (known fields first, then the message)."""

from __future__ import annotations

from typing import Any

from aurorasoc.core.vocabulary import IOCType, NormalizedEvent
from aurorasoc.intel.extraction import MAX_IOCS_PER_ALERT, classify_ioc, extract_iocs

SHA256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
MD5 = "D41D8CD98F00B204E9800998ECF8427E"
IMPHASH = "F34D5F2D4577ED6D9CEEC516C1F5A744"


def event(message: str | None = None, **fields: Any) -> NormalizedEvent:
    columns = {k: fields.pop(k) for k in ("src_ip", "dst_ip") if k in fields}
    return NormalizedEvent(source="test", format="json", message=message, fields=fields, **columns)


class TestKnownFields:
    def test_addresses_from_columns_and_fields(self):
        iocs = extract_iocs(event(src_ip="203.0.113.7", dst_ip="10.0.0.5", DestinationIp="198.51.100.1"))
        assert iocs == ["203.0.113.7", "10.0.0.5", "198.51.100.1"]

    def test_loopback_and_unspecified_are_dropped(self):
        iocs = extract_iocs(event(src_ip="127.0.0.1", dst_ip="0.0.0.0", SourceIp="::1", DestinationIp="::"))
        assert iocs == []

    def test_sysmon_hashes_are_split_and_imphash_ignored(self):
        iocs = extract_iocs(event(Hashes=f"SHA256={SHA256},MD5={MD5},IMPHASH={IMPHASH}"))
        assert iocs == [SHA256.lower(), MD5.lower()]

    def test_dns_url_and_email_fields(self):
        iocs = extract_iocs(
            event(QueryName="Evil.Example.COM", url="HTTP://Bad.Example.net/Path", email="Bob@Example.org")
        )
        assert iocs == ["evil.example.com", "http://bad.example.net/Path", "bob@example.org"]

    def test_paths_in_known_fields_are_not_indicators(self):
        assert extract_iocs(event(url="C:\\Windows\\System32\\cmd.exe", query="not an indicator")) == []

    def test_list_values_are_read_item_by_item(self):
        assert extract_iocs(event(query=["a.example.com", "b.example.com"])) == [
            "a.example.com",
            "b.example.com",
        ]


class TestMessageRegexes:
    def test_every_indicator_kind_in_free_text(self):
        message = (
            f"user alice@corp.example sent {SHA256} to https://dl.example.org/x.ps1 "
            "from 192.0.2.10 and 2001:db8::5 exploiting CVE-2021-44228 via c2.badsite.io."
        )
        iocs = extract_iocs(event(message))
        kinds = {classify_ioc(v)[0] for v in iocs}  # type: ignore[index]
        assert kinds == {
            IOCType.EMAIL,
            IOCType.HASH_SHA256,
            IOCType.URL,
            IOCType.IP,
            IOCType.CVE,
            IOCType.DOMAIN,
        }
        assert "c2.badsite.io" in iocs and "2001:db8::5" in iocs and "CVE-2021-44228" in iocs

    def test_invalid_addresses_and_file_names_are_rejected(self):
        iocs = extract_iocs(event("ran payload.exe and script.ps1 at 999.10.1.1, time 12:30:45, host ::1"))
        assert iocs == []

    def test_dotted_words_in_free_text_are_domains_only_with_a_public_suffix(self):
        """The EVTX samples' XSS requests made ``document.cookie`` an observable of their case."""
        message = "GET /?<script>document.cookie=1</script>, then a beacon to evil.co.uk via dc01.corp.local"
        assert extract_iocs(event(message)) == ["evil.co.uk"]
        assert extract_iocs(event(QueryName="dc01.corp.local")) == ["dc01.corp.local"]  # a field names it

    def test_known_fields_come_before_message_matches(self):
        iocs = extract_iocs(event("contact 192.0.2.99", src_ip="198.51.100.2"))
        assert iocs == ["198.51.100.2", "192.0.2.99"]

    def test_duplicates_collapse_to_the_canonical_form(self):
        iocs = extract_iocs(event("EVIL.example.com again evil.example.com", QueryName="evil.example.com"))
        assert iocs == ["evil.example.com"]

    def test_capped_per_alert(self):
        message = " ".join(f"198.51.100.{i}" for i in range(1, 120))
        iocs = extract_iocs(event(message))
        assert len(iocs) == MAX_IOCS_PER_ALERT
        assert iocs[0] == "198.51.100.1"
