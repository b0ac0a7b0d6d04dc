"""Application factory: ``create_app()`` wires routers, middleware, errors and lifespan."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import SQLAlchemyError

from aurorasoc import __version__
from aurorasoc.api import ws
from aurorasoc.api.errors import install_error_handlers
from aurorasoc.api.middleware import RequestContextMiddleware
from aurorasoc.api.rate_limit import RateLimitMiddleware
from aurorasoc.api.routers import alert_cases, alerts, audit, auth, case_alerts, cases, system, users
from aurorasoc.config.settings import Settings, get_settings
from aurorasoc.core import runtime
from aurorasoc.core.db import dispose_engine, get_session_factory, probe_database
from aurorasoc.core.redis import close_redis
from aurorasoc.events.bus import get_bus, set_bus
from aurorasoc.models.domain import RuntimeMode
from aurorasoc.services import alert_pipeline
from aurorasoc.services.system import persist_mode

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"


async def _apply_startup_mode(settings: Settings) -> None:
    """At start ``AURORA_MODE`` wins and is written to ``system_settings``."""
    mode = runtime.set_mode(RuntimeMode(settings.mode))
    if not await probe_database(force=True):
        log.warning("database unreachable at start; mode %s applied in memory only", mode.value)
        return
    try:
        async with get_session_factory()() as session:
            await persist_mode(session, mode, "system")
            await session.commit()
    except SQLAlchemyError:
        log.warning("could not persist the runtime mode", exc_info=True)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    await _apply_startup_mode(settings)
    bus = get_bus()
    for register in app.state.consumers:
        register(bus)
    await bus.start()
    try:
        yield
    finally:
        await ws.close_all()
        await bus.close()
        set_bus(None)
        await close_redis()
        await dispose_engine()


_LANDING = """<!doctype html><html><head><meta charset="utf-8"><title>AuroraSOC</title></head>
<body style="font-family:system-ui;background:#0b1220;color:#e2e8f0;padding:3rem">
<h1>AuroraSOC</h1><p>The API is running. The web console is not built yet.</p>
<p><a style="color:#7dd3fc" href="/api/v1/docs">API documentation</a> ·
<a style="color:#7dd3fc" href="/health">health</a></p></body></html>"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="AuroraSOC API",
        version=__version__,
        description="AI-assisted Security Operations Center. Every route names the permission it needs.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.consumers = [ws.register_alert_feed, alert_pipeline.register_alert_pipeline]
    app.add_middleware(RateLimitMiddleware, settings=settings.ratelimit)  # inner: 429s keep X-Request-ID
    app.add_middleware(RequestContextMiddleware)
    install_error_handlers(app)

    app.include_router(system.public)
    for module in (system, auth, users, audit, alerts, alert_cases, cases, case_alerts, ws):
        app.include_router(module.router, prefix=API_PREFIX)

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    async def landing() -> str:
        return _LANDING

    return app
