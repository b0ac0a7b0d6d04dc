"""Which devices exist, with their zone, location and firmware version, cached for the MQTT ingest.

Telemetry and ``status`` heartbeats are nearly all CPS traffic and need only "is this a registered
device, in which zone and place, with which firmware version" (issues 7, 20), so the ingest asks
:class:`DeviceDirectory` instead of loading ORM rows for every batch. Entries
(including "unknown device") live for ``TTL`` seconds; :func:`invalidate_devices`, called by every
:class:`~aurorasoc.cps.service.CPSService` change of existence or zone in this process, drops
them at once and again at that transaction's commit. Changes made by another process are picked
up within ``TTL``.

It also remembers when this process last wrote each device's ``last_seen_at``: a device sending
every second needs its row rewritten every ``SEEN_EVERY`` seconds, not per batch (at 10,000
devices that was 10,000 row updates a second). Health turns ``stale`` only after minutes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from aurorasoc.cps.models import CPSDeviceModel

TTL = 30.0
SEEN_EVERY = 10.0
_CHANGED = "cps_devices_changed"
_generation = 0


def invalidate_devices(session: AsyncSession) -> None:
    """Forget every cached device in this process (a device was added, removed or re-zoned).

    Now, and again when ``session`` commits: a directory refilled in between read the old rows.
    """
    _bump()
    sync = session.sync_session
    if not event.contains(sync, "after_commit", _after_commit):
        event.listen(sync, "after_commit", _after_commit)
    sync.info[_CHANGED] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        _bump()


def _bump() -> None:
    global _generation
    _generation += 1


class DeviceFacts(NamedTuple):
    zone_id: str | None
    location: str | None
    firmware_version: str | None


class DeviceDirectory:
    """device_id → :class:`DeviceFacts` for registered devices; absent ids are cached as unknown too."""

    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._facts: dict[str, DeviceFacts] = {}
        self._unknown: set[str] = set()
        self._written: dict[str, datetime] = {}  # last_seen_at as this process last committed it
        self._generation = _generation
        self._loaded_at = time.monotonic()

    def _fresh(self) -> None:
        if self._generation != _generation or time.monotonic() - self._loaded_at > self.ttl:
            self._facts.clear()
            self._unknown.clear()
            self._written.clear()
            self._generation, self._loaded_at = _generation, time.monotonic()

    async def facts(self, session: AsyncSession, device_ids: Iterable[str]) -> dict[str, DeviceFacts]:
        """The facts of each registered device among ``device_ids`` (unknown ids are left out)."""
        self._fresh()
        ids = set(device_ids)
        if missing := ids.difference(self._facts, self._unknown):
            m = CPSDeviceModel
            stmt = select(m.device_id, m.zone_id, m.location, m.firmware_version).where(
                m.device_id.in_(missing)
            )
            found = {row[0]: DeviceFacts(*row[1:]) for row in (await session.execute(stmt)).tuples()}
            self._facts.update(found)
            self._unknown.update(missing.difference(found))
        return {device_id: self._facts[device_id] for device_id in ids if device_id in self._facts}

    def firmware_noted(self, versions: Mapping[str, str]) -> None:
        """The reported firmware versions now stored for devices that had none."""
        for device_id, version in versions.items():
            if (facts := self._facts.get(device_id)) is not None:
                self._facts[device_id] = facts._replace(firmware_version=version)

    def seen_due(self, seen: Mapping[str, datetime]) -> dict[str, datetime]:
        """The devices of ``seen`` whose stored ``last_seen_at`` is ``SEEN_EVERY`` or more older."""
        self._fresh()
        written, every = self._written, timedelta(seconds=SEEN_EVERY)
        return {d: t for d, t in seen.items() if (w := written.get(d)) is None or t - w >= every}

    def seen_written(self, seen: Mapping[str, datetime]) -> None:
        """``seen`` was committed."""
        self._written.update(seen)
