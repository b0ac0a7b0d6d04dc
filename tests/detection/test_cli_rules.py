"""`aurorasoc rules check|test` against the real SigmaHQ corpus and regression logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import SHARED_DATA, require_data
from typer.testing import CliRunner

from aurorasoc.cli import app
from aurorasoc.cli.rules import BUNDLED_RULES

DATA = SHARED_DATA
runner = CliRunner()


@pytest.fixture(scope="module")
def regression_case() -> tuple[Path, Path, str]:
    """(rule file, evtx file, rule id) of the first process-creation regression case."""
    require_data(DATA)
    info = sorted((DATA / "sigma-regression").rglob("proc_creation_*/info.yml"))[0]
    rule_id = yaml.safe_load(info.read_text())["rule_metadata"][0]["id"]
    rule_file = next(p for p in (DATA / "sigma").rglob("*.yml") if f"id: {rule_id}" in p.read_text())
    return rule_file, next(info.parent.glob("*.evtx")), rule_id


class TestRulesTest:
    def test_fired_exits_0(self, regression_case):
        rule_file, evtx, _ = regression_case
        result = runner.invoke(app, ["rules", "test", str(rule_file), str(evtx)])
        assert result.exit_code == 0, result.output
        assert "fired" in result.output

    def test_by_id_with_json_output(self, regression_case):
        _, evtx, rule_id = regression_case
        result = runner.invoke(
            app, ["rules", "test", rule_id, str(evtx), "--rules", str(DATA / "sigma"), "--json"]
        )
        assert result.exit_code == 0, result.output
        payload = json.loads(result.output)
        assert payload["rule_id"] == rule_id and payload["hits"] and payload["events"] >= len(payload["hits"])

    def test_not_fired_exits_1(self, regression_case):
        _, evtx, _ = regression_case
        result = runner.invoke(
            app, ["rules", "test", str(BUNDLED_RULES / "win_security_log_cleared.yml"), str(evtx)]
        )
        assert result.exit_code == 1
        assert "did not fire" in result.output

    @pytest.mark.parametrize(
        "args",
        [
            ["no-such-rule.yml", "x.log"],
            ["0000-not-an-id", "x.log", "--rules", "."],
        ],
    )
    def test_bad_input_exits_2(self, args):
        result = runner.invoke(app, ["rules", "test", *args])
        assert result.exit_code == 2

    def test_missing_log_exits_2(self, tmp_path):
        result = runner.invoke(
            app,
            [
                "rules",
                "test",
                str(BUNDLED_RULES / "win_security_log_cleared.yml"),
                str(tmp_path / "none.evtx"),
            ],
        )
        assert result.exit_code == 2
        assert "no such log file" in result.output

    def test_unparseable_rule_exits_2(self, tmp_path):
        bad = tmp_path / "bad.yml"
        bad.write_text("title: [unclosed\n")
        log = tmp_path / "a.log"
        log.write_text("hello\n")
        assert runner.invoke(app, ["rules", "test", str(bad), str(log)]).exit_code == 2


class TestRulesCheck:
    def test_reports_compile_ratio_and_unsupported(self):
        result = runner.invoke(app, ["rules", "check", str(BUNDLED_RULES)])
        assert result.exit_code == 0
        # The two brute-force correlation rules compile too (sigma_correlation).
        assert "25 of 25 rules compiled (100.0%); 0 unsupported" in result.output

    def test_missing_dir_exits_2(self, tmp_path):
        assert runner.invoke(app, ["rules", "check", str(tmp_path / "nope")]).exit_code == 2


class TestRulesImportAndList:
    @pytest.mark.slow
    def test_sigmahq_windows_import_then_reimport_and_list(self):
        windows = DATA / "sigma" / "rules" / "windows"
        require_data(windows)
        files = len(list(windows.rglob("*.yml")))
        first = runner.invoke(app, ["rules", "import", str(windows)])
        assert first.exit_code == 0, first.output
        assert first.output.startswith(f"{files} imported, 0 updated, 0 unchanged")
        subset = windows / "powershell"
        again = runner.invoke(app, ["rules", "import", str(subset)])
        assert f"0 imported, 0 updated, {len(list(subset.rglob('*.yml')))} unchanged" in again.output

        listed = runner.invoke(app, ["rules", "list", "--json", "--product", "windows", "--limit", "5"])
        payload = json.loads(listed.output)
        assert payload["total"] == files and len(payload["items"]) == 5
        tagged = runner.invoke(
            app, ["rules", "list", "--json", "--tag", "attack.t1003.001", "--limit", "200"]
        )
        items = json.loads(tagged.output)["items"]
        assert items and all("attack.t1003.001" in item["tags"] for item in items)

    def test_table_and_bad_path(self, tmp_path):
        runner.invoke(app, ["rules", "import", str(BUNDLED_RULES / "win_security_log_cleared.yml")])
        table = runner.invoke(app, ["rules", "list", "--q", "cleared"])
        assert table.exit_code == 0 and "1 rules" in table.output and "Cleared" in table.output
        assert runner.invoke(app, ["rules", "import", str(tmp_path / "nope")]).exit_code == 2
