"""Tests for the ``aurorasoc`` command line (users, apikeys, migrate, doctor).

The CLI drives its own event loop (``asyncio.run``), so these tests are plain sync functions.
Each runs against the temp ``AURORA_DATA_DIR`` SQLite database from the autouse fixture.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import Result
from conftest import TEST_JWT_SECRET, TEST_PASSWORD
from typer.testing import CliRunner

from aurorasoc.cli import app

KEY_LINE = re.compile(r"^aurora_[0-9a-f]{64}$", re.MULTILINE)


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


def _invoke(cli: CliRunner, *args: str, password: str | None = None) -> Result:
    return cli.invoke(app, list(args), input=None if password is None else password + "\n")


def _create_user(
    cli: CliRunner, username: str, role: str = "analyst", password: str = TEST_PASSWORD
) -> Result:
    return _invoke(cli, "users", "create", username, "--role", role, "--password-stdin", password=password)


def _one_line_error(result: Result) -> str:
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


class TestUsersCommands:
    def test_create_and_list(self, cli):
        result = _create_user(cli, "alice", "analyst")
        assert result.exit_code == 0, result.output
        assert "created user alice with role analyst" in result.stdout
        listing = _invoke(cli, "users", "list")
        assert listing.exit_code == 0
        assert re.search(r"alice\s.*analyst\s.*local\s.*active", listing.stdout)

    def test_duplicate_name_is_a_one_line_error(self, cli):
        _create_user(cli, "alice")
        assert "already exists" in _one_line_error(_create_user(cli, "alice"))

    def test_unknown_role_is_rejected(self, cli):
        assert "unknown role 'root'" in _one_line_error(_create_user(cli, "bob", role="root"))

    def test_short_password_is_rejected(self, cli):
        assert "at least 12 characters" in _one_line_error(_create_user(cli, "bob", password="short"))

    def test_set_role_and_disable(self, cli):
        _create_user(cli, "alice", "analyst")
        assert _invoke(cli, "users", "set-role", "alice", "viewer").exit_code == 0
        assert _invoke(cli, "users", "disable", "alice").exit_code == 0
        assert re.search(r"alice\s.*viewer\s.*local\s.*disabled", _invoke(cli, "users", "list").stdout)

    def test_last_admin_cannot_be_demoted_or_disabled(self, cli):
        _create_user(cli, "root-admin", "admin")
        demote = _invoke(cli, "users", "set-role", "root-admin", "viewer")
        assert "last active admin" in _one_line_error(demote)
        assert "last active admin" in _one_line_error(_invoke(cli, "users", "disable", "root-admin"))

    def test_unknown_user_is_a_one_line_error(self, cli):
        assert "does not exist" in _one_line_error(_invoke(cli, "users", "disable", "ghost"))


class TestApiKeyCommands:
    def test_create_prints_the_raw_key_once(self, cli):
        result = _invoke(cli, "apikeys", "create", "--service", "forwarder", "--days", "30")
        assert result.exit_code == 0, result.output
        assert len(KEY_LINE.findall(result.stdout)) == 1
        assert "will not be shown again" in result.stderr

    def test_list_shows_metadata_never_the_key(self, cli):
        created = _invoke(cli, "apikeys", "create", "--service", "forwarder", "--perm", "alerts:read")
        raw = KEY_LINE.search(created.stdout).group(0)
        listing = _invoke(cli, "apikeys", "list")
        assert listing.exit_code == 0
        assert "forwarder" in listing.stdout and "alerts:read" in listing.stdout
        assert raw not in listing.stdout

    def test_unknown_permission_is_rejected(self, cli):
        result = _invoke(cli, "apikeys", "create", "--service", "x", "--perm", "alerts:nuke")
        assert "unknown permissions: alerts:nuke" in _one_line_error(result)

    def test_revoke(self, cli):
        _invoke(cli, "apikeys", "create", "--service", "forwarder")
        key_id, _label, service, state, *_ = (
            _invoke(cli, "apikeys", "list").stdout.splitlines()[1].split("\t")
        )
        assert (service, state) == ("forwarder", "active")
        assert _invoke(cli, "apikeys", "revoke", key_id).exit_code == 0
        assert _invoke(cli, "apikeys", "list").stdout.splitlines()[1].split("\t")[3] == "revoked"
        assert "already revoked" in _one_line_error(_invoke(cli, "apikeys", "revoke", key_id))

    def test_revoke_bad_id_is_a_one_line_error(self, cli):
        assert "not a key id" in _one_line_error(_invoke(cli, "apikeys", "revoke", "nope"))


class TestMaintenanceCommands:
    def test_migrate_reaches_head(self, cli):
        result = _invoke(cli, "migrate")
        assert result.exit_code == 0, result.output
        assert "database at head" in result.stdout

    def test_doctor_json_masks_the_jwt_secret(self, cli):
        result = _invoke(cli, "doctor", "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["settings"]["auth"]["jwt_secret_key"] == "********"
        assert report["checks"]["database"] == "up"
        assert TEST_JWT_SECRET not in result.stdout


class TestLazyCommands:
    def test_starting_the_cli_loads_no_command_stack(self):
        import subprocess
        import sys

        heavy = ("sqlalchemy", "openai", "aiomqtt", "alembic", "fastapi")
        probe = f"import sys, aurorasoc.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "[]"

    def test_help_lists_every_command_and_unknown_ones_fail(self, cli: CliRunner):
        from aurorasoc.cli import COMMANDS

        listed = _invoke(cli, "--help")
        assert listed.exit_code == 0
        for name in [*COMMANDS, "migrate"]:
            assert re.search(rf"│ {name} ", listed.output), name
        unknown = _invoke(cli, "no-such-command")
        assert unknown.exit_code == 2 and "No such command" in unknown.output
