"""The case summary (issue #19 §7): facts from the evidence, current as correlation adds alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from test_agents_llm import ScriptedLLM, llm  # noqa: F401  (the scripted OpenAI-compatible server)
from test_case_correlator import add_case, correlate, make_alert

from aurorasoc.cases import summary as case_summary
from aurorasoc.cases.models import CaseModel
from aurorasoc.cases.summary import CaseSummaryService

# ruff: noqa: F811  (the scripted-model fixture is imported from test_agents_llm)
T0 = datetime(2019, 3, 17, 19, 9, 41, tzinfo=UTC)
DUMP = "procdump.exe -ma lsass.exe C:\\Users\\IEUser\\Desktop\\lsass.dmp"


def lsass_read(host: str, at: datetime) -> dict[str, object]:
    return {
        "title": "LSASS Memory Read by Another Process",
        "severity": "high",
        "affected_assets": [f"host:{host}", "user:CORP\\alice"],
        "iocs": ["203.0.113.9"],
        "mitre_techniques": ["T1003.001"],
        "first_seen_at": at,
        "last_seen_at": at + timedelta(seconds=20),
        "process_executable": "C:\\Users\\IEUser\\Desktop\\procdump.exe",
        "entities": {
            "process.executable": "C:\\Users\\IEUser\\Desktop\\procdump.exe",
            "process.command_line": DUMP,
            "process.parent.executable": "C:\\Windows\\explorer.exe",
        },
        "observables": [
            {"type": "ip", "value": "203.0.113.9", "indicator": "true"},
            {"type": "ip", "value": "10.0.0.5", "benign": "private_ip"},
        ],
    }


async def test_summary_states_the_evidence_and_changes_when_an_alert_with_a_new_host_joins(
    db_session: AsyncSession,
) -> None:
    found = await add_case(db_session, make_alert(**lsass_read("PC04", T0)), iocs=["203.0.113.9"])
    service = CaseSummaryService(db_session)
    first = await service.current(found.id)
    assert (first["hosts"], first["users"], first["alert_count"]) == (["PC04"], ["CORP\\alice"], 1)
    [technique] = first["techniques"]
    assert technique["id"] == "T1003.001" and "credential-access" in technique["tactics"]
    assert first["processes"][0] == {
        "executable": "C:\\Users\\IEUser\\Desktop\\procdump.exe",
        "command_line": DUMP,
        "parent": "C:\\Windows\\explorer.exe",
    }
    assert first["indicators"] == ["203.0.113.9"]  # the private address is never an indicator
    assert first["observables"] == [] and "Indicators: 203.0.113.9." in first["text"]
    assert first["event_time_start"].startswith("2019-03-17T19:09:41")
    assert "2019-03-17 19:09" in first["text"] and DUMP in first["text"] and "10.0.0.5" not in first["text"]
    assert (await service.current(found.id))["computed_at"] == first["computed_at"]  # stored, not redone

    joined = make_alert(**lsass_read("DC01", T0 + timedelta(minutes=5)))
    result = await correlate(db_session, joined)
    assert result.case_id == found.id

    second = await service.current(found.id)
    assert second["alert_count"] == 2 and set(second["hosts"]) == {"PC04", "DC01"}
    assert "DC01" in second["text"] and "DC01" not in first["text"]
    assert second["signature"] != first["signature"]
    assert second["event_time_end"].startswith("2019-03-17T19:15:01")


async def test_a_configured_model_words_the_same_facts(llm: ScriptedLLM, db_session: AsyncSession) -> None:
    found = await add_case(db_session, make_alert(**lsass_read("PC04", T0)))
    wording = "procdump read LSASS memory on PC04 as CORP\\alice (T1003.001, credential-access)."
    llm.script = {"case_summary": [lambda _body: {"content": wording}]}
    summary = await CaseSummaryService(db_session).current(found.id)
    assert (summary["backend"], summary["text"], summary["hosts"]) == ("model", wording, ["PC04"])
    [request] = llm.requests
    shown = json.loads(request["messages"][1]["content"])
    assert shown["hosts"] == ["PC04"] and shown["processes"][0]["command_line"] == DUMP


async def test_without_an_answer_from_the_model_the_template_stays(
    llm: ScriptedLLM, db_session: AsyncSession
) -> None:
    found = await add_case(db_session, make_alert(**lsass_read("PC04", T0)))
    llm.script = {"case_summary": [lambda _body: {"status_code": 500}] * 3}
    summary = await CaseSummaryService(db_session).current(found.id)
    assert summary["backend"] == "offline" and DUMP in summary["text"]
    assert "not reachable" in summary["model_error"]


def test_the_sentence_clips_a_long_command_line_the_process_list_keeps_whole() -> None:
    """As on the EVTX samples: a PsExec child's arguments were hundreds of unprintable characters."""
    noise = "\ucdcd" * 600
    proc = {
        "executable": "C:\\Windows\\System32\\mspaint.exe",
        "command_line": f'"mspaint.exe" {noise}',
        "parent": None,
    }
    line = case_summary._process_text(proc)
    assert line == 'Process C:\\Windows\\System32\\mspaint.exe: "mspaint.exe" ….'
    assert case_summary._process_text({**proc, "command_line": DUMP}).endswith(f": {DUMP}.")


