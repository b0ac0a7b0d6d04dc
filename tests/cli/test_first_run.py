"""First run as the README promises (issue #16 scope 5): --version, doctor, the quick start verbatim."""

from __future__ import annotations

import json
import os
import re
import subprocess
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import ROOT, TEST_JWT_SECRET, require_data, require_service
from test_rule_packs import SECURITY, build_zip, served  # noqa: F401 - the fixture is used by name
from typer.testing import CliRunner

from aurorasoc import __version__
from aurorasoc.cli import app
from aurorasoc.core.config import reset_settings

REPO = ROOT
runner = CliRunner()


def doctor_report(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:  # type: ignore[type-arg]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    assert all(value not in result.stdout for key, value in env.items() if key.endswith("_KEY"))
    return json.loads(result.stdout)


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"aurorasoc {__version__}"


def test_doctor_names_the_secrets_that_are_set_never_their_values(monkeypatch: pytest.MonkeyPatch) -> None:
    report = doctor_report(
        monkeypatch, AURORA_LLM_API_KEY="sk-do-not-print-me", AURORA_NATS_URL="nats://127.0.0.1:1"
    )
    assert report["secrets"]["JWT_SECRET_KEY"] == "set" and report["secrets"]["AURORA_LLM_API_KEY"] == "set"
    assert report["secrets"]["API_SERVICE_KEY"] == "not set"
    assert TEST_JWT_SECRET not in json.dumps(report)
    assert report["checks"]["nats"].startswith("down") and report["checks"]["mqtt"] == "not configured"
    assert report["checks"]["llm"] == "not configured"


class _Models(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"data": [{"id": "local-model"}]}' if self.path.endswith("/models") else b"{}"
        self.send_response(200 if self.path.endswith("/models") else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.integration
def test_doctor_checks_every_configured_service(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    from http.server import ThreadingHTTPServer

    mqtt = urlparse(require_service("mqtt"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Models)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        report = doctor_report(
            monkeypatch,
            AURORA_REDIS_URL=require_service("redis"),
            AURORA_NATS_URL=require_service("nats"),
            MQTT_ENABLED="true",
            MQTT_HOST=mqtt.hostname or "127.0.0.1",
            MQTT_PORT=str(mqtt.port or 1883),
            MQTT_TLS="false",
            AURORA_LLM_BASE_URL=f"http://127.0.0.1:{server.server_address[1]}/v1",
        )
    finally:
        server.shutdown()
    assert report["checks"] == {"database": "up", "redis": "up", "nats": "up", "mqtt": "up", "llm": "up"}


def quick_start_commands() -> list[str]:
    """The README's quick-start block, line by line, comments stripped."""
    text = (REPO / "README.md").read_text()
    block = re.search(r"## Quick start\n.*?```sh\n(.*?)```", text, re.S)
    assert block is not None, "README has no quick-start block"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


@pytest.mark.slow
def test_the_readme_quick_start_runs_verbatim_in_a_fresh_checkout(  # type: ignore[no-untyped-def]
    tmp_path: Path,
    served,  # noqa: F811 - the fixture imported above
) -> None:
    require_data(SECURITY)
    root, base = served
    build_zip(root / "sigma_all_rules.zip", SECURITY, limit=20)
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", str(REPO), str(checkout)], check=True)
    commands = quick_start_commands()
    assert commands[:2] == ["make install", ". .venv/bin/activate"] and "aurorasoc rules update" in commands
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AURORA_", "VIRTUAL_ENV"))},
        "AURORA_DATA_DIR": str(tmp_path / "data"),
        "AURORA_RULE_PACK_SOURCE": f"{base}/sigma_all_rules.zip",  # the one thing a test may not fetch
    }
    script = "set -e\n" + "\n".join(f"echo '>>> {c}'\n{c}" for c in commands)
    done = subprocess.run(
        ["bash", "-c", script], cwd=checkout, env=env, capture_output=True, text=True, timeout=1500
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert f"aurorasoc {__version__}" in done.stdout
    assert "installed pack sigmahq version 1: 20 of 20 rules compiled" in done.stdout
    assert "Ingest summary" in done.stdout and "sigmahq" in done.stdout.split(">>> aurorasoc rules packs")[1]
