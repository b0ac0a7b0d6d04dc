"""`aurorasoc ingest`: real EVTX samples and SigmaHQ rules in, alerts and a summary out."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from conftest import SHARED_DATA, require_data
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from aurorasoc.cli import app
from aurorasoc.core.db import dispose_engine, get_session_factory
from aurorasoc.core.models import AlertModel, CaseModel, LogSourceModel, SiemLogModel, TimelineEntryModel
from aurorasoc.detection.models import DetectionRuleModel
from aurorasoc.siem.parsers import ParseError, parse_bytes

DATA = SHARED_DATA
SAMPLES = DATA / "evtx-attack-samples"
TACTIC = SAMPLES / "Discovery"
SIGMAHQ_WINDOWS = DATA / "sigma" / "rules" / "windows"
MULTI_CHUNK = SAMPLES / "AutomatedTestingTools" / "PanacheSysmon_vs_AtomicRedTeam01.evtx"
ONE_CHUNK = SAMPLES / "Persistence" / "Network_Service_Guest_added_to_admins_4732.evtx"
ACCESS_LOG = SAMPLES / "Command and Control" / "web_attack_and_isp_webshell_localhost_access_log.txt"
runner = CliRunner()


def db_rows(model: type[Any]) -> list[Any]:
    """Read the CLI's database (the temp SQLite file from settings) after the command ran."""

    async def _read() -> list[Any]:
        try:
            async with get_session_factory()() as session:
                return list((await session.scalars(select(model))).all())
        finally:
            await dispose_engine()

    return asyncio.run(_read())


def db_count(model: type[Any]) -> int:
    async def _count() -> int:
        try:
            async with get_session_factory()() as session:
                return int(await session.scalar(select(func.count()).select_from(model)) or 0)
        finally:
            await dispose_engine()

    return asyncio.run(_count())


def summary_value(output: str, name: str) -> int:
    line = next(line for line in output.splitlines() if f" {name} " in line)
    return int(line.split("│")[2].strip().replace(",", ""))


class TestIngestTacticFolder:
    def test_sigmahq_rules_raise_alerts_and_print_a_summary(self):
        require_data(TACTIC, SIGMAHQ_WINDOWS)
        result = runner.invoke(app, ["ingest", str(TACTIC), "--rules", str(SIGMAHQ_WINDOWS)])
        assert result.exit_code == 0, result.output
        assert "Ingest summary" in result.output and "events/s" in result.output
        alerts = db_rows(AlertModel)
        assert summary_value(result.output, "alerts created") == len(alerts) > 0
        assert summary_value(result.output, "files") == len(list(TACTIC.rglob("*.evtx")))
        assert summary_value(result.output, "events") == db_count(SiemLogModel)
        assert any(a.metadata_["rule_uid"] and a.mitre_techniques for a in alerts)
        assert all(a.source == "windows" for a in alerts)
        assert "hits: " in result.output

    def test_alerts_are_filed_into_cases(self):
        """A one-shot ingest runs the alert pipeline too: correlated alerts land in cases."""
        require_data(SAMPLES)
        result = runner.invoke(app, ["ingest", str(SAMPLES / "Credential Access"), str(TACTIC)])
        assert result.exit_code == 0, result.output
        cases = db_rows(CaseModel)
        filed = [a for a in db_rows(AlertModel) if a.case_id is not None]
        assert summary_value(result.output, "cases created") == len(cases) > 0
        assert summary_value(result.output, "alerts in cases") == len(filed) > 0
        assert {a.case_id for a in filed} <= {c.id for c in cases}
        # Spec §27.4: only entity, indicator or tactic-chain links, never technique or source alone.
        reasons = [
            r
            for t in db_rows(TimelineEntryModel)
            if t.action == "alert_correlated"
            for r in t.data["reasons"]
        ]
        assert all(r["kind"] in ("shared_entity", "shared_ioc", "tactic_chain") for r in reasons)
        # Event time (spec §27.1): the samples' alerts lie in 2019-2022, none is stamped with today.
        assert all(a.last_seen_at.year < 2023 and a.first_seen_at <= a.last_seen_at for a in filed)

    def test_repeat_ingest_is_idempotent(self):
        """Spec §27.5: events, alerts and every occurrence count stay as they were."""
        require_data(ONE_CHUNK)
        first = runner.invoke(app, ["ingest", str(ONE_CHUNK)])
        before = {a.id: a.occurrence_count for a in db_rows(AlertModel)}
        logs_before = len(db_rows(SiemLogModel))
        second = runner.invoke(app, ["ingest", str(ONE_CHUNK)])
        after = {a.id: a.occurrence_count for a in db_rows(AlertModel)}
        assert first.exit_code == second.exit_code == 0, second.output
        assert summary_value(second.output, "alerts created") == 0
        assert summary_value(second.output, "dedup hits") == 0
        skipped = summary_value(second.output, "already stored")
        assert summary_value(second.output, "events") == 0
        assert skipped == summary_value(first.output, "events") > 0
        assert after == before and len(before) > 0
        assert len(db_rows(SiemLogModel)) == logs_before > 0

    def test_identical_access_log_lines_stay_separate_requests_and_reingest_adds_none(self):
        """The real webshell access log repeats byte-identical lines (same client, same second):
        each is a request, so all 2,661 (those logged verbatim too) are stored once, and a second ingest
        stores nothing."""
        require_data(ACCESS_LOG)
        first = runner.invoke(app, ["ingest", str(ACCESS_LOG)])
        stored = db_count(SiemLogModel)
        second = runner.invoke(app, ["ingest", str(ACCESS_LOG)])
        assert summary_value(first.output, "events") == 2661 and stored == 2661, first.output
        assert db_count(SiemLogModel) == stored and summary_value(second.output, "alerts created") == 0


