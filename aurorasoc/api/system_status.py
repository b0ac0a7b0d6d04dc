"""``GET /system/status`` (spec §10): what this process runs and how its dependencies are doing.

Roles are read off the app's registered consumers and services, so the answer is what is running
here, not what the configuration hopes for. Dead-letter counts come from Redis; the in-process bus
keeps no dead letters beyond a log line, and says so with ``None``.
"""

from __future__ import annotations

from typing import Any, Literal

from aurorasoc.agents.factory import CircuitState, breaker_for
from aurorasoc.agents.specs import AGENT_SPECS
from aurorasoc.core.bus.base import AGENT_DEAD_LETTER, DEAD_LETTER
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.bus.redis_streams import RedisStreamsBus
from aurorasoc.core.config import get_settings
from aurorasoc.core.namespace import redis_key
from aurorasoc.core.redis import get_redis
from aurorasoc.cps.mqtt import active_consumer
from aurorasoc.cps.mqtt_stats import fleet_ingest

# registered consumer function or service class → the worker role it stands for (spec §2.4)
ROLE_OF = {
    "register_alert_pipeline": "pipeline",
    "register_embedded_detection": "detection",
    "register_agent_worker": "agents",
    "BackgroundScheduler": "scheduler",
    "FileIngestService": "ingest",
    "MQTTEdgeConsumer": "mqtt",
    "FederationService": "federation",
}


def embedded_roles(consumers: list[Any], services: list[Any]) -> list[str]:
    names = [getattr(c, "__name__", "") for c in consumers] + [type(s).__name__ for s in services]
    return sorted({ROLE_OF[n] for n in names if n in ROLE_OF})


def agent_runtime() -> dict[str, Any]:
    cfg = get_settings().agents
    states = {spec.name: breaker_for(spec.name).state for spec in AGENT_SPECS.values()}
    return {
        "backend": (cfg.llm_model or "default") if cfg.configured else "offline",
        "a2a_mode": cfg.a2a_mode,
        "open_circuits": sorted(name for name, state in states.items() if state is CircuitState.OPEN),
    }


async def dead_letter_counts() -> dict[str, int | None]:
    """XLEN of both dead-letter streams; ``None`` when they are not kept (in-process bus)."""
    streams = (DEAD_LETTER, AGENT_DEAD_LETTER)
    client = await get_redis()
    if client is None or not isinstance(get_bus(), RedisStreamsBus):
        return dict.fromkeys(streams)
    try:
        return {stream: int(await client.xlen(redis_key(stream))) for stream in streams}
    except Exception:  # Redis down: the dependency block already says so
        return dict.fromkeys(streams)


async def mqtt_ingest() -> dict[str, Any] | None:
    """Received / stored / rejected / dropped of every MQTT consumer, and the broker's own drops."""
    local = active_consumer()
    return await fleet_ingest(local.stats if local else None)


def bus_backend() -> Literal["in-process", "redis-streams"]:
    return "redis-streams" if isinstance(get_bus(), RedisStreamsBus) else "in-process"
