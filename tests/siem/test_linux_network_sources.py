"""Linux and network log sources meet the SigmaHQ rules written for them (issue 17, scope 3).

Each sample in ``tests/data/linux_network`` is a record in the format the real tool prints (auditd's
audit.log, sudo and sshd lines of auth.log, Zeek ``LogAscii::use_json=T`` logs with no ``_path``, Suricata
EVE, an Apache/nginx combined access log). The file is parsed with format detection, and the named SigmaHQ
rule must fire on the record written for it, and not on its benign twin.
"""

from __future__ import annotations

import pytest
from conftest import SHARED_DATA, TEST_DATA, require_data

from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.parsers import ParseError, detect_format, parse_bytes, parse_file

SAMPLES = TEST_DATA / "linux_network"
SIGMA = SHARED_DATA / "sigma"
RULE_PATHS = (
    SIGMA / "rules" / "linux" / "auditd",
    SIGMA / "rules" / "linux" / "builtin",
    SIGMA / "rules" / "network",
    SIGMA / "rules" / "web",
    SIGMA / "rules-emerging-threats" / "2019" / "Exploits" / "CVE-2019-14287",
)

LNX_AUDITD_AUDIO_CAPTURE = "a7af2487-9c2f-42e4-9bb9-ff961f0561d5"
LNX_SUDO_EXPLOIT_CVE_2019_14287 = "7fcc54cb-f27d-4684-84b7-436af096f858"
LNX_SSHD_SUSP_SSH = "e76b413a-83d0-4b94-8e4c-85db4a5b8bdc"
NET_FIREWALL_CLEARTEXT_PROTOCOLS = "d7fb8f0e-bd5f-45c2-b467-19571c490d7e"
ZEEK_DNS_MINING_POOLS = "bf74135c-18e8-4a72-a926-0e4f47888c19"
ZEEK_HTTP_WEBDAV_PUT_REQUEST = "705072a5-bb6f-4ced-95b6-ecfa6602090b"
ZEEK_HTTP_EXECUTABLE_DOWNLOAD_FROM_WEBDAV = "aac2fd97-bcba-491b-ad66-a6edf89c71bf"
NET_DNS_WANNACRY_KILLSWITCH_DOMAIN = "3eaf6218-3bed-4d8a-8707-274096f12a18"
PROXY_UA_POWERSHELL = "c8557060-9221-4448-8794-96320e6f3e74"
WEB_SQL_INJECTION_IN_ACCESS_LOGS = "5513deaf-f49a-46c2-a6c8-3f111b5cb453"


@pytest.fixture(scope="module")
def engine() -> SigmaEngine:
    require_data(*RULE_PATHS)
    return SigmaEngine.from_paths(RULE_PATHS)


def _events(name: str) -> list[NormalizedEvent]:
    results = list(parse_file(SAMPLES / name))
    assert not [r for r in results if isinstance(r, ParseError)]
    return [r for r in results if isinstance(r, NormalizedEvent)]


def _fired(engine: SigmaEngine, event: NormalizedEvent) -> set[str]:
    return {hit.rule.id for hit in engine.evaluate(event)}


class TestFormatDetection:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [("audit.log", "auditd"), ("auth.log", "syslog"), ("conn.log", "zeek"), ("dns.log", "zeek"),
         ("http.log", "zeek"), ("dns_tsv.log", "zeek"), ("eve.json", "eve"), ("access.log", "weblog")],
    )  # fmt: skip
    def test_each_sample_is_recognised_by_content(self, name: str, expected: str) -> None:
        assert detect_format((SAMPLES / name).read_bytes()[:4096]) == expected


