"""Run a real ``aurorasoc serve`` process on a free loopback port (fuzzing, benchmarks)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
ADMIN_PASSWORD = "live-server-password-0123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def live_server(
    data_dir: Path, *, pin_core: int | None = None, serve_args: Sequence[str] = (), **env: str
) -> Iterator[str]:
    """Yield the base URL of a freshly migrated server whose admin password is ADMIN_PASSWORD."""
    proc, base = spawn_server(data_dir, pin_core=pin_core, serve_args=serve_args, **env)
    try:
        yield base
    finally:
        _stop(proc)


def spawn_server(
    data_dir: Path, *, pin_core: int | None = None, serve_args: Sequence[str] = (), **env: str
) -> tuple[subprocess.Popen[bytes], str]:
    """Start a server and wait until it answers; the caller stops the process.

    ``serve_args`` are extra ``aurorasoc serve`` options (``--no-workers`` for the scaled-out API)."""
    port = free_port()
    environ = {
        **os.environ,
        "AURORA_DATA_DIR": str(data_dir),
        "AURORA_MODE": "real",
        "AURORA_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "AURORA_RATE_LIMIT_REQUESTS": "100000000",
        "AURORA_RATE_LIMIT_WRITES": "100000000",
        "AURORA_RATE_LIMIT_INGEST": "100000000",
        "AURORA_RATE_LIMIT_AUTH": "100000000",
        "AURORA_LOG_LEVEL": "WARNING",
        "AURORA_SCHEDULER_ENABLED": "false",
        **env,
    }
    cmd = [sys.executable, "-m", "aurorasoc.cli", "serve", "--port", str(port), *serve_args]
    if pin_core is not None and Path("/usr/bin/taskset").exists():
        cmd = ["taskset", "-c", str(pin_core), *cmd]
    proc = subprocess.Popen(cmd, env=environ, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, proc)
    except BaseException:
        _stop(proc)
        raise
    return proc, base


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL: the server's own shutdown is tested in tests/cli/test_serve.py; here a
    slow one (a loaded CI machine took over 10 s) must not fail the test that borrowed the server."""
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90  # generous: CI machines can be loaded
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not become healthy within 90 s")


def admin_token(base: str) -> str:
    resp = httpx.post(
        f"{base}/api/v1/auth/token", json={"username": "admin", "password": ADMIN_PASSWORD}, timeout=10
    )
    resp.raise_for_status()
    return str(resp.json()["access_token"])