async def test_an_observable_is_named_as_an_observable_not_an_indicator(db_session: AsyncSession) -> None:
    """A CDN address bitsadmin downloaded from is evidence to look at, not an indicator (§27.3)."""
    alert = make_alert(**lsass_read("PC04", T0))
    alert.iocs, alert.observables = [], [{"type": "ip", "value": "151.101.0.133", "role": "destination.ip"}]
    found = await add_case(db_session, alert)
    summary = await CaseSummaryService(db_session).current(found.id)
    assert (summary["indicators"], summary["observables"]) == ([], ["151.101.0.133"])
    assert "Notable observables (not indicators): 151.101.0.133." in summary["text"]
    assert "Indicators:" not in summary["text"]


async def test_reading_the_summary_is_not_an_update_of_the_case(db_session: AsyncSession) -> None:
    """Storing the computed summary bumped ``updated_at``: opening a case moved it to the top of the
    list sorted by "Updated", as if someone had changed it."""
    found = await add_case(db_session, make_alert(**lsass_read("PC04", T0)), iocs=["203.0.113.9"])
    case_row = select(CaseModel.updated_at, CaseModel.metadata_).where(CaseModel.id == found.id)
    before, _ = (await db_session.execute(case_row)).one()
    stored = await CaseSummaryService(db_session).current(found.id)
    after, metadata = (await db_session.execute(case_row)).one()
    assert after == before
    assert metadata[case_summary.KEY]["signature"] == stored["signature"]  # it was stored


async def test_a_web_attack_is_told_by_the_client_it_came_from(db_session: AsyncSession) -> None:
    """Web-server logs name no host: "on no named host" told the analyst nothing."""
    probe = {"severity": "high", "src_ip": "192.168.105.64", "first_seen_at": T0, "last_seen_at": T0}
    found = await add_case(db_session, make_alert(title="Cross Site Scripting Strings", **probe))
    summary = await CaseSummaryService(db_session).current(found.id)
    assert summary["source_addresses"] == ["192.168.105.64"]
    assert "UTC (event time) from 192.168.105.64 (no host named)." in summary["text"]


def test_recommendations_follow_what_the_case_holds() -> None:
    """A web case with no indicator and no asset was told to "block the listed indicators" and
    "review the affected assets"."""
    from aurorasoc.cases.snapshot import TUNE_DETECTIONS, recommendations

    web = [{"host": None, "src_ip": "192.168.105.64"}, {"host": None, "src_ip": "192.168.105.64"}]
    advised = recommendations([], [], web)
    assert advised[0].startswith("Search what else 192.168.105.64 sent") and advised[-1] == TUNE_DETECTIONS
    assert not any("indicators" in r or "affected assets" in r for r in advised)
    windows = [{"host": "MSEDGEWIN10", "src_ip": "10.0.2.15"}]
    advised = recommendations(
        [{"type": "domain", "value": "evil.co.uk"}], [{"kind": "host", "name": "PC04"}], windows
    )
    assert advised[:2] == [
        "Block the listed indicators at the perimeter and on endpoints.",
        "Review MSEDGEWIN10, PC04 for persistence and credential exposure.",
    ]