class TestAuditd:
    def test_execve_arguments_fire_lnx_auditd_audio_capture(self, engine: SigmaEngine) -> None:
        syscall, execve, *_ = _events("audit.log")
        assert execve.fields["type"] == "EXECVE"
        assert (execve.fields["a0"], execve.fields["a1"], execve.fields["a2"]) == ("arecord", "-vv", "-fdat")
        assert execve.fields["a3"] == "/tmp/mic out.wav"  # auditd hex-encodes an argument with a space
        assert execve.product == "linux" and execve.service == "auditd"
        assert LNX_AUDITD_AUDIO_CAPTURE in _fired(engine, execve)
        assert LNX_AUDITD_AUDIO_CAPTURE not in _fired(engine, syscall)

    def test_record_fields_time_and_serial(self) -> None:
        syscall, _, cwd, path, proctitle = _events("audit.log")
        assert syscall.fields["exe"] == "/usr/bin/arecord" and syscall.fields["key"] == "audio"
        assert syscall.timestamp.timestamp() == pytest.approx(1733467261.123)
        assert {e.fields["audit_serial"] for e in (syscall, cwd, path, proctitle)} == {4242}
        assert proctitle.fields["proctitle"] == "arecord -vv -fdat /tmp/mic out.wav"
        assert path.fields["name"] == "/usr/bin/arecord" and cwd.fields["cwd"] == "/home/alice"

    def test_enriched_format_and_user_space_records(self) -> None:
        enriched = (
            "type=SYSCALL msg=audit(1733467300.001:99): arch=c000003e syscall=319 success=yes exit=3 "
            'comm="ecasound" exe="/usr/bin/ecasound" key=(null)'
            '\x1dARCH=x86_64 SYSCALL=memfd_create AUID="alice"\n'
            "type=USER_LOGIN msg=audit(1733467301.5:100): pid=901 uid=0 auid=1000 ses=4 msg='op=login "
            'acct="alice" exe="/usr/sbin/sshd" hostname=? addr=203.0.113.9 terminal=sshd res=failed\'\n'
        )
        syscall, login = [r for r in parse_bytes(enriched.encode()) if isinstance(r, NormalizedEvent)]
        assert syscall.fields["SYSCALL"] == "memfd_create" and syscall.user_name == "alice"
        assert login.fields["acct"] == "alice" and login.fields["res"] == "failed"
        assert login.fields["addr"] == "203.0.113.9"

    def test_syscall_arguments_stay_hex_numbers(self) -> None:
        line = b"type=SYSCALL msg=audit(1733467302.2:101): arch=c000003e syscall=1 success=yes exit=65 "
        line += b"a0=1 a1=4142 a2=41\n"
        (write,) = [r for r in parse_bytes(line) if isinstance(r, NormalizedEvent)]
        assert (write.fields["a1"], write.fields["a2"]) == ("4142", "41")  # not the text "AB" / "A"

    def test_a_line_that_is_not_an_audit_record_is_reported(self) -> None:
        results = list(parse_bytes(b"type=EXECVE broken\n", format="auditd"))
        assert isinstance(results[0], ParseError) and results[0].position == "line 1"


class TestSyslog:
    def test_sudo_user_hash_minus_one_fires_cve_2019_14287(self, engine: SigmaEngine) -> None:
        sudo, session, *_ = _events("auth.log")
        assert sudo.service == "sudo" and sudo.fields["USER"] == "#-1"
        assert sudo.fields["COMMAND"] == "/usr/bin/id" and sudo.user_name == "alice"
        assert LNX_SUDO_EXPLOIT_CVE_2019_14287 in _fired(engine, sudo)
        assert LNX_SUDO_EXPLOIT_CVE_2019_14287 not in _fired(engine, session)

    def test_sshd_corrupted_mac_fires_lnx_sshd_susp_ssh(self, engine: SigmaEngine) -> None:
        *_, corrupted, accepted = _events("auth.log")
        assert corrupted.service == "sshd"
        assert LNX_SSHD_SUSP_SSH in _fired(engine, corrupted)
        assert LNX_SSHD_SUSP_SSH not in _fired(engine, accepted)

    def test_sshd_logins_carry_user_and_address(self) -> None:
        _, _, failed, _, accepted = _events("auth.log")
        assert (failed.user_name, failed.src_ip) == ("admin", "203.0.113.9")
        assert failed.fields["outcome"] == "failure"
        assert (accepted.user_name, accepted.src_ip, accepted.src_port) == ("alice", "198.51.100.4", 50022)
        assert accepted.fields["auth_method"] == "publickey"


