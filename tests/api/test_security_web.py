"""Issue #18 finding 7: private data files, security headers, API docs without a CDN."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from aurorasoc.api.security_headers import CONSOLE_CSP
from aurorasoc.core.data_files import secure_sqlite_file
from aurorasoc.core.db import create_engine_from_settings

EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class TestDataFiles:
    async def test_sqlite_database_wal_and_shm_are_owner_only(self, settings):
        engine = create_engine_from_settings(settings)
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        db = settings.data_dir / "aurorasoc.db"
        siblings = [db, db.with_name("aurorasoc.db-wal"), db.with_name("aurorasoc.db-shm")]
        assert all(p.exists() for p in siblings)  # WAL mode: the connection is still open
        assert {p.name: _mode(p) for p in siblings} == {p.name: 0o600 for p in siblings}
        assert _mode(settings.data_dir) == 0o700
        await engine.dispose()

    def test_files_left_world_readable_by_an_older_version_are_tightened(self, tmp_path):
        data = tmp_path / "data"
        data.mkdir(mode=0o755)
        db = data / "aurorasoc.db"
        for path in (db, data / "aurorasoc.db-wal"):
            path.write_bytes(b"")
            path.chmod(0o644)
        secure_sqlite_file(db, data)
        assert (_mode(data), _mode(db), _mode(data / "aurorasoc.db-wal")) == (0o700, 0o600, 0o600)

    def test_a_foreign_parent_folder_is_left_alone(self, tmp_path):
        shared = tmp_path / "shared"
        shared.mkdir(mode=0o755)
        shared.chmod(0o755)
        secure_sqlite_file(shared / "x.db", tmp_path / "data")
        assert _mode(shared) == 0o755 and _mode(shared / "x.db") == 0o600


class TestSecurityHeaders:
    @pytest.mark.parametrize(
        ("path", "status"),
        # a console route answers 200 once the SPA is built and 404 before (pytest runs before the build)
        [("/health", 200), ("/api/v1/alerts", 401), ("/api/v1/nope", 404), ("/", 200), ("/cases/x", None)],
    )
    async def test_every_response_carries_them(self, client, path, status):
        resp = await client.get(path)
        assert resp.status_code == status or (status is None and resp.status_code in (200, 404))
        assert {k: resp.headers.get(k) for k in EXPECTED} == EXPECTED
        assert resp.headers["content-security-policy"] == CONSOLE_CSP
        assert "strict-transport-security" not in resp.headers  # plain http

    async def test_console_policy_forbids_inline_script_and_framing(self, client):
        policy = (await client.get("/")).headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'" and directives["frame-ancestors"] == "'none'"

    async def test_hsts_over_https(self, app):
        from httpx import ASGITransport, AsyncClient

        async with AsyncClient(transport=ASGITransport(app=app), base_url="https://soc.example") as https:
            resp = await https.get("/health")
        assert resp.headers["strict-transport-security"].startswith("max-age=31536000")


class TestOfflineDocs:
    @pytest.mark.parametrize("path", ["/api/v1/docs", "/api/v1/redoc"])
    async def test_docs_pages_reference_only_local_assets(self, client, path):
        resp = await client.get(path)
        assert resp.status_code == 200
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", resp.text)
        assert urls and all(u.startswith("/api/v1/") for u in urls), urls
        assert "cdn" not in resp.text.lower() and "fonts.googleapis" not in resp.text
        for url in urls:
            asset = await client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 1000, url
        assert resp.headers["x-frame-options"] == "DENY"

    async def test_redoc_shortcut_is_not_404(self, client):
        resp = await client.get("/redoc", follow_redirects=True)
        assert resp.status_code == 200 and "redoc.standalone.js" in resp.text
