"""Serve the built operator console (``aurorasoc/web``, produced by ``make dashboard``; spec §24.1).

Hashed files under ``/assets`` are immutable and cached for a year; every other GET outside
``/api``, ``/health`` and ``/metrics`` gets ``index.html`` with ``no-cache`` so client-side routes
work and a new build is picked up at once. Without a build, ``/`` explains how to make one.
"""

from __future__ import annotations

from pathlib import Path

import anyio
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Match, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
RESERVED_PREFIXES = ("/api/", "/health", "/metrics")
IMMUTABLE = "public, max-age=31536000, immutable"

NOT_BUILT = """<!doctype html><html><head><meta charset="utf-8"><title>AuroraSOC</title></head>
<body style="font-family:system-ui;background:#0b1220;color:#e2e8f0;padding:3rem">
<h1>AuroraSOC</h1><p>The API is running, but the web console is not built. Run <code>make dashboard</code>
(Node 20 and npm) and reload this page.</p>
<p><a style="color:#7dd3fc" href="/api/v1/docs">API documentation</a> ·
<a style="color:#7dd3fc" href="/health">health</a></p></body></html>"""


class HashedAssets(StaticFiles):
    """Vite puts a content hash in every asset name, so they never change once served."""

    def file_response(self, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = IMMUTABLE
        return response

    async def check_config(self) -> None:
        """No build yet is not an error: missing assets are plain 404s."""
        if self.directory is not None and await anyio.Path(self.directory).is_dir():
            await super().check_config()


class ConsoleRoute(Route):
    """A catch-all that never claims API paths or non-GET requests, so their 404/405 stay intact."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return Match.NONE, {}
        if scope["path"] == "/api" or scope["path"].startswith(RESERVED_PREFIXES):
            return Match.NONE, {}
        return super().matches(scope)


def _console_endpoint(web_dir: Path):  # type: ignore[no-untyped-def]
    root = web_dir.resolve()

    def console(request: Request) -> Response:  # sync: Starlette runs it in a thread (file stats)
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=200 if request.url.path == "/" else 404)
        candidate = (root / request.path_params["path"]).resolve()
        if candidate.is_file() and candidate.is_relative_to(root) and candidate != index:
            return FileResponse(candidate, headers={"Cache-Control": "public, max-age=3600"})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    return console


def install_console(app: FastAPI, web_dir: Path | None = None) -> None:
    """Mount the console last: API routes registered before it always win."""
    web_dir = web_dir or WEB_DIR
    app.mount("/assets", HashedAssets(directory=web_dir / "assets", check_dir=False), name="assets")
    app.router.routes.append(ConsoleRoute("/{path:path}", _console_endpoint(web_dir), name="console"))