class TestZeekWithoutPath:
    def test_conn_log_to_telnet_fires_net_firewall_cleartext_protocols(self, engine: SigmaEngine) -> None:
        answered, rejected = _events("conn.log")
        assert answered.fields["_path"] == "conn" and answered.category == "firewall"
        assert answered.fields["dst_port"] == 23 and answered.fields["action"] == "accept"
        assert NET_FIREWALL_CLEARTEXT_PROTOCOLS in _fired(engine, answered)
        assert NET_FIREWALL_CLEARTEXT_PROTOCOLS not in _fired(engine, rejected)

    def test_dns_log_fires_zeek_dns_mining_pools(self, engine: SigmaEngine) -> None:
        (query,) = _events("dns.log")
        assert (query.product, query.service, query.category) == ("zeek", "dns", "dns")
        assert query.fields["record_type"] == "A"
        assert ZEEK_DNS_MINING_POOLS in _fired(engine, query)

    def test_http_log_fires_zeek_webdav_rules(self, engine: SigmaEngine) -> None:
        (put,) = _events("http.log")
        assert put.service == "http" and put.fields["c-uri"] == "/webdav/payload.exe"
        fired = _fired(engine, put)
        assert {ZEEK_HTTP_WEBDAV_PUT_REQUEST, ZEEK_HTTP_EXECUTABLE_DOWNLOAD_FROM_WEBDAV} <= fired

    def test_log_type_from_the_record_shape_when_the_file_name_says_nothing(self) -> None:
        data = (SAMPLES / "dns.log").read_bytes() + (SAMPLES / "conn.log").read_bytes()
        events = [r for r in parse_bytes(data, source="upload.json") if isinstance(r, NormalizedEvent)]
        assert [e.fields["_path"] for e in events] == ["dns", "conn", "conn"]
        assert [e.service for e in events] == ["dns", "conn", "conn"]


class TestZeekTsv:
    def test_default_ascii_log_is_typed_from_its_header(self, engine: SigmaEngine) -> None:
        mining, plain = _events("dns_tsv.log")
        assert (mining.service, mining.category, mining.src_port) == ("dns", "dns", 49812)
        assert mining.fields["answers"] == ["141.94.96.144", "51.255.34.118"]
        assert mining.fields["TTLs"] == [60.0, 60.0] and mining.fields["rejected"] is False
        assert mining.timestamp.timestamp() == pytest.approx(1733467402.301245)
        assert ZEEK_DNS_MINING_POOLS in _fired(engine, mining)
        assert "rtt" not in plain.fields and plain.fields["answers"] == []  # unset and empty fields
        assert not _fired(engine, plain)

    def test_a_row_that_does_not_fit_the_header_is_reported(self) -> None:
        text = (SAMPLES / "dns_tsv.log").read_text().replace("\tudp\t39413", "\tudp", 1)
        results = list(parse_bytes(text.encode()))
        assert [r.position for r in results if isinstance(r, ParseError)] == ["line 10"]


class TestSuricataEve:
    def test_dns_query_fires_net_dns_wannacry_killswitch_domain(self, engine: SigmaEngine) -> None:
        dns, _ = _events("eve.json")
        assert dns.category == "dns" and dns.fields["query"].startswith("iuqssfsodp9")
        assert dns.fields["record_type"] == "A"
        assert NET_DNS_WANNACRY_KILLSWITCH_DOMAIN in _fired(engine, dns)

    def test_http_user_agent_fires_proxy_ua_powershell(self, engine: SigmaEngine) -> None:
        _, http = _events("eve.json")
        assert http.category == "proxy" and http.fields["cs-method"] == "GET"
        assert http.fields["c-uri-extension"] == "ps1"
        assert PROXY_UA_POWERSHELL in _fired(engine, http)


