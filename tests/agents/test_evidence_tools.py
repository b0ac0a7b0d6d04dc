"""Evidence tools on real EVTX: anchored on the alert's own event time and entities (issue #19)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import PATH_TRAVERSAL_RULE, SHARED_DATA, WEB_RULES, require_data
from sqlalchemy import select

from aurorasoc.agents.statements import describe
from aurorasoc.agents.tools import TOOLS, ToolContext
from aurorasoc.cases.correlation import CaseCorrelator
from aurorasoc.cli.rules import BUNDLED_RULES
from aurorasoc.core.auth import ROLE_PERMISSIONS
from aurorasoc.core.db import get_session_factory
from aurorasoc.core.models import AlertModel
from aurorasoc.core.vocabulary import Role
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.parsers import ParseError, parse_file
from aurorasoc.siem.pipeline import DetectionPipeline

pytestmark = pytest.mark.slow
SAMPLES = SHARED_DATA / "evtx-attack-samples"
COMSVCS = SAMPLES / "Credential Access" / "sysmon_10_1_memdump_comsvcs_minidump.evtx"
ADMINS = SAMPLES / "Persistence" / "Network_Service_Guest_added_to_admins_4732.evtx"


async def ingest(*paths: Path) -> dict[str, AlertModel]:
    require_data(*paths)
    batch = [e for p in paths for e in parse_file(p) if not isinstance(e, ParseError)]
    await DetectionPipeline(SigmaEngine.from_paths([BUNDLED_RULES])).process(batch)
    async with get_session_factory()() as session:
        return {a.title: a for a in (await session.scalars(select(AlertModel))).all()}


async def call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    async with get_session_factory()() as session:
        ctx = ToolContext(session, "agent:test", frozenset(ROLE_PERMISSIONS[Role.ANALYST]))
        return await TOOLS[name].run(ctx, dict(args))


@pytest.fixture
async def comsvcs(app_db) -> AlertModel:  # type: ignore[no-untyped-def]
    alerts = await ingest(COMSVCS, ADMINS)
    return alerts["LSASS Dump via comsvcs.dll MiniDump"]


class TestAnchoredOnEventTime:
    async def test_alert_events_read_the_2019_evidence(self, comsvcs):
        out = await call("alert_events", {"alert_id": str(comsvcs.id), "window_minutes": 5})
        assert out["status"] == "ok" and out["first_event_at"].startswith("2019-08-30T12:54:08")
        [anchor] = out["anchors"]
        proc = anchor["process"]
        assert proc["parent_image"].endswith("WmiPrvSE.exe") and proc["integrity"] == "High"
        assert (
            "comsvcs.dll, MiniDump 4868" in proc["command_line"] and anchor["user"] == "MSEDGEWIN10\\IEUser"
        )
        # the dump written by rundll32 and lsass being opened are among the surrounding events
        around = {e["event_id"] for e in out["around"]}
        assert {"10", "11"} <= around and all(e["host"] == "MSEDGEWIN10" for e in out["around"])

    async def test_search_logs_takes_an_absolute_range_and_a_window(self, comsvcs):
        hit = await call(
            "search_logs", {"q": "comsvcs", "around": "2019-08-30T12:54:08Z", "window_minutes": 5}
        )
        miss = await call("search_logs", {"q": "comsvcs", "range": "7d"})
        absolute = await call(
            "search_logs", {"q": "comsvcs", "start": "2019-08-30T00:00:00Z", "end": "2019-08-31T00:00:00Z"}
        )
        assert hit["total"] >= 1 and absolute["total"] == hit["total"] and miss["total"] == 0
        assert hit["events"][0]["event_ref"]
        both = await call("search_logs", {"q": "x", "range": "7d", "around": "2019-08-30T12:54:08Z"})
        assert both["error_code"] == "invalid_input"

    async def test_process_tree_links_sysmon_guids(self, comsvcs):
        out = await call("alert_events", {"alert_id": str(comsvcs.id), "window_minutes": 0})
        proc = out["anchors"][0]["process"]
        tree = await call(
            "process_tree",
            {"host": "MSEDGEWIN10", "around": out["first_event_at"], "process_guid": proc["guid"]},
        )
        assert tree["process"]["image"].endswith("rundll32.exe")
        [parent] = tree["ancestors"]  # WmiPrvSE's own creation is not in the sample
        assert parent["image"].endswith("WmiPrvSE.exe") and parent["stored"] is False

    async def test_host_and_user_timelines(self, comsvcs):
        host = await call(
            "host_timeline", {"host": "msedgewin10", "around": "2019-08-30T12:54:08Z", "window_minutes": 1}
        )
        assert len(host["events"]) == 6 and host["events"][0]["time"] <= host["events"][-1]["time"]
        user = await call(
            "user_timeline", {"user": "IEUser", "around": "2019-09-22T11:22:05Z", "window_minutes": 5}
        )
        assert [e["event_id"] for e in user["events"]] == ["4732", "4732"]
        none = await call(
            "user_timeline", {"user": "IEUser", "around": "2020-01-01T00:00:00Z", "window_minutes": 5}
        )
        assert none["events"] == []


class TestHostAlerts:
    async def test_other_alerts_on_the_host_are_found_by_event_time_among_many(self, comsvcs):
        """A host in years of imports: the alerts of the window are found, however many came later."""
        from datetime import timedelta

        from aurorasoc.core.db import session_scope
        from aurorasoc.core.types import utcnow

        at, now = comsvcs.first_seen_at, utcnow()

        def on_host(title: str, seen: Any, stored: Any) -> AlertModel:
            return AlertModel(
                title=title, host="msedgewin10", first_seen_at=seen, last_seen_at=seen, created_at=stored
            )

        async with session_scope() as session:
            session.add_all([on_host("Beacon", at + timedelta(minutes=20), now - timedelta(days=1))])
            session.add_all([on_host("Earlier", at - timedelta(minutes=50), now - timedelta(days=1))])
            session.add_all(
                on_host(f"2021 alert {i}", at + timedelta(days=700 + i), now + timedelta(seconds=i))
                for i in range(250)
            )
        out = await call("host_alerts", {"alert_id": str(comsvcs.id), "window_minutes": 60})
        titles = [a["title"] for a in out["alerts"]]
        assert titles[0] == "Earlier" and "Beacon" in titles  # earliest first
        assert not [t for t in titles if t.startswith("2021")] and out["total"] == len(titles)


class TestCommonObservables:
    async def test_os_binary_hash_is_common_and_not_pivoted(self, comsvcs):
        sha256 = "01b407af0200b66a34d9b1fa6d9eaab758efa36a36bb99b554384f59f8690b1a"  # rundll32.exe
        out = await call("where_else", {"value": sha256})
        assert out["common"] is True and "operating-system binary" in out["common_reason"]
        assert out["elsewhere"] == [] and out["hosts"] == ["MSEDGEWIN10"]

    async def test_a_rare_artefact_is_not_common(self, comsvcs):
        out = await call("where_else", {"value": "notepad.bin"})
        assert out["common"] is False and out["events"] >= 2 and out["elsewhere"]

    async def test_prevalence_of_a_command_line(self, comsvcs):
        cmd = r"rundll32 C:\windows\system32\comsvcs.dll, MiniDump 4868 C:\Windows\System32\notepad.bin full"
        out = await call("prevalence", {"value": cmd})
        assert out["events"] == 1 and out["hosts"] == ["MSEDGEWIN10"] and out["common"] is False
        assert out["first_seen"].startswith("2019-08-30T12:54:08")


class TestQueriesOnBothDatabases:
    async def test_event_queries_run_on_sqlite_and_postgresql(self, any_db_session):
        from datetime import UTC, datetime, timedelta

        from aurorasoc.core.models import SiemLogModel

        at = datetime(2019, 8, 30, 12, 54, 8, tzinfo=UTC)
        fields = {"Image": "C:\\Users\\x\\evil_tool.exe", "User": "LAB\\alice", "ProcessGuid": "{G-1}"}
        raw = '{"Image": "C:\\\\Users\\\\x\\\\evil_tool.exe"}'
        rows = [
            SiemLogModel(
                timestamp=at, source="windows", format="evtx", event_id="1", host=host,
                user_name=user, fields=fields, raw=raw,
            )
            for host, user in (("WS-1", "LAB\\alice"), ("WS-2", "LAB\\bob"))
        ]  # fmt: skip
        any_db_session.add_all(rows)
        await any_db_session.flush()
        stored = {"host": "WS-1", "first_seen_at": at, "last_seen_at": at, "affected_assets": ["host:WS-1"]}
        alert = AlertModel(title="t", metadata_={"log_ids": [str(rows[0].id)]}, **stored)
        other = AlertModel(title="u", metadata_={"log_ids": [str(rows[0].id)]}, **stored)
        later = {**stored, "first_seen_at": at + timedelta(days=1), "last_seen_at": at + timedelta(days=1)}
        any_db_session.add_all([alert, other, AlertModel(title="next day", **later)])
        await any_db_session.flush()
        ctx = ToolContext(any_db_session, "agent:test", frozenset(ROLE_PERMISSIONS[Role.ANALYST]))
        timeline = await TOOLS["host_timeline"].run(ctx, {"host": "ws-1", "around": at.isoformat()})
        where = await TOOLS["where_else"].run(ctx, {"value": "evil_tool.exe", "exclude_host": "WS-1"})
        user = await TOOLS["user_timeline"].run(ctx, {"user": "alice", "around": at.isoformat()})
        near = await TOOLS["host_alerts"].run(ctx, {"alert_id": str(alert.id)})
        assert [e["host"] for e in timeline["events"]] == ["WS-1"]
        assert where["common"] is False and [x["host"] for x in where["elsewhere"]] == ["WS-2"]
        assert user["hosts"] == ["WS-1"] and [a["title"] for a in near["alerts"]] == ["u"]


async def test_a_web_request_is_told_from_its_client_not_as_host_none(app_db) -> None:  # type: ignore[no-untyped-def]
    """The offline analyst's "what happened" read 'on host None: event None: GET …' for web alerts."""
    log = SAMPLES / "Command and Control" / "web_attack_and_isp_webshell_localhost_access_log.txt"
    rule = PATH_TRAVERSAL_RULE
    require_data(log, rule)
    batch = [e for e in parse_file(log) if not isinstance(e, ParseError)]
    await DetectionPipeline(SigmaEngine.from_paths([rule])).process(batch)
    async with get_session_factory()() as session:
        alert = (await session.scalars(select(AlertModel))).first()
    assert alert is not None and alert.src_ip  # the client is the alert's source address
    out = await call("alert_events", {"alert_id": str(alert.id), "window_minutes": 5})
    anchor = out["anchors"][0]
    assert anchor["fields"]["c-ip"] == alert.src_ip and anchor["message"].startswith("GET ")
    told = describe(anchor)
    assert f" from {alert.src_ip}: GET /" in told and "None" not in told


