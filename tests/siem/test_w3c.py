"""W3C extended logs (IIS): event time from ``date``/``time``, W3C field names for webserver rules."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import PATH_TRAVERSAL_RULE, SHARED_DATA, WEB_RULES, require_data

from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.parsers import ParseError, detect_format, parse_bytes, parse_file
from aurorasoc.siem.parsers.w3c import W3CLog
from aurorasoc.siem.pipeline import DetectionPipeline

TUNNA = SHARED_DATA / "evtx-attack-samples" / "Command and Control" / "Tunna_rdp_tunnel_IIS.log"
REGEORG = WEB_RULES / "web_webshell_regeorg.yml"
HEADER = (
    "#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n#Date: 2019-09-03 10:04:35\n"
)
FIELDS = (
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
    "cs(Referer) sc-status\n"
)


def test_the_iis_sample_keeps_its_2019_event_time_and_names_the_request() -> None:
    """Read as plain lines, its 4,298 requests took the time they were ingested."""
    require_data(TUNNA)
    assert detect_format(TUNNA.read_bytes()[:4096]) == "w3c"
    items = list(parse_file(TUNNA))
    assert not [i for i in items if isinstance(i, ParseError)]
    assert len(items) == 4298 and all(e.time_source == "record" for e in items)
    first = items[0]
    assert first.timestamp == datetime(2019, 9, 3, 10, 13, 36, tzinfo=UTC)
    assert (first.category, first.src_ip, first.dst_ip, first.dst_port) == (
        "webserver",
        "10.0.2.17",
        "10.0.2.15",
        80,
    )
    assert first.fields["cs-uri-query"] == "proxy&port=3389&ip=127.0.0.1" and first.fields["sc-status"] == 200
    assert first.message == "GET /erp/conn.aspx?proxy&port=3389&ip=127.0.0.1 200"
    assert "cs-username" not in first.fields  # "-" is no value


def test_a_sigmahq_webserver_rule_fires_on_an_iis_request() -> None:
    require_data(REGEORG)
    line = "2019-09-03 10:13:44 10.0.2.15 POST /tunnel.aspx cmd=read 80 - 10.0.2.17 - - 200\n"
    (event,) = parse_bytes((HEADER + FIELDS + line).encode(), format="iis")
    assert isinstance(event, NormalizedEvent)
    hits = SigmaEngine.from_paths([REGEORG]).evaluate(event)
    assert [hit.rule.title for hit in hits] == ["Webshell ReGeorg Detection Via Web Logs"]


def test_the_header_carries_across_blocks_and_may_change() -> None:
    log = W3CLog()
    assert list(log(HEADER + "#Fields: date time c-ip sc-status\n", source="iis")) == []
    (first,) = log("2019-09-03 10:00:00 10.0.0.9 404\n", source="iis")  # a later block of the same file
    (second,) = log(
        "#Fields: time c-ip cs-method s-computername\n10:05:00 10.0.0.7 GET WEB01\n", source="iis"
    )
    assert isinstance(first, NormalizedEvent) and first.fields == {"c-ip": "10.0.0.9", "sc-status": 404}
    assert isinstance(second, NormalizedEvent) and second.host == "WEB01"
    assert second.timestamp == datetime(2019, 9, 3, 10, 5, tzinfo=UTC)  # the date from #Date


def test_bad_lines_are_reported_alone() -> None:
    log = W3CLog()
    before = list(log("10:00:00 10.0.0.9\n", source="iis"))
    items = list(
        log(
            FIELDS + "2019-09-03 10:00:00 too few\n2019-09-03 10:13:44 a GET / - 80 - b - - 200\n",
            source="iis",
        )
    )
    assert isinstance(before[0], ParseError) and "before any #Fields" in before[0].message
    assert isinstance(items[0], ParseError) and "4 values for 12 #Fields" in items[0].message
    assert isinstance(items[1], NormalizedEvent)


async def test_a_web_attack_alert_names_its_client_and_server(client, role_headers) -> None:
    """The queue's IP filter reads the alert's address columns: a web alert without them hid its attacker."""
    rule = PATH_TRAVERSAL_RULE
    require_data(rule)
    query = "arg=/dir/../../../../windows/win.ini"
    line = f"2018-07-11 07:31:04 10.1.1.5 GET /scripts/fake.cgi {query} 80 - 192.168.105.64 - - 404\n"
    events = [e for e in parse_bytes((HEADER + FIELDS + line).encode()) if isinstance(e, NormalizedEvent)]
    result = await DetectionPipeline(SigmaEngine.from_paths([rule])).process(events)
    assert result.alerts_created == 1
    h = role_headers["analyst"]
    found = (await client.get("/api/v1/alerts", params={"ip": "192.168.105.64"}, headers=h)).json()
    assert [(a["title"], a["src_ip"], a["dst_ip"]) for a in found["items"]] == [
        ("Path Traversal Exploitation Attempts", "192.168.105.64", "10.1.1.5")
    ]
    evidence = (await client.get(f"/api/v1/alerts/{found['items'][0]['id']}/evidence", headers=h)).json()
    (event,) = evidence["events"]  # what the console's "contributing events" table shows
    assert (event["src_ip"], event["message"]) == ("192.168.105.64", f"GET /scripts/fake.cgi?{query} 404")
