"""Shared fixtures: transactional database sessions (SQLite and PostgreSQL), settings, services."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest.mock import AsyncMock, MagicMock
from urllib.parse import urlparse

import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import StaticPool

from aurorasoc.core.config import reset_settings
from aurorasoc.core.db import JSON_CODECS
from aurorasoc.core.models import AlertModel, Base

ROOT = Path(__file__).resolve().parents[1]
# Test modules of one package reuse helpers of another (``from test_agents_llm import ScriptedLLM``);
# with the suite mirrored into one folder per package, every folder must be importable whatever the
# collection order, including for one file run alone.
sys.path[:0] = [str(folder) for folder in sorted((ROOT / "tests").iterdir()) if folder.is_dir()]
TEST_DATA = ROOT / "tests" / "data"
# The one place tests find the public data (never copied into the repo).
SHARED_DATA = Path(os.environ.get("AURORA_SHARED_DATA") or ROOT.parent / "shared" / "data").resolve()
WEB_RULES = SHARED_DATA / "sigma" / "rules" / "web" / "webserver_generic"  # SigmaHQ's webserver rules
PATH_TRAVERSAL_RULE = WEB_RULES / "web_path_traversal_exploitation_attempt.yml"

TEST_JWT_SECRET = "test-secret-key-that-is-long-enough-for-hs256"
SERVICE_URLS = {
    "postgresql": os.environ.get(
        "AURORA_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    ),
    "redis": os.environ.get("AURORA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    "nats": os.environ.get("AURORA_TEST_NATS_URL", "nats://127.0.0.1:4222"),
    "mqtt": os.environ.get("AURORA_TEST_MQTT_URL", "mqtt://127.0.0.1:1883"),
}
_DEFAULT_PORTS = {"postgresql": 5432, "redis": 6379, "nats": 4222, "mqtt": 1883}


_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_worker_databases: set[str] = set()


def _worker_database(url: str) -> str:
    """Under pytest-xdist, each worker's own PostgreSQL database (``<name>_gw0``...), created the
    first time it is asked for: workers emptying and refilling one shared database would wipe
    each other's rows mid-test. Run serially, the configured database itself."""
    if not _XDIST_WORKER:
        return url
    base = make_url(url)
    worker_url = base.set(database=f"{base.database}_{_XDIST_WORKER}").render_as_string(hide_password=False)
    if worker_url not in _worker_databases:
        with ThreadPoolExecutor(1) as pool:  # the caller may already run an event loop
            pool.submit(asyncio.run, _create_database(url, f"{base.database}_{_XDIST_WORKER}")).result()
        _worker_databases.add(worker_url)
    return worker_url


async def _create_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("+asyncpg", ""))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def require_service(name: str) -> str:
    """The URL of a real service for an integration test (PostgreSQL: this xdist worker's own).

    Unreachable → skip with the reason, or fail when ``AURORA_REQUIRE_SERVICES=1`` (CI).
    """
    url = SERVICE_URLS[name]
    parsed = urlparse(url.replace("+asyncpg", ""))
    host, port = parsed.hostname or "127.0.0.1", parsed.port or _DEFAULT_PORTS[name]
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError as exc:
        reason = f"{name} not reachable at {host}:{port} ({exc})"
        if os.environ.get("AURORA_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason}; AURORA_REQUIRE_SERVICES=1 forbids skipping")
        pytest.skip(reason)
    return _worker_database(url) if name == "postgresql" else url