class TestTheServersRules:
    """`aurorasoc ingest` runs the rules the server runs: the stored ones, as enabled in the console."""

    IMPORTED = SIGMAHQ_WINDOWS / "builtin/security/win_security_user_added_to_local_administrators.yml"

    def test_imported_rules_run_and_a_rule_disabled_in_the_console_does_not(self, tmp_path):
        require_data(ONE_CHUNK, self.IMPORTED)
        assert runner.invoke(app, ["rules", "import", str(self.IMPORTED)]).exit_code == 0
        quiet = tmp_path / "quiet.ndjson"  # a first run stores the bundled pack, as `serve` does at start
        quiet.write_text(json.dumps({"@timestamp": "2026-01-01T00:00:00Z", "message": "hello"}) + "\n")
        assert runner.invoke(app, ["ingest", str(quiet)]).exit_code == 0
        _set_enabled("Member Added to Local Administrators", False)

        result = runner.invoke(app, ["ingest", str(ONE_CHUNK)])
        assert result.exit_code == 0, result.output
        assert "hits: User Added to Local Administrator" in result.output  # imported: runs
        assert "Member Added to Local" not in result.output  # disabled: does not
        assert {a.title for a in db_rows(AlertModel)} == {"User Added to Local Administrator Group"}


class TestCorrelationFailure:
    def test_a_failing_case_correlation_is_reported_and_does_not_hold_the_import(self, monkeypatch):
        """The server's retry schedule (five tries, backing off to 8 s, one alert at a time) held an
        import whose correlation kept failing for ~15 s per alert event."""
        require_data(ONE_CHUNK)

        async def broken(messages: Any, bus: Any) -> Any:
            raise RuntimeError("correlation is broken")

        monkeypatch.setattr("aurorasoc.cli.ingest_files.handle_alert_events", broken)
        result = runner.invoke(app, ["ingest", str(ONE_CHUNK)])
        assert result.exit_code == 1, result.output
        row = next(line for line in result.output.splitlines() if " correlation failed " in line)
        assert "2 alert event(s) not filed" in row
        assert "RuntimeError: correlation" in result.output and "could not be filed in cases" in result.output
        assert db_rows(AlertModel) and not db_rows(CaseModel)  # the alerts are kept


def _set_enabled(title: str, enabled: bool) -> None:
    async def _update() -> None:
        try:
            async with get_session_factory()() as session:
                rule = DetectionRuleModel
                toggle = update(rule).where(rule.title == title).values(enabled=enabled)
                changed = await session.execute(toggle)
                assert changed.rowcount == 1  # type: ignore[attr-defined]
                await session.commit()
        finally:
            await dispose_engine()

    asyncio.run(_update())


