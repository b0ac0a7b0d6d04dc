"""`aurorasoc serve` as a real process: first-start bootstrap, JSON logs, clean shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from live_server import free_port

pytestmark = pytest.mark.slow


def _start(data_dir: Path, **env: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    # A fresh install: no admin password or JWT key from the test environment.
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AURORA_ADMIN", "JWT_SECRET_KEY"))}
    environ.update({"AURORA_DATA_DIR": str(data_dir), "AURORA_LOG_FORMAT": "json", **env})
    proc = subprocess.Popen(
        [sys.executable, "-m", "aurorasoc.cli", "serve", "--port", str(port)],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # generous: CI machines can be loaded
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"server did not start: {proc.communicate()[0]}")


def _stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> tuple[int, str]:
    proc.send_signal(sig)
    output, _ = proc.communicate(timeout=15)
    return proc.returncode, output


class TestFirstStart:
    def test_generates_admin_password_once_and_it_works(self, tmp_path):
        proc, base = _start(tmp_path / "data")
        try:
            secret_file = tmp_path / "data" / "secrets" / "initial_admin_password"
            password = secret_file.read_text().strip()
            assert len(password) == 20
            assert secret_file.stat().st_mode & 0o777 == 0o600
            resp = httpx.post(f"{base}/api/v1/auth/token", json={"username": "admin", "password": password})
            assert resp.status_code == 200
        finally:
            _, output = _stop(proc)
        assert password in output  # printed once to the console
        assert (tmp_path / "data" / "secrets" / "jwt_secret").stat().st_mode & 0o777 == 0o600

    def test_second_start_creates_no_new_admin(self, tmp_path):
        proc, _ = _start(tmp_path / "data", AURORA_ADMIN_PASSWORD="first-admin-password-1")
        _stop(proc)
        proc, base = _start(tmp_path / "data", AURORA_ADMIN_PASSWORD="other-admin-password-2")
        try:
            ok = httpx.post(
                f"{base}/api/v1/auth/token", json={"username": "admin", "password": "first-admin-password-1"}
            )
            assert ok.status_code == 200
        finally:
            _, output = _stop(proc)
        assert "First start" not in output


class TestLifecycle:
    # One server per signal (a start is ~4 CPU-s): it answers a request, logs it as a JSON line, and
    # stops cleanly.
    @pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
    def test_logs_json_lines_and_shuts_down_cleanly(self, tmp_path, sig):
        proc, base = _start(tmp_path / "data", AURORA_ADMIN_PASSWORD="admin-password-123456")
        httpx.get(f"{base}/api/v1/system/mode")
        code, output = _stop(proc, sig)
        assert code == 0, output
        assert "Traceback" not in output
        records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        access = [r for r in records if r.get("event") == "http_request"]
        assert access and access[0]["status"] == 401 and "request_id" in access[0]

    def test_rejects_unknown_mode(self, tmp_path):
        result = subprocess.run(
            [sys.executable, "-m", "aurorasoc.cli", "serve", "--mode", "chaos"],
            env={**os.environ, "AURORA_DATA_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2
        assert "unknown mode" in result.stderr
