"""Health, metrics and runtime-mode endpoints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from aurorasoc import __version__
from aurorasoc.api import system_status as status
from aurorasoc.core import runtime
from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.config import get_settings
from aurorasoc.core.db import probe_database
from aurorasoc.core.probes import tcp_reachable, url_reachable
from aurorasoc.core.redis import get_redis
from aurorasoc.core.system_mode import change_mode
from aurorasoc.core.vocabulary import RuntimeMode, SystemMode
from aurorasoc.core.web.deps import CurrentPrincipal, DbSession, client_ip, require_database
from aurorasoc.core.web.routing import IndexedRouter

public = IndexedRouter(tags=["system"])
router = IndexedRouter(prefix="/system", tags=["system"])

Up = Literal["up", "down", "disabled"]


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field("ok", description="degraded while the database is down")
    version: str
    mode: RuntimeMode
    database: Literal["up", "down"]
    redis: Up
    nats: Up
    mqtt: Up


async def _redis_state() -> Up:
    client = await get_redis()
    if client is None:
        return "disabled"
    try:
        await client.ping()
        return "up"
    except Exception:
        return "down"


async def _broker_state(configured: bool, probe: Callable[[], Awaitable[bool]]) -> Up:
    if not configured:
        return "disabled"
    return "up" if await probe() else "down"


async def _health(*, fresh: bool = False) -> Health:
    """``fresh``: probe the database now instead of trusting the few-second cache."""
    settings = get_settings()
    database_up = await probe_database(force=fresh)
    return Health(
        status="ok" if database_up else "degraded",
        version=__version__,
        mode=runtime.current_mode(),
        database="up" if database_up else "down",
        redis=await _redis_state(),
        nats=await _broker_state(
            bool(settings.messaging.nats_url), lambda: url_reachable(settings.messaging.nats_url, 4222)
        ),
        mqtt=await _broker_state(
            settings.mqtt.enabled, lambda: tcp_reachable(settings.mqtt.host, settings.mqtt.port)
        ),
    )


@public.get("/health", response_model=Health, summary="Liveness and dependency state (public)")
async def health() -> Health:
    """Always 200 while the process runs; dependency states are reported, not enforced."""
    return await _health()


@public.get(
    "/health/ready",
    response_model=Health,
    summary="Readiness (public)",
    responses={503: {"description": "Database down in dry_run/real"}},
)
async def ready() -> Response:
    """503 when the database is down in ``dry_run``/``real`` (dummy can serve showcase data)."""
    state = await _health(fresh=True)
    down = state.database == "down" and state.mode is not RuntimeMode.DUMMY
    return JSONResponse(state.model_dump(mode="json"), status_code=503 if down else 200)


@public.get("/metrics", summary="Prometheus metrics (public)", response_class=Response)
async def metrics() -> Response:
    if not get_settings().observability.metrics_enabled:
        return JSONResponse({"detail": "Metrics are disabled"}, status_code=404)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class MQTTIngest(BaseModel):
    """Totals of the MQTT consumers of this deployment (issue 20); ``None`` when none runs."""

    consumers: int
    received: int
    stored: int
    rejected: int
    dropped: int
    failed: int
    broker_dropped: int | None = None


class SystemStatus(BaseModel):
    health: Health
    bus: Literal["in-process", "redis-streams"]
    roles: list[str]
    agents: dict[str, Any]
    dead_letters: dict[str, int | None]
    mqtt_ingest: MQTTIngest | None = None


@router.get(
    "/status",
    response_model=SystemStatus,
    summary="Dependencies, bus, roles, agents, dead letters. Permission: any authenticated principal",
)
async def system_status(request: Request, _principal: CurrentPrincipal) -> SystemStatus:
    state = request.app.state
    return SystemStatus(
        health=await _health(),
        bus=status.bus_backend(),
        roles=status.embedded_roles(state.consumers, state.services),
        agents=status.agent_runtime(),
        dead_letters=await status.dead_letter_counts(),
        mqtt_ingest=await status.mqtt_ingest(),
    )


async def current_system_mode() -> SystemMode:
    return runtime.describe(runtime.current_mode(), await probe_database())


@router.get(
    "/mode", response_model=SystemMode, summary="Runtime truth. Permission: any authenticated principal"
)
async def get_mode(_principal: CurrentPrincipal) -> SystemMode:
    return await current_system_mode()


class ModeChange(BaseModel):
    mode: RuntimeMode


@router.put(
    "/mode",
    response_model=SystemMode,
    summary="Change the runtime mode. Permission: settings:manage",
    dependencies=[Depends(require_database)],
)
async def put_mode(
    body: ModeChange,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("settings:manage")),
) -> SystemMode:
    """Allowed in every mode; recorded in the audit log and announced on ``decisions:system``."""
    await change_mode(session, body.mode, actor=Actor.of(principal, client_ip(request)))
    return await current_system_mode()
