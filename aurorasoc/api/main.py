"""Application factory: ``create_app()`` wires routers, middleware, errors and lifespan."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError

# Every table on Base.metadata (a flush resolves foreign keys by table name), not only the routers' own.
import aurorasoc.core.models  # noqa: F401
from aurorasoc import __version__
from aurorasoc.access import router as users
from aurorasoc.access import router_audit as audit
from aurorasoc.access import router_auth as auth
from aurorasoc.access import router_oidc as auth_oidc
from aurorasoc.agents import router as agents
from aurorasoc.agents import router_investigations as investigations
from aurorasoc.agents.worker import register_agent_worker
from aurorasoc.alerts import router as alerts
from aurorasoc.alerts import router_ioc as ioc_alerts
from aurorasoc.api import router_alert_detail as alert_detail
from aurorasoc.api import router_case_detail as case_detail
from aurorasoc.api import router_dashboard as dashboard
from aurorasoc.api import router_system as system
from aurorasoc.api import ws
from aurorasoc.api.body_guard import SurrogateGuardMiddleware
from aurorasoc.api.docs import install_docs
from aurorasoc.api.errors import install_error_handlers
from aurorasoc.api.load_shedding import (
    AdmissionMiddleware,
    ClientGoneMiddleware,
    RequestTasksMiddleware,
    install_busy_responses,
    settle_requests,
)
from aurorasoc.api.middleware import RequestContextMiddleware
from aurorasoc.api.origin_guard import OriginGuardMiddleware
from aurorasoc.api.rate_limit import RateLimitMiddleware
from aurorasoc.api.security_headers import SecurityHeadersMiddleware
from aurorasoc.api.static import install_console
from aurorasoc.cases import router as cases
from aurorasoc.cases import router_alert_bulk as alert_bulk
from aurorasoc.cases import router_alert_links as alert_cases
from aurorasoc.cases import router_case_alerts as case_alerts
from aurorasoc.cases import router_evidence as evidence
from aurorasoc.cases import router_files as case_evidence
from aurorasoc.cases import router_siem_promotion as siem_promotion
from aurorasoc.cases import router_summary as case_summary
from aurorasoc.core import runtime
from aurorasoc.core.bus.current import get_bus, set_bus
from aurorasoc.core.bus.nats_jetstream import start_publisher, stop_publisher
from aurorasoc.core.config import Settings, get_settings
from aurorasoc.core.db import dispose_engine, get_session_factory, probe_database
from aurorasoc.core.redis import close_redis
from aurorasoc.core.system_mode import record_startup_mode
from aurorasoc.core.vocabulary import RuntimeMode
from aurorasoc.core.web.responses import install_error_responses
from aurorasoc.cps import router as cps
from aurorasoc.cps import router_firmware as firmware
from aurorasoc.cps import router_zones as cps_zones
from aurorasoc.cps.mqtt import MQTTEdgeConsumer
from aurorasoc.detection import router as detections
from aurorasoc.detection import router_attack as attack
from aurorasoc.detection import router_coverage as attack_coverage
from aurorasoc.detection import router_exceptions as rule_exceptions
from aurorasoc.detection import router_packs as rule_packs
from aurorasoc.detection import router_stats as rule_stats
from aurorasoc.intel import router as iocs
from aurorasoc.intel import router_feeds as intel_feeds
from aurorasoc.network import router as network
from aurorasoc.network import router_analyzer as network_analyzer
from aurorasoc.network import router_sites as sites
from aurorasoc.network.federation import federation_service
from aurorasoc.reports import router as reports
from aurorasoc.siem import router as siem
from aurorasoc.siem import router_ask as siem_ask
from aurorasoc.siem import router_entities as entities
from aurorasoc.siem import router_hunts as siem_hunts
from aurorasoc.siem import router_ingest as siem_ingest
from aurorasoc.siem import router_rule_testing as rule_testing
from aurorasoc.siem import router_sources as siem_sources
from aurorasoc.siem import router_suppress as rule_suppress
from aurorasoc.siem.ingest.service import FileIngestService
from aurorasoc.siem.log_stream import register_embedded_detection, stored_rules_pipeline_factory
from aurorasoc.soar import router as playbooks
from aurorasoc.soar import router_approvals as approvals
from aurorasoc.soar import router_automation as automation
from aurorasoc.soar import router_executions as executions
from aurorasoc.soar.executions import prepare_soar
from aurorasoc.workers import alert_pipeline
from aurorasoc.workers.scheduler import BackgroundScheduler

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
            await record_startup_mode(session, mode)
    except SQLAlchemyError:
        log.warning("could not persist the runtime mode", exc_info=True)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    await _apply_startup_mode(settings)
    await prepare_soar()
    bus = get_bus()
    for register in app.state.consumers:
        register(bus)
    await bus.start()
    await start_publisher(settings.messaging.nats_url)
    for service in app.state.services:
        await service.start()
    try:
        yield
    finally:
        await settle_requests()
        for service in reversed(app.state.services):
            await service.stop()
        await ws.close_all()
        await stop_publisher()
        await bus.close()
        set_bus(None)
        await close_redis()
        await dispose_engine()


def create_app(settings: Settings | None = None, *, workers: bool = True) -> FastAPI:
    """``workers=False`` (``serve --no-workers``): WebSocket feeds only; ``aurorasoc worker`` consumes."""
    settings = settings or get_settings()
    app = FastAPI(
        title="AuroraSOC API",
        version=__version__,
        description="AI-assisted Security Operations Center. Every route names the permission it needs.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served from local assets by install_docs
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.consumers = [ws.register_alert_feed, ws.register_approval_feed, ws.register_cps_feed]
    app.state.consumers.append(ws.register_thoughts_feed)
    app.state.services = []
    if workers:
        app.state.consumers += [alert_pipeline.register_alert_pipeline, register_embedded_detection]
        app.state.consumers.append(register_agent_worker)
        if settings.scheduler.enabled:
            app.state.services.append(BackgroundScheduler(settings))
        if settings.detection.ingest_paths:
            pipelines = stored_rules_pipeline_factory()
            app.state.services.append(FileIngestService(settings.detection.ingest_paths, pipelines))
        if settings.mqtt.enabled:
            app.state.services.append(MQTTEdgeConsumer(settings.mqtt))
        if federation := federation_service():
            app.state.services.append(federation)
    app.add_middleware(AdmissionMiddleware, settings=settings.server)  # 503 server_busy, past the limits
    app.add_middleware(RateLimitMiddleware, settings=settings.ratelimit)  # inner: 429s keep X-Request-ID
    app.add_middleware(SurrogateGuardMiddleware)  # lone \ud800 escapes: 400 before any parsing
    app.add_middleware(OriginGuardMiddleware)  # cross-site cookie writes / foreign WS origins
    app.add_middleware(ClientGoneMiddleware)  # inside the access log, which records its 499s
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)  # every response, 429s and 500s too
    app.add_middleware(RequestTasksMiddleware)  # outermost: the shutdown waits for cancelled requests
    install_error_handlers(app)

    app.include_router(system.public)
    # A request walks the routers in this order (core.web.routing skips those that cannot match):
    # the alert and log intake comes first, the rest follows.
    for module in (
        alert_bulk,  # before alerts: POST /alerts/bulk
        alerts,
        alert_detail,
        alert_cases,
        siem_ingest,
        system,
        auth,
        auth_oidc,
        users,
        audit,
        iocs,
        ioc_alerts,  # after iocs: GET /iocs/similar before /iocs/{ioc_id}
        intel_feeds,
        cases,
        case_detail,
        case_alerts,
        case_evidence,
        case_summary,
        playbooks,
        executions,
        approvals,
        automation,
        dashboard,
        attack,
        attack_coverage,
        rule_testing,  # before detections: /detections/rules/test
        detections,
        rule_packs,
        rule_exceptions,
        rule_suppress,
        rule_stats,
        entities,
        reports,
        investigations,
        agents,
        cps,
        cps_zones,
        firmware,
        network,
        network_analyzer,
        sites,
        siem_promotion,
        siem,
        siem_sources,
        siem_hunts,
        siem_ask,
        evidence,
        ws,
    ):
        app.include_router(module.router, prefix=API_PREFIX)

    install_docs(app, API_PREFIX)
    install_console(app)
    install_error_responses(app)
    install_busy_responses(app)
    return app
