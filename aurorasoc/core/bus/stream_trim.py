"""Trimming a Redis stream by what its consumer groups still need (spec §28, issue 15).

``XADD … MAXLEN`` alone trims by length whatever the consumers have read: when a consumer fell
behind by more than the cap (alert correlation during a burst), the entries it had not read yet were
dropped and their alerts never reached a case. Redis 7.0 has no "trim only acknowledged" option, so
the publisher trims by ``MINID`` instead, at most every :data:`TRIM_INTERVAL_SECONDS` per stream: below
the oldest entry some durable group has not acknowledged (its oldest pending entry, else its last
delivered one). ``MAXLEN`` on ``XADD`` stays as the memory cap (``AURORA_STREAM_MAXLEN``); the backlog
each stream holds for its slowest group is the ``bus_stream_backlog`` gauge, and a warning is logged
when it reaches the cap (from there on the oldest unread entries are lost).

A per-process fan-out group (``api-ws-*``, reading from ``$``) never holds entries back: a process
killed without destroying its group must not pin the stream. A stream nobody reads durably keeps its
newest :data:`UNREAD_KEEP` entries, as every stream did before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from aurorasoc.core.metrics import BUS_STREAM_BACKLOG

log = logging.getLogger(__name__)
TRIM_INTERVAL_SECONDS = 2.0
UNREAD_KEEP = 10_000


def stream_id(value: str) -> tuple[int, int]:
    """``"1700000000000-3"`` as a comparable pair."""
    millis, _, seq = value.partition("-")
    return int(millis), int(seq or 0)


def trim_floor(groups: list[dict[str, Any]], oldest_pending: dict[str, str]) -> str | None:
    """The lowest id some durable group still needs; ``None`` when no durable group reads the stream.

    ``groups`` is ``XINFO GROUPS``; ``oldest_pending`` maps a group with pending entries to the
    smallest pending id (``XPENDING`` summary). Pure, so the rule is tested without Redis.
    """
    needed = [oldest_pending.get(g["name"]) or g["last-delivered-id"] for g in groups]
    return min(needed, key=stream_id) if needed else None


class StreamTrimmer:
    """Remembers when each stream was last trimmed and trims the ones that are due."""

    def __init__(
        self, cap: int, *, durable: Callable[[str], bool], interval: float = TRIM_INTERVAL_SECONDS
    ) -> None:
        self.cap = cap
        self.interval = interval
        self._durable = durable  # does this group hold entries back?
        self._last: dict[str, float] = {}

    def due(self, stream: str) -> bool:
        """True at most once every ``interval`` per stream (then the caller trims it)."""
        now = time.monotonic()
        if now - self._last.get(stream, float("-inf")) < self.interval:
            return False
        self._last[stream] = now
        return True

    async def trim_quietly(self, client: aioredis.Redis, stream: str, key: str) -> None:
        try:
            await self.trim(client, stream, key)
        except (RedisError, OSError):  # trimming is housekeeping: the next publish tries again
            log.debug("stream trim failed", extra={"stream": stream}, exc_info=True)

    async def trim(self, client: aioredis.Redis, stream: str, key: str) -> None:
        groups = [g for g in await client.xinfo_groups(key) if self._durable(g["name"])]
        pending: dict[str, str] = {}
        for group in groups:
            if group["pending"]:
                summary = await client.xpending(key, group["name"])
                if summary.get("min"):
                    pending[group["name"]] = summary["min"]
        floor = trim_floor(groups, pending)
        if floor is None:
            await client.xtrim(key, maxlen=UNREAD_KEEP, approximate=True)
            return
        await client.xtrim(key, minid=floor, approximate=True)
        backlog = max((int(g.get("lag") or 0) + int(g["pending"]) for g in groups), default=0)
        BUS_STREAM_BACKLOG.labels(stream).set(backlog)
        if backlog >= self.cap:
            log.warning(
                "stream backlog reached AURORA_STREAM_MAXLEN: the oldest unread entries are being dropped",
                extra={"stream": stream, "backlog": backlog, "cap": self.cap},
            )
