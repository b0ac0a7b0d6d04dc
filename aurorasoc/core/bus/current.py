"""The bus of this process: chosen once from the settings, replaceable in tests."""

from __future__ import annotations

from aurorasoc.core.bus.base import EventBus
from aurorasoc.core.bus.inprocess import InProcessBus
from aurorasoc.core.bus.redis_streams import RedisStreamsBus
from aurorasoc.core.config import get_settings

_bus: EventBus | None = None


def get_bus() -> EventBus:
    """The bus of this process: Redis Streams when ``AURORA_REDIS_URL`` is set, else in-process."""
    global _bus
    if _bus is None:
        redis_url = get_settings().messaging.redis_url
        _bus = RedisStreamsBus(redis_url) if redis_url else InProcessBus()
    return _bus


def set_bus(bus: EventBus | None) -> None:
    global _bus
    _bus = bus
