"""Tests for the playbook schema, guard conditions, templates, storage/versioning and the CLI."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aurorasoc.cli import app
from aurorasoc.soar import conditions, templating
from aurorasoc.soar.conditions import ConditionError
from aurorasoc.soar.loader import SHOWCASE_DIR, showcase_playbooks
from aurorasoc.soar.playbook import PlaybookValidationError, parse_playbook
from aurorasoc.soar.playbooks import PlaybookService

VALID = textwrap.dedent(
    """\
    name: contain-host
    description: Isolate the host from the alert, then tell the SOC.
    severity_filter: high
    enabled: true
    requires_approval: false
    mitre_techniques: [T1059]
    steps:
      - name: isolate
        action: isolate_host
        action_class: actuate
        requires_approval: true
        parameters:
          host: "{{ .alert.hosts }}"
        timeout: 60
        rollback_action: unisolate_host
      - name: tell
        action: notify
        action_class: write_internal
        condition: previous.isolate.status == 'completed'
        parameters:
          message: "isolated {{ .alert.hosts }}"
        timeout: 10
    """
)


def _problems(text: str) -> list[tuple[str, int | None]]:
    with pytest.raises(PlaybookValidationError) as invalid:
        parse_playbook(text)
    return [(e["field"], e["line"]) for e in invalid.value.errors]


class TestSchema:
    def test_valid_playbook_parses(self):
        definition = parse_playbook(VALID)
        assert definition.name == "contain-host"
        assert [s.name for s in definition.steps] == ["isolate", "tell"]

    def test_unknown_key_is_rejected_at_its_line(self):
        text = VALID.replace("    timeout: 10\n", "    timeout: 10\n    retries: 3\n")
        assert _problems(text) == [("steps[1].retries", 23)]

    def test_missing_field_points_at_the_step(self):
        text = VALID.replace("    timeout: 60\n", "")
        assert _problems(text) == [("steps[0].timeout", 8)]

    def test_bad_name_and_timeout_range(self):
        text = VALID.replace("name: contain-host", "name: Contain_Host").replace(
            "timeout: 10", "timeout: 7200"
        )
        assert _problems(text) == [("name", 1), ("steps[1].timeout", 22)]

    def test_registry_rules_are_checked(self):
        text = (
            VALID.replace("action: notify", "action: launch_missiles")
            .replace("action_class: actuate", "action_class: read")
            .replace("[T1059]", "[T1059, T9999]")
        )
        problems = _problems(text)
        assert ("mitre_techniques[1]", 6) in problems
        assert ("steps[0].action_class", 10) in problems
        assert ("steps[1].action", 17) in problems

    def test_reversible_classes_need_a_rollback_and_irreversible_needs_approval(self):
        no_rollback = VALID.replace("    rollback_action: unisolate_host\n", "")
        assert _problems(no_rollback) == [("steps[0].rollback_action", 8)]
        irreversible = VALID.replace("rollback_action: unisolate_host", "rollback_action: none").replace(
            "requires_approval: true", "requires_approval: false"
        )
        assert ("steps[0].requires_approval", 11) in _problems(irreversible)

    def test_condition_may_only_read_earlier_steps(self):
        text = VALID.replace("previous.isolate.status", "previous.tell.status")
        assert _problems(text) == [("steps[1].condition", 19)]

    def test_duplicate_step_names(self):
        text = VALID.replace("name: tell", "name: isolate").replace(
            "previous.isolate.status == 'completed'", "alert.severity == 'high'"
        )
        problems = _problems(text)
        assert ("steps[1].name", 16) in problems

    def test_yaml_syntax_error_has_a_line(self):
        assert _problems("name: x\nsteps: [\n  - a: b\n") == [("<document>", 3)]

    def test_every_problem_is_reported(self):
        text = VALID.replace("action: notify", "action: nope").replace(
            "{{ .alert.hosts }}", "{{ .secrets.key }}"
        )
        assert len(_problems(text)) == 3  # unknown action + two unknown template roots


class TestConditions:
    @pytest.mark.parametrize(
        "source",
        [
            "__import__('os').system('id')",
            "alert.__class__",
            "alert._private",
            "().__class__.__bases__",
            "[x for x in alert]",
            "lambda: 1",
            "alert.title.upper()",
            "open('/etc/passwd')",
            "os.environ",
        ],
    )
    def test_unsafe_expressions_are_rejected(self, source):
        with pytest.raises(ConditionError):
            conditions.parse_condition(source)

    def test_evaluates_over_the_context(self):
        ctx = {
            "alert": {"severity": "high", "iocs": ["10.0.0.5"], "occurrence_count": 6},
            "previous": {"isolate": {"status": "completed"}},
            "asset": {"criticality": "high"},
        }
        assert conditions.evaluate(
            "previous.isolate.status == 'completed' and alert.severity in ['high']", ctx
        )
        assert conditions.evaluate("'10.0.0.5' in alert.iocs and alert.occurrence_count >= 5", ctx)
        assert not conditions.evaluate("not asset.criticality == 'high' or alert['severity'] == 'low'", ctx)
        assert not conditions.evaluate("alert.missing.deeper > 3", ctx)  # absent → None, never an ordering


class TestTemplating:
    CTX = {"alert": {"iocs": ["10.0.0.5", "10.0.0.6"], "title": "Brute force", "count": 3}}

    def test_whole_value_template_keeps_its_type(self):
        assert templating.render({"ip": "{{ .alert.iocs }}", "n": "{{.alert.count}}"}, self.CTX) == {
            "ip": ["10.0.0.5", "10.0.0.6"],
            "n": 3,
        }

    def test_embedded_templates_interpolate(self):
        rendered = templating.render(["{{ .alert.title }} from {{ .alert.iocs }}"], self.CTX)
        assert rendered == ["Brute force from 10.0.0.5, 10.0.0.6"]

    def test_missing_path_is_an_error(self):
        with pytest.raises(templating.TemplateError, match=r"\.alert\.host does not exist"):
            templating.render("{{ .alert.host }}", self.CTX)


class TestShowcase:
    def test_six_showcase_playbooks_are_valid(self):
        names = {p.definition.name for p in showcase_playbooks()}
        assert names == {
            "malware-response", "phishing-response", "ransomware-emergency",
            "brute-force-mitigation", "data-exfiltration", "cps-anomaly",
        }  # fmt: skip

    async def test_import_showcase_disabled_then_idempotent(self, db_session):
        service = PlaybookService(db_session)
        first = await service.import_showcase(actor="tester")
        again = await service.import_showcase(actor="tester")
        stored, total = await service.list()
        assert (first.imported, again.unchanged, total) == (6, 6, 6)
        assert not any(p.enabled for p in stored)


class TestVersions:
    async def test_changed_definition_bumps_the_version(self, db_session):
        service = PlaybookService(db_session)
        playbook = await service.create(parse_playbook(VALID), source_yaml=VALID, actor="tester")
        await service.update(playbook, parse_playbook(VALID), source_yaml=VALID)
        assert playbook.version == 1  # unchanged definition, same version
        edited = VALID.replace("timeout: 10", "timeout: 20")
        await service.update(playbook, parse_playbook(edited), source_yaml=edited)
        assert playbook.version == 2 and playbook.definition["steps"][1]["timeout"] == 20

    async def test_duplicate_name_is_a_conflict(self, db_session):
        service = PlaybookService(db_session)
        await service.create(parse_playbook(VALID), source_yaml=None, actor="tester")
        with pytest.raises(Exception, match="exists") as duplicate:
            await service.create(parse_playbook(VALID), source_yaml=None, actor="tester")
        assert duplicate.value.code == "duplicate_playbook"


class TestCli:
    def test_validate_reports_field_and_line(self, tmp_path: Path):
        bad = tmp_path / "bad.yaml"
        bad.write_text(VALID.replace("timeout: 60", "timeout: -1"))
        result = CliRunner().invoke(app, ["playbooks", "validate", str(bad)])
        assert result.exit_code == 1
        assert f"{bad}:14: steps[0].timeout" in result.output.replace("\n", "")

    def test_validate_accepts_a_showcase_file(self):
        result = CliRunner().invoke(app, ["playbooks", "validate", str(SHOWCASE_DIR / "cps-anomaly.yaml")])
        assert result.exit_code == 0 and "valid playbook cps-anomaly" in result.output

    def test_import_directory_and_showcase(self, tmp_path: Path):
        (tmp_path / "pb").mkdir()
        (tmp_path / "pb" / "contain.yaml").write_text(VALID)
        (tmp_path / "pb" / "broken.yml").write_text("name: broken\n")
        imported = CliRunner().invoke(app, ["playbooks", "import", str(tmp_path / "pb")])
        showcase = CliRunner().invoke(app, ["playbooks", "import-showcase"])
        assert imported.exit_code == 1, imported.output  # one file was invalid
        assert "1 imported, 0 updated, 0 unchanged, 1 invalid" in imported.output
        assert showcase.exit_code == 0 and "6 imported" in showcase.output