async def test_a_web_attack_is_scoped_by_its_client_address(app_db) -> None:  # type: ignore[no-untyped-def]
    """Web-server logs name no host: the client's other detected requests are the scope, and the
    XSS probe and the path traversal it sent 9 s earlier are one case (``source:`` correlation)."""
    log = SAMPLES / "Command and Control" / "web_attack_and_isp_webshell_localhost_access_log.txt"
    require_data(log, WEB_RULES)
    batch = [e for e in parse_file(log) if not isinstance(e, ParseError)]
    await DetectionPipeline(SigmaEngine.from_paths([WEB_RULES])).process(batch)
    async with get_session_factory()() as session:  # what the alert pipeline does with them
        stored = (await session.scalars(select(AlertModel).order_by(AlertModel.first_seen_at))).all()
        await CaseCorrelator(session).correlate_many(stored)
        await session.commit()
        alerts = [a for a in stored if a.src_ip == "192.168.105.64"]
    by_title = {a.title: a for a in alerts}
    xss, traversal = (
        by_title["Cross Site Scripting Strings"],
        by_title["Path Traversal Exploitation Attempts"],
    )
    assert xss.host is None and xss.case_id is not None and xss.case_id == traversal.case_id
    out = await call("host_alerts", {"alert_id": str(xss.id), "window_minutes": 60})
    assert out["where"] == "from 192.168.105.64" and out["host"] is None
    assert [a["title"] for a in out["alerts"]] == ["Path Traversal Exploitation Attempts"]
    assert out["alerts"][0]["event_refs"]  # the request itself, to cite