class TestDamagedInput:
    def test_truncated_evtx_keeps_only_the_events_before_the_damage(self, tmp_path):
        require_data(MULTI_CHUNK)
        data = MULTI_CHUNK.read_bytes()
        truncated = tmp_path / "half.evtx"
        truncated.write_bytes(data[: len(data) // 2])
        readable = [e for e in parse_bytes(truncated.read_bytes()) if not isinstance(e, ParseError)]
        result = runner.invoke(app, ["ingest", str(truncated), "--no-bundled"])
        assert result.exit_code == 0, result.output
        assert "truncated EVTX" in result.output and "half.evtx:byte" in result.output.replace("\n", "")
        rows = db_rows(SiemLogModel)
        assert len(rows) == len(readable) > 0
        assert all(r.format == "evtx" and r.event_id and r.host and json.loads(r.raw or "") for r in rows)

    def test_evtx_truncated_inside_its_only_chunk_fails(self, tmp_path):
        require_data(ONE_CHUNK)
        data = ONE_CHUNK.read_bytes()
        truncated = tmp_path / "broken.evtx"
        truncated.write_bytes(data[: len(data) // 2])
        result = runner.invoke(app, ["ingest", str(truncated)])
        assert result.exit_code == 1
        assert "could not be parsed at all" in result.output
        assert db_count(SiemLogModel) == 0 and db_count(AlertModel) == 0

    def test_a_nul_in_a_request_is_repaired_not_the_end_of_the_import(self, tmp_path):
        """On PostgreSQL one NUL (``GET /\\x00.jsp`` logged verbatim) refused the batch and ended the
        whole ``aurorasoc ingest``; the HTTP and stream lanes already repaired events, the CLI now too."""
        log = tmp_path / "access.log"
        log.write_bytes(
            b'192.168.105.83 - - [11/Jul/2018:09:32:26 +0300] "GET /\x00.jsp HTTP/1.1" 400 -\n'
            b'192.168.105.83 - - [11/Jul/2018:09:32:27 +0300] "GET / HTTP/1.1" 200 5\n'
        )
        result = runner.invoke(app, ["ingest", str(log), "--no-bundled"])
        assert result.exit_code == 0, result.output
        assert summary_value(result.output, "repaired") == 1 and summary_value(result.output, "events") == 2
        mended = next(r for r in db_rows(SiemLogModel) if "aurora.repaired" in r.fields)
        assert mended.message == "GET /.jsp HTTP/1.1 400" and "\x00" not in (mended.raw or "")

    def test_corrupt_ndjson_line_is_reported_and_skipped(self, tmp_path):
        log = tmp_path / "app.ndjson"
        log.write_text(
            '{"message": "one", "host": "h1"}\n{"message": "tw\n{"message": "three", "host": "h1"}\n'
        )
        result = runner.invoke(app, ["ingest", str(log), "--no-bundled"])
        assert result.exit_code == 0, result.output
        assert "app.ndjson:line 2" in result.output.replace("\n", "")
        assert sorted(r.message for r in db_rows(SiemLogModel)) == ["one", "three"]
        [source] = db_rows(LogSourceModel)
        assert (source.name, source.kind, source.events_total, source.parse_errors) == (
            "app.ndjson",
            "import",  # stored once: never "stale" (siem.sources.effective_status)
            2,
            1,
        )

    def test_entirely_corrupt_ndjson_fails(self, tmp_path):
        log = tmp_path / "bad.ndjson"
        log.write_text('{"message": \n{oops\n')
        result = runner.invoke(app, ["ingest", str(log), "--format", "ndjson", "--no-bundled"])
        assert result.exit_code == 1
        assert "bad.ndjson" in result.output and db_count(SiemLogModel) == 0


class TestBadArguments:
    def test_missing_path(self, tmp_path):
        result = runner.invoke(app, ["ingest", str(tmp_path / "nope.evtx")])
        assert result.exit_code == 2
        assert "no such file" in result.output

    def test_unknown_format(self, tmp_path):
        log = tmp_path / "a.log"
        log.write_text("hello\n")
        result = runner.invoke(app, ["ingest", str(log), "--format", "xml"])
        assert result.exit_code == 2
        assert "unknown log format" in result.output

    def test_directory_without_logs(self, tmp_path):
        (tmp_path / "notes.md").write_text("nothing to ingest")
        result = runner.invoke(app, ["ingest", str(tmp_path)])
        assert result.exit_code == 2

    def test_no_paths(self):
        assert runner.invoke(app, ["ingest"]).exit_code == 2
