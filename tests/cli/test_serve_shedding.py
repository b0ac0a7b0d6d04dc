"""`aurorasoc serve` under load shedding (spec §28, issue 15), as a real process on PostgreSQL.

A request is made slow for as long as the test wants by holding a lock on the table it reads: a
client that leaves has its query cancelled in the database, and SIGTERM ends a server busy with
such a request within 10 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import asyncpg
import httpx
import pytest
from live_server import admin_token, spawn_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]
STOP_WITHIN_SECONDS = 10.0  # the acceptance contract of issue 15


@pytest.fixture
def pg_server(scratch_pg_url: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, str]]:
    proc, base = spawn_server(
        tmp_path / "data", AURORA_DATABASE_URL=scratch_pg_url, AURORA_RULE_PACK_AUTO_INSTALL="false"
    )
    yield proc, base, scratch_pg_url
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


@contextlib.asynccontextmanager
async def table_locked(url: str, table: str) -> AsyncIterator[Callable[[], Awaitable[int]]]:
    """Hold an ACCESS EXCLUSIVE lock on ``table`` (every query on it waits until the block ends);
    yield a count of the queries waiting on a lock, read outside the locking transaction (inside
    it, PostgreSQL answers ``pg_stat_activity`` from a snapshot)."""
    dsn = url.replace("+asyncpg", "")
    conn, monitor = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    transaction = conn.transaction()
    await transaction.start()
    await conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    sql = (
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )

    async def waiting() -> int:
        return int(await monitor.fetchval(sql))

    try:
        yield waiting
    finally:
        await transaction.rollback()
        await asyncio.gather(conn.close(), monitor.close())


async def until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    try:
        async with asyncio.timeout(seconds):
            while not await check():  # noqa: ASYNC110 (another process's progress: nothing to await)
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out after {seconds}s waiting for {what}") from None


def raw_get(base: str, path: str, token: str) -> socket.socket:
    """Send a GET and return the open socket, without reading the answer (a client about to leave)."""
    address = urlparse(base)
    sock = socket.create_connection((address.hostname, address.port))
    request = f"GET {path} HTTP/1.1\r\nHost: {address.netloc}\r\nAuthorization: Bearer {token}\r\n\r\n"
    sock.sendall(request.encode())
    return sock


def cancelled_count(base: str, route: str) -> float:
    metrics = httpx.get(f"{base}/metrics", timeout=10).text  # sync: the test's one quick read
    found = re.search(
        rf'^http_requests_cancelled_total\{{route="{re.escape(route)}"\}} (\S+)$', metrics, re.M
    )
    return float(found.group(1)) if found else 0.0


async def test_a_client_that_leaves_has_its_query_cancelled(
    pg_server: tuple[subprocess.Popen[bytes], str, str],
) -> None:
    _proc, base, url = pg_server
    token = admin_token(base)
    async with table_locked(url, "alerts") as queries_waiting:
        client = raw_get(base, "/api/v1/alerts", token)
        await until(lambda: _at_least_one(queries_waiting()), 30, "the alert list to wait on the lock")
        client.close()
        # the lock is still held: the query can only have stopped waiting by being cancelled
        await until(lambda: _none(queries_waiting()), 30, "the server to cancel the abandoned query")
    assert cancelled_count(base, "/alerts") == 1
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        listed = await client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200  # the pool is healthy after the cancellation


async def test_sigterm_stops_a_server_busy_with_a_slow_request_within_10_s(
    pg_server: tuple[subprocess.Popen[bytes], str, str],
) -> None:
    proc, base, url = pg_server
    headers = {"Authorization": f"Bearer {admin_token(base)}"}
    async with table_locked(url, "alerts") as queries_waiting:
        slow = asyncio.create_task(
            asyncio.to_thread(httpx.get, f"{base}/api/v1/alerts", headers=headers, timeout=60)
        )
        await until(lambda: _at_least_one(queries_waiting()), 30, "the alert list to wait on the lock")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 30)
        elapsed = time.monotonic() - started
        with contextlib.suppress(httpx.HTTPError):
            await slow  # the server went away under it
        # the cancelled request rolled back and cancelled its query before the process ended
        assert await queries_waiting() == 0
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert elapsed < STOP_WITHIN_SECONDS, f"stopped after {elapsed:.1f}s: {stderr}"
    assert code == 0, stderr  # the orderly path (grace period, then cancel), not the hard deadline
    assert "Traceback" not in stderr


async def _at_least_one(count: Awaitable[int]) -> bool:
    return await count >= 1


async def _none(count: Awaitable[int]) -> bool:
    return await count == 0
