"""Tests for aurorasoc.intel.enrichment: the simulated provider, provider loading, timeouts and the caches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from importlib.metadata import EntryPoint

import orjson
import pytest
import redis.asyncio as aioredis
from conftest import require_service

from aurorasoc.core.config import reset_settings
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AlertIOCModel, AlertModel, IOCModel
from aurorasoc.core.redis import close_redis
from aurorasoc.intel import enrichment as intel
from aurorasoc.intel.enrichment import (
    ENTRY_POINT_GROUP,
    IntelResult,
    IntelService,
    SimulatedIntelProvider,
    ThreatIntelProvider,
    load_providers,
)


class CountingProvider:
    """A stand-in real provider: answers ``suspicious`` and counts how often it was asked."""

    name = "counting"

    def __init__(self) -> None:
        self.calls = 0

    async def lookup(self, ioc_type: str, value: str) -> IntelResult:
        self.calls += 1
        return IntelResult(
            provider=self.name, ioc_type=ioc_type, value=value, verdict="suspicious", score=0.6
        )


class BrokenProvider:
    name = "broken"

    async def lookup(self, ioc_type: str, value: str) -> IntelResult:
        raise ConnectionError("provider unreachable")


class HangingProvider:
    name = "hanging"

    async def lookup(self, ioc_type: str, value: str) -> IntelResult:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class TestSimulatedProvider:
    def test_it_satisfies_the_provider_protocol(self):
        assert isinstance(SimulatedIntelProvider(), ThreatIntelProvider)

    async def test_unknown_value_is_labelled_and_never_malicious(self, app_db):
        result = await SimulatedIntelProvider().lookup("ip", "198.51.100.4")
        assert (result.verdict, result.simulated, result.score, result.error) == ("unknown", True, None, None)
        assert result.context == {"known_locally": False}
        assert "no external reputation source" in result.summary

    async def test_known_value_reports_local_sightings_deterministically(self, app_db):
        async with session_scope() as session:
            ioc = IOCModel(type="domain", value="evil.example.com", sightings=3)
            alerts = [AlertModel(title=f"a{i}", severity="high", source="t") for i in range(2)]
            session.add_all([ioc, *alerts])
            await session.flush()
            session.add_all([AlertIOCModel(alert_id=a.id, ioc_id=ioc.id) for a in alerts])
        provider = SimulatedIntelProvider()
        first, second = [await provider.lookup("domain", "evil.example.com") for _ in range(2)]
        assert first.context == second.context and first.verdict == second.verdict == "unknown"
        assert (first.context["sightings"], first.context["linked_alerts"]) == (3, 2)
        assert first.context["first_seen"] == ioc.first_seen.isoformat()


class TestProviders:
    def test_default_is_the_simulated_provider(self):
        assert [p.name for p in load_providers()] == ["simulated"]

    def test_installed_entry_points_replace_the_simulation(self, monkeypatch):
        found = [EntryPoint(name="counting", value="test_intel:CountingProvider", group=ENTRY_POINT_GROUP)]
        monkeypatch.setattr(intel, "entry_points", lambda group: found if group == ENTRY_POINT_GROUP else [])
        assert [type(p).__name__ for p in load_providers()] == ["CountingProvider"]

    async def test_failing_and_hanging_providers_yield_unknown_with_the_error(self, monkeypatch):
        monkeypatch.setattr(intel, "PROVIDER_TIMEOUT_SECONDS", 0.05)  # spec: 10 s
        counting = CountingProvider()
        service = IntelService([counting, BrokenProvider(), HangingProvider()])
        results = {r.provider: r for r in (await service.enrich("ip", "203.0.113.9")).results}
        assert results["counting"].verdict == "suspicious"
        assert (results["broken"].verdict, results["broken"].error) == (
            "unknown",
            "ConnectionError: provider unreachable",
        )
        assert results["hanging"].error == "timed out"


class TestMemoryCache:
    async def test_second_lookup_is_served_from_the_cache(self):
        counting = CountingProvider()
        service = IntelService([counting])
        first = await service.enrich("ip", "203.0.113.9")
        again = await service.enrich("ip", "203.0.113.9")
        other = await service.enrich("ip", "203.0.113.10")
        assert (first.cached, again.cached, other.cached) == (False, True, False)
        assert again.results == first.results and counting.calls == 2

    async def test_ttl_zero_disables_caching(self, monkeypatch):
        monkeypatch.setenv("AURORA_IOC_CACHE_TTL_SECONDS", "0")
        reset_settings()
        counting = CountingProvider()
        service = IntelService([counting])
        assert [(await service.enrich("ip", "203.0.113.9")).cached for _ in range(2)] == [False, False]
        assert counting.calls == 2

    def test_entries_expire_and_the_oldest_is_evicted(self, monkeypatch):
        clock = [1000.0]
        monkeypatch.setattr(intel.time, "monotonic", lambda: clock[0])
        cache = intel._MemoryCache(max_entries=2)
        cache.set("a", b"1", ttl=10)
        cache.set("b", b"2", ttl=100)
        cache.set("c", b"3", ttl=100)
        assert (cache.get("a"), cache.get("b")) == (None, b"2")  # "a" evicted at the bound
        clock[0] += 50
        assert (cache.get("b"), cache.get("c")) == (b"2", b"3")
        clock[0] += 51
        assert cache.get("b") is None


@pytest.fixture
async def redis_url(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    url = require_service("redis")
    monkeypatch.setenv("AURORA_REDIS_URL", url)
    monkeypatch.setenv("AURORA_IOC_CACHE_TTL_SECONDS", "120")
    reset_settings()
    yield url
    await close_redis()


@pytest.mark.integration
async def test_redis_cache_is_shared_and_expires(redis_url):
    client = aioredis.from_url(redis_url)
    key = "aurora:ioc:domain:redis-cache.example.com"
    await client.delete(key)
    counting = CountingProvider()
    try:
        first = await IntelService([counting]).enrich("domain", "redis-cache.example.com")
        # a second service (another process) sees the same cache entry
        again = await IntelService([counting]).enrich("domain", "redis-cache.example.com")
        stored = orjson.loads(await client.get(key))
        ttl = await client.ttl(key)
    finally:
        await client.delete(key)
        await client.aclose()
    assert (first.cached, again.cached, counting.calls) == (False, True, 1)
    assert stored[0]["verdict"] == "suspicious" and 0 < ttl <= 120