class TestWebAccessLog:
    def test_union_select_fires_web_sql_injection_unless_not_found(self, engine: SigmaEngine) -> None:
        injected, not_found, benign = _events("access.log")
        assert injected.category == "webserver" and injected.src_ip == "203.0.113.7"
        assert injected.fields["cs-method"] == "GET" and injected.fields["sc-status"] == 200
        assert injected.fields["cs-uri-stem"] == "/products.php"
        assert injected.fields["cs-uri-query"].startswith("id=1%20UNION%20SELECT")
        assert WEB_SQL_INJECTION_IN_ACCESS_LOGS in _fired(engine, injected)
        assert not_found.fields["sc-status"] == 404
        assert WEB_SQL_INJECTION_IN_ACCESS_LOGS not in _fired(engine, not_found)
        assert not _fired(engine, benign)
        assert benign.user_name == "bob" and benign.fields["cs-referer"] == "https://www.example.org/"
        assert benign.timestamp.isoformat() == "2026-12-06T06:31:09+00:00"

    def test_requests_logged_verbatim_are_read_not_rejected(self) -> None:
        """The EVTX samples' Tomcat log writes requests as sent: an unescaped quote (an XSS probe), a
        raw NUL and a TLS handshake. All three were "not an access log line", lost as evidence."""
        log = SHARED_DATA / "evtx-attack-samples" / "Command and Control"
        path = log / "web_attack_and_isp_webshell_localhost_access_log.txt"
        require_data(path)
        results = list(parse_file(path))
        assert [r for r in results if isinstance(r, ParseError)] == []
        lines = path.read_bytes().splitlines()
        probe, nul, tls = (results[n - 1] for n in (879, 853, 27))  # the lines the reader rejected
        assert isinstance(probe, NormalizedEvent) and isinstance(nul, NormalizedEvent)
        assert probe.fields["cs-uri-query"] == 'postdata="><script>foo</script>'
        assert (probe.fields["cs-method"], probe.fields["sc-status"]) == ("GET", 404)  # what rules filter on
        assert nul.fields["cs-uri-stem"] == "/\x00.jsp" and nul.fields["sc-status"] == 400
        assert isinstance(tls, NormalizedEvent) and tls.raw == lines[26].decode("utf-8", "replace")
        assert tls.fields["sc-status"] == 400 and tls.src_ip == "192.168.105.83"

    def test_apache_escapes_are_read_back_and_never_backtracked_over(self) -> None:
        """Apache writes a TLS handshake sent to its HTTP port as ``\\xhh`` escapes. ``apachelogs``'
        pattern reads each escape two ways: refusing such a common-format line as combined took
        96 s for 30 escapes (pytest-timeout fails this test if that comes back)."""
        handshake = "".join(f"\\x{b:02x}" for b in bytes(range(1, 41)))
        line = f'203.0.113.9 - - [11/Jul/2018:09:32:02 +0300] "{handshake}" 400 226\n'
        quoted = '203.0.113.9 - - [11/Jul/2018:09:32:03 +0300] "GET /a\\"b HTTP/1.1" 404 0 "-" "curl/8"\n'
        tls, probe = parse_bytes((line + quoted).encode(), format="weblog")
        assert isinstance(tls, NormalizedEvent) and tls.message == bytes(range(1, 41)).decode() + " 400"
        assert isinstance(probe, NormalizedEvent) and probe.fields["cs-uri-stem"] == '/a"b'
        assert probe.fields["c-useragent"] == "curl/8"

    def test_a_referer_of_escapes_beside_a_verbatim_agent_is_read_at_once(self) -> None:
        """Both headers are the client's: 30 escapes in the referer and a user agent apachelogs
        cannot read (raw UTF-8, as Tomcat logs it) hung the parser the same way."""
        referer = "".join(f"\\x{b:02x}" for b in range(65, 95))
        line = f'203.0.113.9 - - [11/Jul/2018:09:32:02 +0300] "GET / HTTP/1.1" 200 5 "{referer}" "curl é"\n'
        (event,) = parse_bytes(line.encode(), format="weblog")
        assert (
            isinstance(event, NormalizedEvent) and event.fields["cs-referer"] == bytes(range(65, 95)).decode()
        )
        assert event.fields["c-useragent"] == "curl é" and event.fields["sc-status"] == 200

    def test_a_line_that_is_not_an_access_log_line_is_reported(self) -> None:
        results = list(parse_bytes(b"hello world\n", format="nginx"))
        assert isinstance(results[0], ParseError) and "access log" in results[0].message
