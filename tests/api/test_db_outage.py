"""The database going away while the server runs (real PostgreSQL behind a TCP proxy we can cut).

Spec §6/§23: in dry_run/real, DB-backed reads answer 503 ``database_unavailable`` and
``/system/mode`` reports ``unavailable``; in dummy, reads fall back to showcase data; when the
database comes back, live reads resume without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlparse

import pytest
from httpx import ASGITransport, AsyncClient

from aurorasoc.access.users import UserService
from aurorasoc.core import db, runtime
from aurorasoc.core.auth import create_token
from aurorasoc.core.config import reset_settings
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import Base
from aurorasoc.core.vocabulary import Role

pytestmark = pytest.mark.integration


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the real server; ``cut()`` drops every connection."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.refuse_next = 0  # connections to close at once, as a server out of slots does
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refuse_next:
            self.refuse_next -= 1
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update({writer, up_writer})
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()
        self._writers.discard(writer)


@pytest.fixture
async def outage_db(monkeypatch, scratch_pg_url: str) -> AsyncIterator[TcpProxy]:
    """A fresh PostgreSQL database reached only through the proxy, with the schema and users."""
    url = urlparse(scratch_pg_url.replace("+asyncpg", ""))
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 5432)
    await proxy.start()
    monkeypatch.setenv(
        "AURORA_DATABASE_URL", f"postgresql+asyncpg://{url.username}@127.0.0.1:{proxy.port}{url.path}"
    )
    monkeypatch.setattr(db, "PROBE_TTL_SECONDS", 0.0)
    reset_settings()
    await db.dispose_engine()
    async with db.get_engine().begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with session_scope() as session:
        await UserService(session).create("analyst", "correct horse battery", Role.ANALYST)
    try:
        yield proxy
    finally:
        await proxy.cut()
        await db.dispose_engine()


@pytest.fixture
async def live_client(outage_db) -> AsyncIterator[AsyncClient]:
    from aurorasoc.api.main import create_app

    runtime.reset_mode()
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {create_token('analyst', Role.ANALYST)}"}
        async with AsyncClient(transport=transport, base_url="http://testserver", headers=headers) as client:
            yield client
    runtime.reset_mode()


async def _restore(proxy: TcpProxy) -> None:
    await proxy.start()
    await db.dispose_engine()  # drop pooled connections that died with the proxy


class TestDatabaseOutage:
    async def test_real_mode_reads_turn_503_and_recover(self, live_client, outage_db):
        assert (await live_client.get("/api/v1/alerts")).status_code == 200

        await outage_db.cut()
        resp = await live_client.get("/api/v1/alerts")
        assert resp.status_code == 503
        assert resp.json()["detail"]["code"] == "database_unavailable"
        mode = (await live_client.get("/api/v1/system/mode")).json()
        assert mode["is_database_available"] is False
        assert mode["read_data_source"] == "unavailable"
        assert (await live_client.get("/health")).json()["database"] == "down"
        assert (await live_client.get("/health/ready")).status_code == 503

        await _restore(outage_db)
        assert (await live_client.get("/api/v1/alerts")).status_code == 200
        assert (await live_client.get("/api/v1/system/mode")).json()["read_data_source"] == "database"

    async def test_writes_answer_503_not_500(self, live_client, outage_db):
        await outage_db.cut()
        resp = await live_client.post("/api/v1/alerts", json={"title": "t", "source": "s", "severity": "low"})
        assert resp.status_code == 503

    async def test_dummy_mode_serves_showcase_while_down(self, live_client, outage_db):
        runtime.set_mode("dummy")
        await outage_db.cut()
        resp = await live_client.get("/api/v1/alerts")
        assert resp.status_code == 200
        assert resp.json()["data_source"] == "showcase"
        assert resp.headers["x-aurora-data-source"] == "showcase"
        assert resp.json()["items"]
        assert (await live_client.get("/api/v1/system/mode")).json()["uses_showcase_data"] is True


class TestProbe:
    async def test_one_refused_connection_is_not_an_outage(self, outage_db, caplog):
        await db.dispose_engine()  # the next probe needs a new connection
        outage_db.refuse_next = 1
        assert await db.probe_database(force=True) is True
        assert outage_db.refuse_next == 0  # the refused attempt did happen
        assert "database probe failed" not in caplog.text

    async def test_an_outage_is_logged_with_its_reason_not_the_url(self, outage_db, caplog):
        await outage_db.cut()
        await db.dispose_engine()
        assert await db.probe_database(force=True) is False
        failure = next(r.getMessage() for r in caplog.records if "database probe failed" in r.getMessage())
        assert "ConnectionRefusedError" in failure  # the driver's error says why
        assert "postgresql" not in failure and "@" not in failure  # not the URL and its credentials
