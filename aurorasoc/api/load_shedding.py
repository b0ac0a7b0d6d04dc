"""Load shedding (spec §28, issue 15); pure ASGI, so streams and WebSockets pass untouched.

* :class:`ClientGoneMiddleware` - a read (GET/HEAD under ``/api``, sign-in routes excepted: the OIDC
  callback writes) runs in its own task, watched for ``http.disconnect``. A client that leaves before
  the response starts has its handler cancelled (a read: nothing to undo), counted in
  ``http_requests_cancelled_total`` and logged with status 499. Writes always run to the end:
  cancelling a transaction half-way is what shedding must never do.
* :class:`RequestTasksMiddleware` - remembers the task of every HTTP request, so the shutdown can
  wait (``settle_requests``) for the requests uvicorn cancelled after its grace period to finish
  their clean-up - roll back, cancel their query in the database - before the engine is disposed.
* :class:`AdmissionMiddleware` - at most ``AURORA_EXPENSIVE_CONCURRENCY`` expensive requests (see
  ``EXPENSIVE``) run at once in this process; up to ``AURORA_EXPENSIVE_QUEUE`` more wait, each at most
  ``AURORA_EXPENSIVE_QUEUE_SECONDS``, in arrival order; the rest are answered ``503 server_busy`` with
  ``Retry-After`` (``http_requests_shed_total``). Everything else - sign-in, health, the console's
  static files, cheap reads, writes - never waits here, so the console is never locked out.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aurorasoc.core.config import ServerSettings
from aurorasoc.core.metrics import HTTP_CANCELLED, HTTP_SHED

CLIENT_CLOSED_REQUEST = 499  # nginx's status for "the client went away first" (never reaches a client)
RETRY_AFTER_SECONDS = 1
CLEANUP_SECONDS = 2.0  # a handler cancelled at shutdown gets this long to roll back (and cancel its query)
READS = frozenset({"GET", "HEAD"})
SERVER_BUSY = {
    "code": "server_busy",
    "message": "Too many expensive requests are running on this server; retry shortly.",
}
# The expensive operations, as "METHOD /path/{param}" (the OpenAPI spelling).
EXPENSIVE = (
    "GET /api/v1/alerts",
    "GET /api/v1/siem/logs",
    "GET /api/v1/siem/histogram",
    "GET /api/v1/siem/facets",
    "POST /api/v1/siem/hunts/{hunt_id}/run",
    "GET /api/v1/entities/hosts",
    "GET /api/v1/entities/users",
    "POST /api/v1/reports/generate",
    "GET /api/v1/reports/{report_id}/download",
)
BUSY_DESCRIPTION = (
    "The database is unavailable, or this server is busy (`server_busy`: too many expensive requests "
    "at once); retry after the Retry-After header"
)


def _pattern(operation: str) -> tuple[str, re.Pattern[str]]:
    method, path = operation.split(" ", 1)
    return method, re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$")


_EXPENSIVE = [(operation, *_pattern(operation)) for operation in EXPENSIVE]


def expensive_operation(method: str, path: str) -> str | None:
    """The ``EXPENSIVE`` entry a request (or an OpenAPI path template) falls under, if any."""
    method = "GET" if method == "HEAD" else method
    return next((op for op, m, rx in _EXPENSIVE if m == method and rx.match(path)), None)


def _route(scope: Scope) -> str:
    return getattr(scope.get("route"), "path", None) or "unmatched"


class _ClientWatch:
    """Reads the client's messages ahead of the handler, so a disconnect is seen while it works."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._messages: asyncio.Queue[Message] = asyncio.Queue()

    async def watch(self) -> None:
        """Return when the client has disconnected."""
        while True:
            message = await self._receive()
            self._messages.put_nowait(message)
            if message["type"] == "http.disconnect":
                return

    async def receive(self) -> Message:
        message = await self._messages.get()
        if message["type"] == "http.disconnect":
            self._messages.put_nowait(message)  # every later receive sees it too
        return message


class ClientGoneMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] not in READS
            or not path.startswith("/api/")
            or path.startswith("/api/v1/auth/")
        ):
            await self.app(scope, receive, send)
            return
        started = False

        async def _send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        client = _ClientWatch(receive)

        async def respond() -> None:
            await self.app(scope, client.receive, _send)

        handler = asyncio.create_task(respond())
        watcher = asyncio.create_task(client.watch())
        try:
            await asyncio.wait((handler, watcher), return_when=asyncio.FIRST_COMPLETED)
            if not handler.done() and not started:
                handler.cancel()
                await asyncio.wait((handler,))  # its clean-up (session rollback) runs to the end
                HTTP_CANCELLED.labels(_route(scope)).inc()
                await send({"type": "http.response.start", "status": CLIENT_CLOSED_REQUEST, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            await handler  # done, or its response under way: it finishes (or sees the disconnect)
        finally:
            watcher.cancel()
            if not handler.done():  # this request itself was cancelled (shutdown): end the handler too
                handler.cancel()
                await asyncio.wait((handler,), timeout=CLEANUP_SECONDS)


_request_tasks: set[asyncio.Task[Any]] = set()


class RequestTasksMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        if scope["type"] != "http" or task is None:
            await self.app(scope, receive, send)
            return
        _request_tasks.add(task)
        try:
            await self.app(scope, receive, send)
        finally:
            _request_tasks.discard(task)


async def settle_requests() -> None:
    """Shutdown: give the requests still running ``CLEANUP_SECONDS`` to end (uvicorn has cancelled
    them after its grace period, without waiting for their clean-up)."""
    if _request_tasks:
        await asyncio.wait(set(_request_tasks), timeout=CLEANUP_SECONDS)


class Admission:
    """``limit`` slots, ``queue`` waiting places (FIFO: asyncio's semaphore is fair), bounded waits."""

    def __init__(self, limit: int, queue: int, wait_seconds: float) -> None:
        self.queue, self.wait_seconds = queue, wait_seconds
        self._slots = asyncio.Semaphore(limit)
        self.waiting = 0

    async def acquire(self) -> bool:
        if not self._slots.locked():
            await self._slots.acquire()  # a free slot: taken without waiting
            return True
        if self.waiting >= self.queue:
            return False
        self.waiting += 1
        try:
            async with asyncio.timeout(self.wait_seconds):
                await self._slots.acquire()
            return True
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1

    def release(self) -> None:
        self._slots.release()


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, settings: ServerSettings) -> None:
        self.app = app
        self.admission = Admission(
            settings.expensive_concurrency, settings.expensive_queue, settings.expensive_queue_seconds
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = scope["type"] == "http" and expensive_operation(scope["method"], scope["path"])
        if not operation:
            await self.app(scope, receive, send)
            return
        if not await self.admission.acquire():
            HTTP_SHED.labels(operation).inc()
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
            busy = JSONResponse({"detail": SERVER_BUSY}, status_code=503, headers=headers)
            await busy(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.admission.release()


def document_busy(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare ``server_busy`` and its ``Retry-After`` on the 503 of every expensive operation."""
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and expensive_operation(method.upper(), path):
                busy = operation.setdefault("responses", {}).setdefault("503", {})
                busy["description"] = BUSY_DESCRIPTION
                busy["headers"] = {
                    "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
                }
    return schema


def install_busy_responses(app: FastAPI) -> None:
    """After ``install_error_responses``: its document, with the expensive operations' 503 detailed."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return document_busy(generate())

    app.openapi = openapi  # type: ignore[method-assign]
