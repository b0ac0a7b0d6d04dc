"""Group commit of single alert submissions (spec §28 writes): concurrent ``POST /alerts`` share
transactions, every request still gets its own outcome, and one bad alert fails only itself."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from aurorasoc.core.db import get_engine

URL = "/api/v1/alerts"


def _body(i: int, **extra: Any) -> dict[str, Any]:
    return {"title": f"grouped alert {i % 20}", "severity": "high", "source": "edr", **extra}


class _Commits:
    """Counts the transactions the application's engine commits."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, _conn: object) -> None:
        self.count += 1


@pytest.fixture
def commits(app: object) -> Iterator[_Commits]:
    counter, engine = _Commits(), get_engine().sync_engine
    event.listen(engine, "commit", counter)
    yield counter
    event.remove(engine, "commit", counter)


async def _post_all(
    client: httpx.AsyncClient, headers: dict[str, str], bodies: list[dict[str, Any]]
) -> list[Any]:
    return list(await asyncio.gather(*(client.post(URL, json=b, headers=headers) for b in bodies)))


async def test_concurrent_submissions_share_transactions(client, admin_headers, commits) -> None:
    responses = await _post_all(client, admin_headers, [_body(i) for i in range(60)])
    assert [r.status_code for r in responses].count(201) == 20
    assert [r.status_code for r in responses].count(200) == 40
    assert commits.count < 30  # one commit per request would be 60
    listed = (await client.get(URL, params={"limit": 100}, headers=admin_headers)).json()
    assert listed["total"] == 20
    assert sum(a["occurrence_count"] for a in listed["items"]) == 60
    by_title = {a["title"]: a["id"] for a in listed["items"]}
    assert all(r.json()["id"] == by_title[r.json()["title"]] for r in responses)


async def test_a_lone_submission_is_written_at_once(client, admin_headers, commits) -> None:
    assert (await client.post(URL, json=_body(1), headers=admin_headers)).status_code == 201
    assert commits.count == 1


@pytest.mark.postgresql_app  # PostgreSQL refuses NUL in text; SQLite stores it
async def test_one_bad_alert_fails_only_its_own_request(client, admin_headers) -> None:
    bodies = [_body(i) for i in range(10)] + [_body(99, description="NUL \u0000 byte")]
    responses = await _post_all(client, admin_headers, bodies)
    assert [r.status_code for r in responses[:10]] == [201] * 10
    assert responses[10].status_code >= 500