@pytest.fixture
def scratch_pg_url() -> Iterator[str]:
    """A uniquely named, empty PostgreSQL database, dropped afterwards: for tests that migrate or
    cut connections, which must not touch (or inherit) the shared ``test`` database."""
    import asyncpg

    base = require_service("postgresql")
    name = f"aurora_scratch_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(base.replace("+asyncpg", ""))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def isolate_environment(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    """The test environment: a private data dir, a fixed JWT key, nothing from the host env."""
    keep = ("AURORA_TEST_", "AURORA_REQUIRE_SERVICES")
    for key in list(os.environ):
        if key.startswith(("AURORA_", "MQTT_", "FEDERATION_", "THREAT_INTEL_")) and not key.startswith(keep):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AURORA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("AURORA_MODE", "real")
    monkeypatch.setenv("AURORA_SCHEDULER_ENABLED", "false")  # its jobs would race the test's own writes
    monkeypatch.setenv("AURORA_RULE_PACK_AUTO_INSTALL", "false")  # no test fetches SigmaHQ from the internet
    # the fast deterministic embedder, whatever models the machine has (the [ml] extra's MiniLM takes
    # ~30 s to load); tests of the embedder choice set AURORA_EMBEDDER themselves
    monkeypatch.setenv("AURORA_EMBEDDER", "hashing")
    monkeypatch.setenv("JWT_SECRET_KEY", TEST_JWT_SECRET)
    monkeypatch.delenv("API_SERVICE_KEY", raising=False)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets a private data dir and a fixed JWT key; nothing leaks from the host env."""
    isolate_environment(monkeypatch, tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    reset_settings()
    from aurorasoc.core.auth import purge_api_key_cache, purge_principal_cache

    purge_principal_cache()
    purge_api_key_cache()
    yield
    reset_settings()


# A module that needs "now" writes ``NOW = TEST_START``; each of its tests then sees its own start time.
TEST_START = datetime(2000, 1, 1, tzinfo=UTC)  # a placeholder, never a clock read


@pytest.fixture(autouse=True)
def _test_start_clock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Set a module's ``NOW`` placeholder to the time the running test started.

    A clock read at import ages with the suite: a test reached after ten minutes found its "recent"
    data already outside the window it queried.
    """
    module = getattr(request, "module", None)
    if getattr(module, "NOW", None) is TEST_START:
        monkeypatch.setattr(module, "NOW", datetime.now(UTC))


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2id, minimal cost: production defaults take ~75 ms per hash, too slow per test."""
    from argon2 import PasswordHasher

    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr("aurorasoc.core.passwords._hasher", fast)


@pytest.fixture
def settings():  # type: ignore[no-untyped-def]
    from aurorasoc.core.config import get_settings

    return get_settings()


def _sqlite_savepoint_recipe(engine: AsyncEngine) -> None:
    """pysqlite's SAVEPOINT support needs SQLAlchemy to issue BEGIN itself."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")  # as in production (aurorasoc.core.db)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN")


async def _transactional_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with engine.connect() as conn:
        outer = await conn.begin()
        if engine.dialect.name == "postgresql":
            await _reset_postgres_schema(conn)  # rows another run committed must not show through
        else:
            await conn.run_sync(Base.metadata.create_all)
        session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            await session.close()
            await outer.rollback()
    await engine.dispose()


@pytest.fixture
async def db_session() -> AsyncIterator[AsyncSession]:
    """In-memory SQLite session inside one outer transaction, rolled back after the test."""
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool, **JSON_CODECS)
    _sqlite_savepoint_recipe(engine)
    async for session in _transactional_session(engine):
        yield session


@pytest.fixture
async def pg_session() -> AsyncIterator[AsyncSession]:
    """The same transactional session on a real PostgreSQL (integration)."""
    url = require_service("postgresql")
    engine = create_async_engine(url, **JSON_CODECS)
    async for session in _transactional_session(engine):
        yield session


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def any_db_session(request: pytest.FixtureRequest) -> AsyncSession:
    """Runs a persistence test once on SQLite and once on PostgreSQL."""
    name = "pg_session" if request.param == "postgresql" else "db_session"
    session: AsyncSession = request.getfixturevalue(name)
    return session


def _seed_alerts() -> list[AlertModel]:
    now = datetime.now(UTC)
    alerts = []
    for i, severity in enumerate(["critical", "high", "medium", "low"] * 3):
        alerts.append(
            AlertModel(
                title=f"Seeded {severity} alert {i}",
                severity=severity,
                status="new",
                source="network" if i % 2 else "endpoint",
                description=f"seed alert number {i}",
                iocs=[f"10.0.0.{i + 1}"],
                mitre_techniques=["T1110.001"] if severity == "high" else [],
                created_at=now - timedelta(minutes=i),
            )
        )
    return alerts


@pytest.fixture
async def populated_db(db_session: AsyncSession) -> AsyncSession:
    """``db_session`` pre-loaded with 12 alerts: 3 each of critical, high, medium and low."""
    db_session.add_all(_seed_alerts())
    await db_session.commit()
    return db_session


@pytest.fixture
def fake_redis() -> tuple[MagicMock, AsyncMock]:
    """``(client, script)``: a sync client mock whose registered Lua script is async."""
    client = MagicMock()
    script = AsyncMock(return_value=1)
    client.register_script.return_value = script
    return client, script


# ``AURORA_TEST_APP_DB=postgresql`` runs every test that uses the application database (the API
# suite above all) on the real PostgreSQL instead of a temp SQLite file: the PostgreSQL API lane.
APP_DB = os.environ.get("AURORA_TEST_APP_DB", "sqlite")
_pg_schema_fresh = False


async def _reset_postgres_schema(conn: AsyncConnection) -> None:
    """Fresh tables once per process (a stale schema from another branch must not linger), then
    empty tables per test.

    The once-per-process drop and create commit on their own connection: inside a transaction that
    is rolled back (``pg_session``) they would be rolled back too. Emptying is one ``DELETE`` per
    table, children first, in one round trip: ~5 ms where ``TRUNCATE`` (new files for ~40 tables
    and their indexes) took ~1 s per test. No table has a sequence, so nothing else carries over.
    """
    global _pg_schema_fresh
    if not _pg_schema_fresh:
        _pg_schema_fresh = True
        engine = create_async_engine(conn.engine.url, **JSON_CODECS)
        async with engine.begin() as fresh:
            await fresh.run_sync(Base.metadata.drop_all)
            await fresh.execute(text("DROP TABLE IF EXISTS alembic_version"))
            await fresh.run_sync(Base.metadata.create_all)
        await engine.dispose()
    deletes = " ".join(f'DELETE FROM "{table.name}";' for table in reversed(Base.metadata.sorted_tables))
    await conn.execute(text(f"DO $$ BEGIN {deletes} END $$"))


@pytest.fixture(scope="session")
def sqlite_schema_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file holding the full schema, built once per worker process.

    Creating ~40 tables costs ~60 ms of CPU and, on a file, several fsyncs; copying the finished
    file costs ~1 ms. Each ``app_db`` test starts from a fresh copy, so no state is shared.
    """
    path = tmp_path_factory.mktemp("schema") / "template.db"
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return path


def _copy_schema(template: Path, url: str) -> bool:
    """Start a SQLite database file as a copy of the template; False when ``url`` is not a new file."""
    database = make_url(url).database
    if not database or database == ":memory:" or Path(database).exists():
        return False
    Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copyfile(template, database)
    return True


@pytest.fixture
async def app_db(monkeypatch: pytest.MonkeyPatch, sqlite_schema_template: Path) -> AsyncIterator[None]:
    """The process-wide database with the full schema: a temp SQLite file from settings (a copy of
    the schema template), or the real PostgreSQL under ``AURORA_TEST_APP_DB=postgresql``.

    For code that opens its own sessions through ``aurorasoc.core.db`` (auth, services, API).
    """
    from aurorasoc.core.config import get_settings
    from aurorasoc.core.db import dispose_engine, get_engine

    if APP_DB == "postgresql":
        monkeypatch.setenv("AURORA_DATABASE_URL", require_service("postgresql"))
        reset_settings()
    await dispose_engine()
    if APP_DB == "postgresql" or not _copy_schema(sqlite_schema_template, get_settings().database_url):
        async with get_engine().begin() as conn:
            if APP_DB == "postgresql":
                await _reset_postgres_schema(conn)
            else:
                await conn.run_sync(Base.metadata.create_all)
    yield
    await dispose_engine()


@contextlib.asynccontextmanager
async def serving(application: FastAPI) -> AsyncIterator[FastAPI]:
    """An application with its lifespan running, in the runtime mode the settings give."""
    from aurorasoc.core import runtime

    runtime.reset_mode()
    async with application.router.lifespan_context(application):
        yield application
    runtime.reset_mode()


@pytest.fixture
async def app(app_db):  # type: ignore[no-untyped-def]
    """``create_app()`` over the temp SQLite file, with its lifespan running."""
    from aurorasoc.api.main import create_app

    async with serving(create_app()) as application:
        yield application


@pytest.fixture
async def client(app):  # type: ignore[no-untyped-def]
    from httpx import ASGITransport, AsyncClient

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


TEST_PASSWORD = "correct horse battery staple"


@pytest.fixture
async def role_headers(app_db) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """A user per role (named after it) and Bearer headers for each: ``role_headers["analyst"]``."""
    from aurorasoc.access.users import UserService
    from aurorasoc.core.auth import create_token
    from aurorasoc.core.db import session_scope
    from aurorasoc.core.vocabulary import Role

    headers = {}
    async with session_scope() as session:
        service = UserService(session)
        for role in Role:
            await service.create(role.value, TEST_PASSWORD, role)
            headers[role.value] = {"Authorization": f"Bearer {create_token(role.value, role)}"}
    return headers


@pytest.fixture
def admin_headers(role_headers) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return role_headers["admin"]


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """Modules holding a ``slow`` test run first (order inside a module kept, so module fixtures are
    built once): a minute-long test started last leaves the other xdist worker idle at the end.
    Tests marked ``postgresql_app`` are deselected unless the application database is PostgreSQL."""
    slow_modules = {item.module.__name__ for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.module.__name__ not in slow_modules)
    if APP_DB != "postgresql":  # their lane (AURORA_TEST_APP_DB=postgresql) runs them
        deselected = [item for item in items if item.get_closest_marker("postgresql_app")]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = [item for item in items if not item.get_closest_marker("postgresql_app")]


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    """Say plainly how many tests against real services ran, so CI logs prove they were not skipped."""
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            # a passed test reports at "call"; a skipped or broken one may stop at "setup"
            counted_phase = report.when == "call" or (outcome != "passed" and report.when == "setup")
            if "integration" in getattr(report, "keywords", {}) and counted_phase:
                counts[outcome] = counts.get(outcome, 0) + 1
    if counts:
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        required = os.environ.get("AURORA_REQUIRE_SERVICES") == "1"
        terminalreporter.write_line(
            f"integration tests against real services (PostgreSQL/Redis/NATS/MQTT): {summary}"
            f"{' [AURORA_REQUIRE_SERVICES=1]' if required else ''}"
        )


def require_data(*paths: Path) -> None:
    """Real public test data lives beside the repo, never in it: fail in CI or under
    ``AURORA_REQUIRE_SERVICES=1``, skip only on a developer machine without it."""
    missing = [str(p) for p in paths or (SHARED_DATA,) if not p.exists()]
    if missing:
        message = (
            f"shared test data missing: {', '.join(missing)} "
            f"(AURORA_SHARED_DATA={SHARED_DATA}; it defaults to ../shared/data beside the repo)"
        )
        if os.environ.get("CI") or os.environ.get("AURORA_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
