"""RedisRateLimiter: the Lua sliding log through Redis and the in-memory fallback."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from unittest.mock import AsyncMock, MagicMock, patch

import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from aurorasoc.core.config import reset_settings
from aurorasoc.core.rate_limit import LUA, RedisRateLimiter
from aurorasoc.core.redis import close_redis


def _mock_redis(script_return: int):
    """Create a mock Redis client with a Lua script that returns script_return."""
    mock_client = MagicMock()  # sync — register_script is NOT async
    mock_script = AsyncMock(return_value=script_return)  # script call IS async
    mock_client.register_script.return_value = mock_script
    return mock_client, mock_script


async def test_rate_limiter_allows_within_limit():
    """Requests below threshold are allowed."""
    mock_client, _ = _mock_redis(script_return=5)
    with patch("aurorasoc.core.rate_limit.get_redis", AsyncMock(return_value=mock_client)):
        limiter = RedisRateLimiter(max_requests=100, window_seconds=60)
        allowed, remaining = await limiter.check("user-1")
        assert allowed is True
        assert remaining == 95  # 100 - 5


async def test_rate_limiter_blocks_over_limit():
    """Requests over threshold are blocked."""
    mock_client, _ = _mock_redis(script_return=101)
    with patch("aurorasoc.core.rate_limit.get_redis", AsyncMock(return_value=mock_client)):
        limiter = RedisRateLimiter(max_requests=100, window_seconds=60)
        allowed, remaining = await limiter.check("user-1")
        assert allowed is False
        assert remaining == 0


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _fallback_active() -> float | None:
    return REGISTRY.get_sample_value("rate_limit_fallback_active")


def _patch_redis(**kwargs: object):  # type: ignore[no-untyped-def]
    return patch("aurorasoc.core.rate_limit.get_redis", AsyncMock(**kwargs))


async def _run(limiter: RedisRateLimiter, key: str, times: int) -> list[tuple[bool, int]]:
    return [await limiter.check(key) for _ in range(times)]


class TestRedisPath:
    async def test_exactly_at_limit_is_allowed_with_nothing_left(self) -> None:
        client, _ = _mock_redis(script_return=100)
        with _patch_redis(return_value=client):
            assert await RedisRateLimiter(100, 60).check("u") == (True, 0)

    async def test_script_is_registered_once_and_reused(self) -> None:
        client, script = _mock_redis(script_return=1)
        with _patch_redis(return_value=client):
            limiter = RedisRateLimiter(10, 60)
            await _run(limiter, "u", 3)
        client.register_script.assert_called_once_with(LUA)
        assert script.await_count == 3

    async def test_a_new_client_gets_its_own_script(self) -> None:
        first, _ = _mock_redis(script_return=1)
        second, second_script = _mock_redis(script_return=2)
        limiter = RedisRateLimiter(10, 60)
        with _patch_redis(return_value=first):
            await limiter.check("u")
        with _patch_redis(return_value=second):
            assert await limiter.check("u") == (True, 8)
        second.register_script.assert_called_once_with(LUA)
        second_script.assert_awaited_once()

    async def test_key_and_args(self) -> None:
        client, script = _mock_redis(script_return=1)
        before = int(time.time() * 1000)
        with _patch_redis(return_value=client):
            limiter = RedisRateLimiter(10, 30, scope="login")
            await _run(limiter, "10.0.0.5:alice", 2)
        after = int(time.time() * 1000)
        members = []
        for call in script.await_args_list:
            assert call.kwargs["keys"] == ["ratelimit:login:10.0.0.5:alice"]
            now_ms, window_ms, member = call.kwargs["args"]
            assert before <= now_ms <= after
            assert window_ms == 30_000
            assert member.startswith(f"{now_ms}-")
            members.append(member)
        assert len(set(members)) == 2, "members must be unique per request"

    async def test_default_scope_is_api(self) -> None:
        client, script = _mock_redis(script_return=1)
        with _patch_redis(return_value=client):
            await RedisRateLimiter(10, 60).check("user-1")
        assert script.await_args.kwargs["keys"] == ["ratelimit:api:user-1"]

    def test_lua_is_an_atomic_sliding_log(self) -> None:
        steps = ["ZREMRANGEBYSCORE", "ZADD", "PEXPIRE", "ZCARD"]
        positions = [LUA.index(step) for step in steps]
        assert positions == sorted(positions)


class TestFallback:
    async def test_none_client_uses_memory_with_same_semantics(self) -> None:
        with _patch_redis(return_value=None):
            results = await _run(RedisRateLimiter(3, 60), "u", 5)
        assert results == [(True, 2), (True, 1), (True, 0), (False, 0), (False, 0)]

    @pytest.mark.parametrize(
        "error",
        [
            ConnectionError("refused"),
            TimeoutError("slow"),
            OSError("network unreachable"),
            RedisError("boom"),
            RedisConnectionError("refused"),
            RedisTimeoutError("slow"),
        ],
    )
    @pytest.mark.parametrize("where", ["get_redis", "script"])
    async def test_redis_errors_fall_back(self, error: Exception, where: str) -> None:
        client, script = _mock_redis(script_return=1)
        script.side_effect = error
        patched = (
            _patch_redis(side_effect=error) if where == "get_redis" else _patch_redis(return_value=client)
        )
        limiter = RedisRateLimiter(2, 60, redis_retry_seconds=0)
        with patched:
            results = await _run(limiter, "u", 3)
        assert results == [(True, 1), (True, 0), (False, 0)]
        assert limiter.in_fallback is True
        assert _fallback_active() == 1

    async def test_unexpected_errors_are_not_swallowed(self) -> None:
        with _patch_redis(side_effect=ValueError("bug")), pytest.raises(ValueError):
            await RedisRateLimiter(2, 60).check("u")

    async def test_keys_have_separate_buckets(self) -> None:
        limiter = RedisRateLimiter(1, 60)
        with _patch_redis(return_value=None):
            assert await limiter.check("a") == (True, 0)
            assert await limiter.check("b") == (True, 0)
            assert await limiter.check("a") == (False, 0)

    async def test_window_slides(self) -> None:
        clock = FakeClock()
        limiter = RedisRateLimiter(2, 60, clock=clock)
        with _patch_redis(return_value=None):
            assert await limiter.check("u") == (True, 1)
            clock.now += 30
            assert await limiter.check("u") == (True, 0)
            assert await limiter.check("u") == (False, 0)
            clock.now += 31  # the first request left the window; the two at +30 s remain
            assert await limiter.check("u") == (False, 0)
            clock.now += 60  # only this request remains; rejected ones counted too until now
            assert await limiter.check("u") == (True, 1)

    async def test_memory_is_bounded(self) -> None:
        clock = FakeClock()
        limiter = RedisRateLimiter(1, 60, clock=clock, max_fallback_keys=2)
        with _patch_redis(return_value=None):
            await _run(limiter, "a", 1)
            await _run(limiter, "b", 1)
            await _run(limiter, "a", 1)  # "a" is now the most recently used
            await _run(limiter, "c", 1)
        assert list(limiter._fallback) == ["ratelimit:api:a", "ratelimit:api:c"]

    async def test_a_flood_keeps_only_what_the_verdict_needs(self) -> None:
        clock = FakeClock()
        limiter = RedisRateLimiter(2, 60, clock=clock)
        with _patch_redis(return_value=None):
            for _ in range(50):
                clock.now += 1
                await limiter.check("u")
            assert len(limiter._fallback["ratelimit:api:u"]) == 3
            clock.now += 59  # the newest flood entry is still inside the window
            assert await limiter.check("u") == (True, 0)

    async def test_idle_buckets_are_swept(self) -> None:
        clock = FakeClock()
        limiter = RedisRateLimiter(1, 60, clock=clock)
        with _patch_redis(return_value=None):
            await _run(limiter, "a", 1)
            await _run(limiter, "b", 1)
            clock.now += 61
            await _run(limiter, "c", 1)
        assert list(limiter._fallback) == ["ratelimit:api:c"]

    async def test_gauge_toggles_with_redis_health(self) -> None:
        clock = FakeClock()
        client, script = _mock_redis(script_return=1)
        limiter = RedisRateLimiter(5, 60, clock=clock, redis_retry_seconds=5)
        with _patch_redis(return_value=client):
            await limiter.check("u")
            assert _fallback_active() == 0
            script.side_effect = RedisConnectionError("down")
            await limiter.check("u")
            assert _fallback_active() == 1
            script.side_effect = None
            clock.now += 5
            assert await limiter.check("u") == (True, 4)
        assert _fallback_active() == 0
        assert limiter.in_fallback is False

    async def test_redis_is_not_retried_before_the_backoff(self) -> None:
        clock = FakeClock()
        broken = AsyncMock(side_effect=RedisConnectionError("down"))
        limiter = RedisRateLimiter(5, 60, clock=clock, redis_retry_seconds=5)
        with patch("aurorasoc.core.rate_limit.get_redis", broken):
            await _run(limiter, "u", 3)
            assert broken.await_count == 1
            clock.now += 5
            await limiter.check("u")
        assert broken.await_count == 2


@pytest.fixture
async def real_redis(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[aioredis.Redis]:
    """The process-wide client pointed at the test Redis; a separate client to inspect and clean up."""
    from conftest import require_service

    url = require_service("redis")
    monkeypatch.setenv("AURORA_REDIS_URL", url)
    reset_settings()
    inspector = aioredis.from_url(url)
    yield inspector
    await close_redis()
    leftovers = [key async for key in inspector.scan_iter("ratelimit:it-*")]
    if leftovers:
        await inspector.delete(*leftovers)
    await inspector.aclose()


@pytest.mark.integration
class TestRealRedis:
    async def test_limit_reached_then_window_passes(self, real_redis: aioredis.Redis) -> None:
        limiter = RedisRateLimiter(3, 1, scope=f"it-{uuid.uuid4().hex}")
        assert await _run(limiter, "u", 4) == [(True, 2), (True, 1), (True, 0), (False, 0)]
        assert limiter.in_fallback is False
        assert _fallback_active() == 0
        await asyncio.sleep(1.1)
        assert await limiter.check("u") == (True, 2)

    async def test_key_expires_with_the_window(self, real_redis: aioredis.Redis) -> None:
        scope = f"it-{uuid.uuid4().hex}"
        await RedisRateLimiter(3, 1, scope=scope).check("u")
        key = f"ratelimit:{scope}:u"
        assert 0 < await real_redis.pttl(key) <= 1000
        await asyncio.sleep(1.1)
        assert await real_redis.exists(key) == 0

    async def test_instances_share_one_bucket(self, real_redis: aioredis.Redis) -> None:
        scope = f"it-{uuid.uuid4().hex}"
        first, second = RedisRateLimiter(2, 60, scope=scope), RedisRateLimiter(2, 60, scope=scope)
        assert await first.check("u") == (True, 1)
        assert await second.check("u") == (True, 0)
        assert await first.check("u") == (False, 0)
        assert await real_redis.zcard(f"ratelimit:{scope}:u") == 3
