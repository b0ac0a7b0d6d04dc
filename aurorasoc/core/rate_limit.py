"""Sliding-window rate limiting: shared through Redis, per-process when Redis is unavailable.

Redis keeps one sorted set per bucket (``ratelimit:<scope>:<id>``) and a Lua script trims, adds and
counts atomically, so every API process sees the same count. When Redis is not configured or fails,
an in-memory sliding window with the same ``(allowed, remaining)`` rules keeps the limiter working.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import structlog
from fastapi import HTTPException
from redis.exceptions import RedisError

from aurorasoc.core.config import Settings, get_settings
from aurorasoc.core.metrics import RATE_LIMIT_FALLBACK, RATE_LIMITED
from aurorasoc.core.namespace import redis_key
from aurorasoc.core.redis import get_redis

log = structlog.get_logger(__name__)

LUA = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, now - window)
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return redis.call('ZCARD', KEYS[1])
"""

REDIS_ERRORS: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, RedisError, OSError)
MAX_FALLBACK_KEYS = 100_000
REDIS_RETRY_SECONDS = 5.0
LOGIN_WINDOW_SECONDS = 60


class RedisRateLimiter:
    """At most ``max_requests`` per ``window_seconds`` per key; every call counts, rejected or not."""

    def __init__(
        self,
        max_requests: int,
        window_seconds: int,
        *,
        scope: str = "api",
        clock: Callable[[], float] = time.monotonic,
        max_fallback_keys: int = MAX_FALLBACK_KEYS,
        redis_retry_seconds: float = REDIS_RETRY_SECONDS,
    ) -> None:
        self.max_requests = max_requests
        self.window_seconds = window_seconds
        self.scope = scope
        self._clock = clock
        self._max_fallback_keys = max_fallback_keys
        self._redis_retry_seconds = redis_retry_seconds
        self._redis_failed_at: float | None = None
        # Ordered by last touch, so the stalest buckets sit at the front and can be swept cheaply.
        self._fallback: OrderedDict[str, deque[float]] = OrderedDict()
        self._script_client: Any = None
        self._script: Any = None
        self.in_fallback = False

    def _script_for(self, client: Any) -> Any:
        """Register the Lua script once per client object and reuse it (redis-py caches the SHA)."""
        if self._script is None or self._script_client is not client:
            self._script = client.register_script(LUA)
            self._script_client = client
        return self._script

    async def check(self, key: str) -> tuple[bool, int]:
        """Record one request for ``key`` and return ``(allowed, remaining)``."""
        bucket = redis_key(f"ratelimit:{self.scope}:{key}")
        count = await self._check_redis(bucket) if self._redis_due() else None
        self._set_fallback(count is None)
        if count is None:
            count = self._check_memory(bucket)
        return count <= self.max_requests, max(0, self.max_requests - count)

    def _redis_due(self) -> bool:
        """After a Redis failure, skip it for a while so requests don't each wait for a timeout."""
        failed_at = self._redis_failed_at
        return failed_at is None or self._clock() - failed_at >= self._redis_retry_seconds

    async def _check_redis(self, bucket: str) -> int | None:
        """The shared count, or None when Redis is not configured or fails."""
        try:
            client = await get_redis()
            if client is None:
                return None
            now_ms = int(time.time() * 1000)
            member = f"{now_ms}-{uuid4().hex}"
            count = await self._script_for(client)(
                keys=[bucket], args=[now_ms, self.window_seconds * 1000, member]
            )
        except REDIS_ERRORS as exc:
            log.warning("rate_limit.redis_failed", scope=self.scope, error=str(exc))
            self._redis_failed_at = self._clock()
            return None
        self._redis_failed_at = None
        return int(count)

    def _set_fallback(self, active: bool) -> None:
        if active != self.in_fallback:
            log.info("rate_limit.fallback", scope=self.scope, active=active)
        self.in_fallback = active
        RATE_LIMIT_FALLBACK.set(1 if active else 0)

    def _check_memory(self, bucket: str) -> int:
        """The in-process sliding log: drop entries older than the window, add this one, count."""
        now = self._clock()
        horizon = now - self.window_seconds
        self._sweep(horizon)
        entries = self._fallback.get(bucket)
        if entries is None:
            if len(self._fallback) >= self._max_fallback_keys:
                self._fallback.popitem(last=False)
            # Keeping only the newest max+1 entries yields min(true count, max+1): same verdicts.
            entries = self._fallback[bucket] = deque(maxlen=self.max_requests + 1)
        else:
            self._fallback.move_to_end(bucket)
        while entries and entries[0] <= horizon:
            entries.popleft()
        entries.append(now)
        return len(entries)

    def _sweep(self, horizon: float) -> None:
        """Forget buckets whose newest entry left the window (they sit at the front of the order)."""
        while self._fallback:
            bucket, entries = next(iter(self._fallback.items()))
            if entries and entries[-1] > horizon:
                return
            del self._fallback[bucket]


_login_limiter: RedisRateLimiter | None = None
_login_settings: Settings | None = None


def login_limiter() -> RedisRateLimiter:
    """The process-wide login limiter, rebuilt whenever the settings object is replaced."""
    global _login_limiter, _login_settings
    settings = get_settings()
    if _login_limiter is None or _login_settings is not settings:
        _login_limiter = RedisRateLimiter(settings.ratelimit.login, LOGIN_WINDOW_SECONDS, scope="login")
        _login_settings = settings
    return _login_limiter


def rate_limit_headers(limiter: RedisRateLimiter, remaining: int) -> dict[str, str]:
    return {"X-RateLimit-Limit": str(limiter.max_requests), "X-RateLimit-Remaining": str(remaining)}


async def enforce_login_limit(ip: str | None, username: str) -> None:
    """Count one login attempt for (IP, username); 429 once the per-minute budget is spent."""
    limiter = login_limiter()
    allowed, remaining = await limiter.check(f"{ip or 'unknown'}:{username.lower()}")
    if not allowed:
        RATE_LIMITED.labels(scope=limiter.scope).inc()
        raise HTTPException(
            status_code=429,
            detail="Too many login attempts; retry later",
            headers={"Retry-After": str(limiter.window_seconds), **rate_limit_headers(limiter, remaining)},
        )
