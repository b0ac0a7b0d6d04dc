"""Threat-intel enrichment (spec §14.4): a provider interface, a simulated default and a result cache.

A provider is anything with a ``name`` and ``async lookup(ioc_type, value) -> IntelResult``
(:class:`ThreatIntelProvider`). Real ones (VirusTotal, AbuseIPDB, OTX, Shodan, …) plug in through
the entry point group ``aurorasoc.intel_providers`` (name = provider name, value = a class built
with no arguments), as connectors do (``aurorasoc.connectors``). With none installed the process
uses :class:`SimulatedIntelProvider`, which never invents a reputation: its verdict is always
``unknown`` and it reports only what this SOC has seen locally. Every provider call has a 10 s
timeout; results are cached for ``AURORA_IOC_CACHE_TTL_SECONDS`` under ``aurora:ioc:<type>:<value>``
in Redis when ``AURORA_REDIS_URL`` is set, else in process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import entry_points
from typing import Any, Literal, Protocol, runtime_checkable

import orjson
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from aurorasoc.core.config import get_settings
from aurorasoc.core.db import get_session_factory
from aurorasoc.core.namespace import redis_key
from aurorasoc.core.redis import get_redis
from aurorasoc.intel.models import AlertIOCModel, IOCModel

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "aurorasoc.intel_providers"
PROVIDER_TIMEOUT_SECONDS = 10.0
CACHE_KEY = "aurora:ioc:{ioc_type}:{value}"
Verdict = Literal["malicious", "suspicious", "benign", "unknown"]


class IntelResult(BaseModel):
    """One provider's answer about one indicator."""

    provider: str
    ioc_type: str
    value: str
    verdict: Verdict = "unknown"
    score: float | None = Field(None, ge=0, le=1, description="Provider confidence in the verdict, 0-1")
    simulated: bool = False
    summary: str = ""
    context: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    fetched_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


@runtime_checkable
class ThreatIntelProvider(Protocol):
    name: str

    async def lookup(self, ioc_type: str, value: str) -> IntelResult: ...


class SimulatedIntelProvider:
    """The default when no real provider is installed: deterministic, labelled, local facts only."""

    name = "simulated"

    async def lookup(self, ioc_type: str, value: str) -> IntelResult:
        async with get_session_factory()() as session:
            row = (
                await session.execute(
                    select(IOCModel, func.count(AlertIOCModel.alert_id))
                    .outerjoin(AlertIOCModel, AlertIOCModel.ioc_id == IOCModel.id)
                    .where(IOCModel.type == ioc_type, IOCModel.value == value)
                    .group_by(IOCModel.id)
                )
            ).first()
        context: dict[str, Any] = {"known_locally": row is not None}
        if row is not None:
            ioc, linked = row
            context |= {
                "sightings": ioc.sightings,
                "linked_alerts": linked,
                "first_seen": ioc.first_seen.isoformat(),
                "last_seen": ioc.last_seen.isoformat(),
            }
        seen = f"seen {context['sightings']} time(s) locally" if row is not None else "never seen locally"
        return IntelResult(
            provider=self.name, ioc_type=ioc_type, value=value, simulated=True, context=context,
            summary=f"Simulated provider: no external reputation source is configured; {seen}.",
        )  # fmt: skip


class Enrichment(BaseModel):
    results: list[IntelResult]
    cached: bool


class _MemoryCache:
    """A bounded in-process TTL cache (the fallback when Redis is not configured)."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max = max_entries

    def get(self, key: str) -> bytes | None:
        hit = self._entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return hit[1]

    def set(self, key: str, value: bytes, ttl: int) -> None:
        self._entries[key] = (time.monotonic() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


class IntelService:
    """Ask every provider in parallel, at most once per TTL per indicator."""

    def __init__(self, providers: list[ThreatIntelProvider]) -> None:
        self.providers = providers
        self._memory = _MemoryCache()

    async def enrich(self, ioc_type: str, value: str) -> Enrichment:
        key = redis_key(CACHE_KEY.format(ioc_type=ioc_type, value=value))
        ttl = get_settings().intel.ioc_cache_ttl_seconds
        if ttl and (raw := await self._cache_get(key)) is not None:
            return Enrichment(results=[IntelResult.model_validate(r) for r in orjson.loads(raw)], cached=True)
        results = list(await asyncio.gather(*(_ask(p, ioc_type, value) for p in self.providers)))
        if ttl:
            await self._cache_set(key, orjson.dumps([r.model_dump(mode="json") for r in results]), ttl)
        return Enrichment(results=results, cached=False)

    async def _cache_get(self, key: str) -> bytes | None:
        client = await get_redis()
        if client is None:
            return self._memory.get(key)
        try:
            value: bytes | None = await client.get(key)
            return value
        except Exception as exc:  # Redis is a cache here: a miss, not a failure
            log.warning("intel cache read failed (%s); asking the providers", exc)
            return None

    async def _cache_set(self, key: str, value: bytes, ttl: int) -> None:
        client = await get_redis()
        if client is None:
            self._memory.set(key, value, ttl)
            return
        try:
            await client.set(key, value, ex=ttl)
        except Exception as exc:
            log.warning("intel cache write failed (%s)", exc)


async def _ask(provider: ThreatIntelProvider, ioc_type: str, value: str) -> IntelResult:
    """A provider that fails or times out yields an ``unknown`` result naming the error."""
    try:
        async with asyncio.timeout(PROVIDER_TIMEOUT_SECONDS):
            return await provider.lookup(ioc_type, value)
    except Exception as exc:
        log.warning("intel provider %s failed on %s %s: %r", provider.name, ioc_type, value, exc)
        error = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        return IntelResult(provider=provider.name, ioc_type=ioc_type, value=value, error=error)


def load_providers() -> list[ThreatIntelProvider]:
    """Installed providers (entry point group ``aurorasoc.intel_providers``), else the simulated one."""
    found: list[ThreatIntelProvider] = [ep.load()() for ep in entry_points(group=ENTRY_POINT_GROUP)]
    return found or [SimulatedIntelProvider()]


@cache
def default_intel_service() -> IntelService:
    """The process-wide service (``default_intel_service.cache_clear()`` forgets it and its cache)."""
    return IntelService(load_providers())
