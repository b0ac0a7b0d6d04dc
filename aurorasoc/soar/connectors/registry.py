"""Which connector serves each capability (spec §15.6).

Defaults: :class:`SimulatedConnector` everywhere; ``notify`` goes to the real webhook connector
when ``AURORA_NOTIFY_WEBHOOK_URL`` is set. ``AURORA_CONNECTORS`` (``{"edr": "pkg.mod:Class"}``)
and the entry point group ``aurorasoc.connectors`` (name = capability) plug in real ones; the
setting wins over entry points.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from aurorasoc.core.config import get_settings
from aurorasoc.core.errors import InvalidInput
from aurorasoc.soar.connectors.base import CAPABILITIES
from aurorasoc.soar.connectors.simulated import SimulatedConnector
from aurorasoc.soar.connectors.webhook import WebhookNotifyConnector

ENTRY_POINT_GROUP = "aurorasoc.connectors"


class ConnectorRegistry:
    def __init__(self, connectors: dict[str, Any] | None = None) -> None:
        simulated = SimulatedConnector()
        self._by_capability: dict[str, Any] = {cap: simulated for cap in CAPABILITIES}
        self._by_capability.update(connectors or {})

    def get(self, capability: str) -> Any:
        try:
            return self._by_capability[capability]
        except KeyError:
            raise InvalidInput(f"unknown connector capability {capability!r}") from None

    def set(self, capability: str, connector: Any) -> None:
        self._by_capability[capability] = connector


def _load(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise InvalidInput(f"connector {spec!r} must look like 'package.module:Class'")
    return getattr(importlib.import_module(module_name), attr)()


def build_connectors() -> ConnectorRegistry:
    """The registry this process's settings describe."""
    soar = get_settings().soar
    chosen: dict[str, Any] = {}
    if soar.notify_webhook_url:
        chosen["notify"] = WebhookNotifyConnector(soar.notify_webhook_url)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        chosen[ep.name] = ep.load()()
    for capability, spec in soar.connectors.items():
        chosen[capability] = _load(spec)
    return ConnectorRegistry(chosen)
