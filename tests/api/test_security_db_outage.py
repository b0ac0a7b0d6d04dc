"""Issue 18 finding 4, replayed on a real PostgreSQL: the outage is known from the first failed query.

Unlike ``test_db_outage.py`` the probe cache keeps its production TTL, which is what let the
attack see ~8 s of 500s while ``/health/ready`` said ``up`` and a logged-out token worked again.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from httpx import ASGITransport, AsyncClient
from test_db_outage import TcpProxy, outage_db  # noqa: F401  (fixture)

from aurorasoc.core import db, runtime
from aurorasoc.core.auth import create_token
from aurorasoc.core.vocabulary import Role

pytestmark = pytest.mark.integration


@pytest.fixture
async def prod_ttl_client(outage_db, monkeypatch) -> AsyncIterator[AsyncClient]:  # noqa: F811
    from aurorasoc.api.main import create_app

    monkeypatch.setattr(db, "PROBE_TTL_SECONDS", 5.0)
    runtime.reset_mode()
    app = create_app()
    transport = ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        yield client
    runtime.reset_mode()


async def _login(client: AsyncClient) -> dict[str, str]:
    resp = await client.post(
        "/api/v1/auth/token", json={"username": "analyst", "password": "correct horse battery"}
    )
    client.cookies.clear()
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


class TestFinding4DatabaseLoss:
    async def test_first_request_after_the_cut_is_503_and_ready_says_down(self, prod_ttl_client, outage_db):  # noqa: F811
        client = prod_ttl_client
        headers = {"Authorization": f"Bearer {create_token('analyst', Role.ANALYST)}"}
        assert (await client.get("/api/v1/alerts", headers=headers)).status_code == 200
        assert (await client.get("/health/ready")).status_code == 200  # cache primed: "up"
        await outage_db.cut()
        for method, url, body in (
            ("GET", "/api/v1/alerts", None),
            ("POST", "/api/v1/auth/token", {"username": "analyst", "password": "correct horse battery"}),
        ):
            resp = await client.request(method, url, json=body, headers=headers)
            assert resp.status_code == 503, (url, resp.text)
            assert resp.json()["detail"]["code"] == "database_unavailable"
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["database"] == "down" and ready.json()["status"] == "degraded"

    async def test_ready_reports_the_outage_even_as_the_first_call(self, prod_ttl_client, outage_db):  # noqa: F811
        assert (await prod_ttl_client.get("/health/ready")).status_code == 200
        await outage_db.cut()
        assert (await prod_ttl_client.get("/health/ready")).status_code == 503

    async def test_logged_out_token_stays_refused_during_the_outage(self, prod_ttl_client, outage_db):  # noqa: F811
        client = prod_ttl_client
        headers = await _login(client)
        assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
        await outage_db.cut()
        resp = await client.get("/api/v1/users/me", headers=headers)
        assert resp.status_code == 401

    async def test_unverifiable_token_fails_closed_in_real_mode(self, prod_ttl_client, outage_db):  # noqa: F811
        """Another replica may have revoked it: without the database nobody can tell."""
        headers = {"Authorization": f"Bearer {create_token('analyst', Role.ANALYST)}"}
        await outage_db.cut()
        resp = await prod_ttl_client.get("/api/v1/users/me", headers=headers)
        assert resp.status_code == 503


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["dummy", "real"])
def test_serve_starts_degraded_without_a_database(tmp_path: Path, mode: str) -> None:
    """``serve`` against a closed port: it starts, ``/health`` says degraded, dummy serves showcase."""
    port, dead = _free_port(), _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AURORA_DATA_DIR": str(tmp_path / "data"),
        "AURORA_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{dead}/gone",
        "AURORA_MODE": mode,
        "AURORA_SCHEDULER_ENABLED": "false",
        "JWT_SECRET_KEY": "k" * 40,
    }
    cmd = [sys.executable, "-m", "aurorasoc.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                health = httpx.get(f"{base}/health", timeout=2).json()
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("serve did not come up")
        assert health["database"] == "down" and health["status"] == "degraded"
        ready = httpx.get(f"{base}/health/ready", timeout=5)
        assert ready.status_code == (200 if mode == "dummy" else 503)
        token = _token_for(env["JWT_SECRET_KEY"])
        alerts = httpx.get(f"{base}/api/v1/alerts", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        if mode == "dummy":
            assert alerts.status_code == 200 and alerts.json()["data_source"] == "showcase"
        else:
            assert alerts.status_code == 503
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _token_for(secret: str) -> str:
    import jwt

    now = int(time.time())
    claims = {"sub": "admin", "role": "admin", "iat": now, "exp": now + 600, "jti": "degraded-start"}
    return jwt.encode(claims, secret, algorithm="HS256")
