"""Lone UTF-16 surrogates (``"\\ud800"``) are refused at the HTTP boundary (issue 18 finding 5).

JSON lets a string escape half of a surrogate pair; Python decodes it into a ``str`` that cannot be
encoded as UTF-8, so it failed much later (PostgreSQL, Redis, the error handler itself) as a 500.
Text bodies are read here (up to ``MAX_CHECKED_BYTES``, then replayed to the application) and a
400 ``invalid_text`` answers the first unpaired escape. Binary and multipart bodies (EVTX,
firmware bundles) are not JSON text and pass untouched, as do larger bodies (the ingest route
refuses those itself).
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_ESCAPE = re.compile(rb"(\\+)u([dD][0-9a-fA-F]{3})")
_BINARY = ("application/octet-stream", "multipart/")
MAX_CHECKED_BYTES = 16 * 1024 * 1024
REFUSED = {
    "code": "invalid_text",
    "message": "the body holds a lone UTF-16 surrogate escape (\\uD800-\\uDFFF), which is not text",
}


def lone_surrogate(data: bytes) -> bool:
    """Does ``data`` hold a ``\\uD800``-``\\uDFFF`` escape that is not half of an adjacent pair?"""
    expect_low_at = -1  # where the low half must start, right after a high half
    for match in _ESCAPE.finditer(data):
        if len(match.group(1)) % 2 == 0:  # "\\\\ud800": an escaped backslash, then plain text
            continue
        start = match.end(1) - 1
        if expect_low_at >= 0 and start != expect_low_at:
            return True
        if int(match.group(2), 16) < 0xDC00:
            if expect_low_at >= 0:
                return True
            expect_low_at = match.end()
        elif expect_low_at < 0:
            return True
        else:
            expect_low_at = -1
    return expect_low_at >= 0


async def _read(receive: Receive) -> tuple[list[Message], bool]:
    """The request's body messages up to the cap, and whether the whole body was read."""
    messages: list[Message] = []
    size = 0
    while size <= MAX_CHECKED_BYTES:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, False
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            return messages, True
    return messages, False


class SurrogateGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = Headers(scope=scope).get("content-type", "") if scope["type"] == "http" else ""
        if not content_type or content_type.startswith(_BINARY):
            await self.app(scope, receive, send)
            return
        messages, complete = await _read(receive)
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        if complete and b"\\" in body and lone_surrogate(body):
            await JSONResponse({"detail": REFUSED}, status_code=400)(scope, receive, send)
            return
        pending = list(messages)

        async def replay() -> Message:
            return pending.pop(0) if pending else await receive()

        await self.app(scope, replay, send)
