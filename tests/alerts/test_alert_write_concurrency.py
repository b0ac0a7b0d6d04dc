"""SQLite's single writer is never a 500 (spec §28): concurrent alert writes queue for it, and a
write that cannot get it in time is a 503 with ``Retry-After``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from live_server import admin_token, live_server
from sqlalchemy.exc import OperationalError

from aurorasoc.core import db

URL = "/api/v1/alerts"


def _body(i: int) -> dict[str, object]:
    # Half the submissions repeat an earlier one (dedup hits update the same row).
    return {
        "title": f"concurrent alert {i % 50}",
        "severity": "high",
        "source": "edr",
        "iocs": [f"10.9.0.{i % 50}"],
    }


async def _hundred_writes(client: httpx.AsyncClient, headers: dict[str, str]) -> list[httpx.Response]:
    posts = [client.post(URL, json=_body(i), headers=headers) for i in range(90)]
    batches = [
        client.post(f"{URL}/batch", json={"alerts": [_body(i), _body(i + 1)]}, headers=headers)
        for i in range(10)
    ]
    return list(await asyncio.gather(*posts, *batches))


def _assert_no_server_error(responses: list[httpx.Response]) -> None:
    statuses = [r.status_code for r in responses]
    assert all(
        r.status_code < 500 or (r.status_code == 503 and r.headers.get("Retry-After")) for r in responses
    )
    assert statuses.count(201) + statuses.count(200) >= 90, statuses


async def test_a_hundred_concurrent_writes_to_a_real_server(tmp_path: Path) -> None:
    with live_server(tmp_path / "data") as base:
        headers = {"Authorization": f"Bearer {admin_token(base)}"}
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            responses = await _hundred_writes(client, headers)
            _assert_no_server_error(responses)
            listed = (await client.get(URL, params={"limit": 200}, headers=headers)).json()
    assert listed["total"] == 50  # 50 distinct alerts; every repeat folded into one of them
    assert sum(a["occurrence_count"] for a in listed["items"]) == 110


async def test_a_hundred_concurrent_writes_in_process(client, admin_headers) -> None:
    _assert_no_server_error(await _hundred_writes(client, admin_headers))


async def test_a_write_that_cannot_get_the_writer_is_503_with_retry_after(
    client, admin_headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "WRITE_QUEUE_SECONDS", 0.05)
    engine = db.get_engine().sync_engine
    lock = db._write_locks.setdefault(engine, asyncio.Lock())
    await lock.acquire()  # another write holds SQLite's writer
    try:
        resp = await client.post(URL, json=_body(1), headers=admin_headers)
    finally:
        lock.release()
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
    assert resp.json()["detail"]["code"] == "database_busy"
    assert (await client.post(URL, json=_body(1), headers=admin_headers)).status_code == 201


async def test_sqlite_busy_from_another_process_is_503(client, admin_headers, monkeypatch) -> None:
    async def locked(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr("aurorasoc.alerts.service.AlertService.create_many", locked)
    resp = await client.post(URL, json=_body(2), headers=admin_headers)
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
