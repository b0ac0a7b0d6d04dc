"""Load shedding (spec §28, issue 15): a read whose client left is cancelled, a write is not;
expensive requests past the limit and the queue get 503 + Retry-After while the console's cheap
calls still answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from conftest import serving
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from prometheus_client import REGISTRY
from starlette.types import Message, Receive, Scope, Send

from aurorasoc.api.load_shedding import Admission, ClientGoneMiddleware
from aurorasoc.api.main import create_app
from aurorasoc.core.config import reset_settings
from aurorasoc.siem.search import SiemSearchService


class BlockedSearch:
    """Stands in for ``SiemSearchService.search``: holds every call until released."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.running = 0
        self.cancelled = 0

    async def __call__(self, *_args: Any, **_kwargs: Any) -> Any:
        self.running += 1
        self.entered.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.running -= 1
        return await ORIGINAL_SEARCH(*_args, **_kwargs)


ORIGINAL_SEARCH = SiemSearchService.search


@pytest.fixture
def blocked(monkeypatch: pytest.MonkeyPatch) -> BlockedSearch:
    stand_in = BlockedSearch()

    async def search(self: SiemSearchService, *args: Any, **kwargs: Any) -> Any:
        return await stand_in(self, *args, **kwargs)

    monkeypatch.setattr(SiemSearchService, "search", search)
    return stand_in


def counted(name: str, route: str) -> float:
    return REGISTRY.get_sample_value(name, {"route": route}) or 0.0


def client_that_leaves(gone: asyncio.Event) -> Receive:
    """An HTTP client that sends its (empty) request, then disconnects once ``gone`` is set."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    return receive


def http_scope(method: str, path: str, headers: dict[str, str] | None = None) -> Scope:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *raw],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


@pytest.fixture
async def limited_app(app_db: None, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FastAPI]:
    """The API with room for one expensive request running and one waiting."""
    monkeypatch.setenv("AURORA_EXPENSIVE_CONCURRENCY", "1")
    monkeypatch.setenv("AURORA_EXPENSIVE_QUEUE", "1")
    reset_settings()
    async with serving(create_app()) as application:
        yield application


async def test_a_search_whose_client_left_is_cancelled(
    app: FastAPI, admin_headers: dict[str, str], blocked: BlockedSearch
) -> None:
    before = counted("http_requests_cancelled_total", "/siem/logs")
    gone = asyncio.Event()
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    request = asyncio.create_task(
        app(http_scope("GET", "/api/v1/siem/logs", admin_headers), client_that_leaves(gone), send)
    )
    await asyncio.wait_for(blocked.entered.wait(), 30)
    gone.set()
    await asyncio.wait_for(request, 30)
    assert blocked.cancelled == 1 and blocked.running == 0
    assert counted("http_requests_cancelled_total", "/siem/logs") == before + 1
    assert sent[0]["status"] == 499  # what the access log records; the client is gone


async def test_a_write_whose_client_left_runs_to_the_end() -> None:
    seen: list[str] = []

    async def write(scope: Scope, receive: Receive, send: Send) -> None:
        seen.extend([(await receive())["type"], (await receive())["type"]])  # body, then the client gone
        await asyncio.sleep(0.01)  # the transaction goes on regardless
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    gone = asyncio.Event()
    gone.set()
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(
        ClientGoneMiddleware(write)(http_scope("POST", "/api/v1/alerts"), client_that_leaves(gone), send), 30
    )
    assert seen == ["http.request", "http.disconnect"] and sent[0]["status"] == 201


async def test_a_read_answered_before_the_client_leaves_is_untouched(
    client: AsyncClient, admin_headers: dict[str, str]
) -> None:
    before = counted("http_requests_cancelled_total", "/siem/logs")
    resp = await client.get("/api/v1/siem/logs", headers=admin_headers)
    assert resp.status_code == 200
    assert counted("http_requests_cancelled_total", "/siem/logs") == before


async def test_past_the_limit_and_the_queue_expensive_requests_get_503_and_health_answers(
    limited_app: FastAPI, admin_headers: dict[str, str], blocked: BlockedSearch
) -> None:
    transport = ASGITransport(app=limited_app)
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:

        def search() -> Awaitable[Any]:
            return client.get("/api/v1/siem/logs", headers=admin_headers)

        running = asyncio.create_task(search())
        await asyncio.wait_for(blocked.entered.wait(), 30)
        queued = asyncio.create_task(search())
        await until(lambda: queued_requests(limited_app) == 1)
        refused = await search()
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["detail"]["code"] == "server_busy"
        # the console's cheap calls never queue behind the expensive ones
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/api/v1/users/me", headers=admin_headers)).status_code == 200
        assert (await client.get("/api/v1/alerts/00000000-0000-0000-0000-000000000000",
                                 headers=admin_headers)).status_code == 404  # fmt: skip
        blocked.release.set()
        assert (await running).status_code == 200
        assert (await queued).status_code == 200
    assert blocked.cancelled == 0


async def test_a_queued_request_waits_its_turn_then_gives_up() -> None:
    admission = Admission(limit=1, queue=1, wait_seconds=0.05)
    assert await admission.acquire()
    assert not await admission.acquire()  # waited its bounded time in the queue
    admission.release()
    assert await admission.acquire()


def test_openapi_documents_server_busy_on_expensive_routes() -> None:
    paths = create_app().openapi()["paths"]
    busy = paths["/api/v1/siem/logs"]["get"]["responses"]["503"]
    assert "server_busy" in busy["description"] and "Retry-After" in busy["headers"]
    assert (
        "Retry-After" in paths["/api/v1/reports/{report_id}/download"]["get"]["responses"]["503"]["headers"]
    )
    assert "headers" not in paths["/api/v1/cases"]["get"]["responses"]["503"]


def queued_requests(application: FastAPI) -> int:
    stack: Any = application.middleware_stack
    while stack is not None and not hasattr(stack, "admission"):
        stack = getattr(stack, "app", None)
    return int(stack.admission.waiting) if stack is not None else -1


async def until(check: Callable[[], bool], seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 (the middleware's queue: no event to await)
            await asyncio.sleep(0.01)
