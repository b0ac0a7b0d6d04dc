"""Async engine, session factory and database reachability probe.

SQLite (embedded default) gets WAL, enforced foreign keys and a busy timeout so concurrent
API requests and background workers do not trip over each other; PostgreSQL goes through asyncpg.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from tenacity import AsyncRetrying, stop_after_attempt, wait_fixed

from aurorasoc.core.config import Settings, get_settings
from aurorasoc.core.data_files import secure_sqlite_file

log = logging.getLogger(__name__)


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached."""


class DatabaseBusy(RuntimeError):
    """SQLite's one writer stayed taken longer than a write may queue (answered 503 + Retry-After)."""

    retry_after_seconds = 1


# What a query can raise when the database goes away: SQLAlchemy's wrapped errors, and - when a
# pooled connection is re-opened - the driver's raw ones (``ConnectionRefusedError``, asyncpg's
# ``InvalidCatalogNameError`` for a dropped database), which SQLAlchemy does not wrap.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    SQLAlchemyError,
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


# How long a write queues for SQLite's writer before the client is told to retry.
WRITE_QUEUE_SECONDS = 10.0
BUSY_TIMEOUT_MS = 5000
WRITER_POLL_SECONDS = 0.005
_write_locks: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()

_engine: AsyncEngine | None = None
_session_factory: async_sessionmaker[AsyncSession] | None = None
_probe_cache: tuple[float, bool] | None = None
_Loop = asyncio.AbstractEventLoop
_probes: weakref.WeakKeyDictionary[_Loop, asyncio.Task[bool]] = weakref.WeakKeyDictionary()  # in flight
PROBE_TTL_SECONDS = 5.0
PROBE_DOWN_TTL_SECONDS = 1.0
PROBE_ATTEMPTS = 3
PROBE_RETRY_SECONDS = 0.2
PROBE_TIMEOUT_SECONDS = 2.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine_from_settings(settings: Settings | None = None, *, url: str | None = None) -> AsyncEngine:
    """Build an engine for ``url`` (default: the configured database)."""
    settings = settings or get_settings()
    url = url or settings.database_url
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            secure_sqlite_file(Path(parsed.database), settings.data_dir)
        kwargs = {"connect_args": {"timeout": 5}}
    else:
        kwargs.update(pool_size=10, max_overflow=20, connect_args={"timeout": PROBE_TIMEOUT_SECONDS * 5})
    engine = create_async_engine(url, **JSON_CODECS, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    event.listen(engine.sync_engine, "checkout", _proves_up)
    return engine


_LONG_DIGITS = re.compile(r"\d{19}")
# What the stdlib refuses (dates, dataclasses, subclasses of str/int/dict/list) orjson hands back
# to it, so such a value is written, or refused, exactly as before.
_ORJSON_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def write_json(value: Any) -> str:
    """JSON columns as the ORM writes them: orjson, several times faster than the stdlib (a batch of
    alerts or events writes five JSON columns per row).

    The stdlib writes what orjson refuses (integers past 64 bits, non-string keys, lone surrogates)
    and what it would change: orjson writes NaN and infinities as ``null``, so a text holding
    ``null`` is written again by the stdlib (``NaN``, read back by :func:`read_json`). Non-ASCII
    text is stored as UTF-8 rather than ``\\u`` escapes: the same JSON, and searchable as written.
    """
    try:
        text = orjson.dumps(value, option=_ORJSON_OPTIONS)
    except TypeError:
        return json.dumps(value)
    return json.dumps(value) if b"null" in text else text.decode()


def read_json(text: str) -> Any:
    """JSON columns as the ORM reads them: orjson, several times faster than the stdlib (the
    pipeline and the batch endpoint read back the JSON columns of every alert and case they write).

    The stdlib still reads what orjson refuses (NaN) or would change: orjson turns an integer past
    64 bits into a float, so a text with a run of 19 digits (the shortest such integer) goes to the
    stdlib, which keeps it exact.
    """
    if not _LONG_DIGITS.search(text):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


JSON_CODECS: dict[str, Any] = {"json_serializer": write_json, "json_deserializer": read_json}
"""The engine options of JSON columns (tests build their engines with them too)."""


def _proves_up(*_args: Any) -> None:
    """A connection the pool hands out has just connected or answered its pre-ping: the database
    is up, whatever an earlier probe concluded. A probe that timed out on a loaded machine (a CI
    lane's start-up probe took over 2 s) otherwise kept a working database "down" for seconds."""
    global _probe_cache
    if _probe_cache is not None and not _probe_cache[1]:
        _probe_cache = (time.monotonic(), True)


def get_engine() -> AsyncEngine:
    global _engine
    if _engine is None:
        _engine = create_engine_from_settings()
    return _engine


def get_session_factory() -> async_sessionmaker[AsyncSession]:
    global _session_factory
    if _session_factory is None:
        _session_factory = async_sessionmaker(get_engine(), expire_on_commit=False)
    return _session_factory


@asynccontextmanager
async def session_scope() -> AsyncIterator[AsyncSession]:
    """A session that commits on success and rolls back on error."""
    async with get_session_factory()() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


@asynccontextmanager
async def serialized_writes(session: AsyncSession) -> AsyncIterator[None]:
    """Take SQLite's writer for a write-and-commit (a no-op on PostgreSQL).

    SQLite lets one transaction write at a time; left to its busy timeout, concurrent writers in
    this process poll, starve each other and fail with "database is locked" (a 500). Here they
    queue on one lock, in order; a write that cannot get it within ``WRITE_QUEUE_SECONDS`` raises
    ``DatabaseBusy`` (503 with ``Retry-After``). Other processes still meet SQLite's busy timeout.
    """
    engine = session.get_bind().engine
    if engine.dialect.name != "sqlite":
        yield
        return
    lock = _write_locks.setdefault(engine, asyncio.Lock())
    try:
        await asyncio.wait_for(lock.acquire(), WRITE_QUEUE_SECONDS)
    except TimeoutError:
        raise DatabaseBusy(f"the database writer stayed busy for {WRITE_QUEUE_SECONDS:.0f} s") from None
    try:
        yield
    finally:
        lock.release()


async def take_sqlite_writer(session: AsyncSession, *, queue_seconds: float = WRITE_QUEUE_SECONDS) -> None:
    """Open the session's write transaction now (SQLite: ``BEGIN IMMEDIATE``), asking every 5 ms.

    SQLite's own busy handler retries a blocked writer only every 100 ms once it has waited ~0.2 s;
    a writer in another process that commits batch after batch (SIEM ingest) leaves gaps far
    shorter than that, so the waiting writer misses most of them and sits out several of the other
    writer's transactions (seen: seconds). Asking every ``WRITER_POLL_SECONDS`` takes the first gap,
    so the wait is about one of the other writer's transactions. Raises ``DatabaseBusy`` after
    ``queue_seconds``. A no-op on PostgreSQL and when the transaction has already written.
    """
    conn = await session.connection()
    if conn.dialect.name != "sqlite":
        return
    raw = await conn.get_raw_connection()
    if raw.driver_connection is None or raw.driver_connection.in_transaction:
        return
    deadline = time.monotonic() + queue_seconds
    await conn.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if not is_sqlite_busy(exc) or time.monotonic() > deadline:
                    raise DatabaseBusy(f"the database writer stayed busy for {queue_seconds:.0f} s") from exc
            await asyncio.sleep(WRITER_POLL_SECONDS)
    finally:
        await conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def is_sqlite_busy(exc: BaseException) -> bool:
    """SQLite's own "database is locked"/"busy" error (another process held the writer too long)."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig or exc)


async def probe_database(*, force: bool = False) -> bool:
    """``SELECT 1`` with a short timeout; "up" is cached for a few seconds, "down" for one, so a
    recovered database (or a probe that only timed out) is seen again within a second.

    Concurrent callers share one probe (per event loop). A burst of 60 requests after the cache
    expired ran 60 probes at once, more than the pool holds; those waiting for a connection past
    the timeout reported the database down, and the requests were answered 503 by a healthy server.
    """
    now = time.monotonic()
    if not force and _probe_cache is not None:
        checked_at, up = _probe_cache
        if now - checked_at < (PROBE_TTL_SECONDS if up else PROBE_DOWN_TTL_SECONDS):
            return up
    loop = asyncio.get_running_loop()
    probe = _probes.get(loop)
    if probe is None or probe.done():
        probe = _probes[loop] = loop.create_task(_probe())
    return await asyncio.shield(probe)


async def _probe() -> bool:
    """A connection that fails at once is tried again within the timeout: one refused connect on
    a loaded server (a CI lane answered 503 to a healthy database) is not an outage. The reason
    is logged, never the URL."""
    global _probe_cache
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(PROBE_ATTEMPTS), wait=wait_fixed(PROBE_RETRY_SECONDS), reraise=True
            ):
                with attempt:
                    async with get_engine().connect() as conn:
                        await conn.execute(text("SELECT 1"))
        ok = True
    except Exception as exc:
        log.warning("database probe failed: %s", describe_error(exc))
        ok = False
    _probe_cache = (time.monotonic(), ok)
    return ok


def describe_error(exc: BaseException) -> str:
    """The driver's error class and first line, without SQL parameters (they may hold user data)."""
    orig = getattr(exc, "orig", None) or exc
    first_line = (str(orig).strip().splitlines() or [""])[0][:200]
    return f"{type(orig).__name__}: {first_line}" if first_line else type(orig).__name__


async def dispose_engine() -> None:
    """Close pooled connections and forget the engine (settings may have changed)."""
    global _engine, _session_factory, _probe_cache
    if _engine is not None:
        await _engine.dispose()
    _engine = None
    _session_factory = None
    _probe_cache = None
