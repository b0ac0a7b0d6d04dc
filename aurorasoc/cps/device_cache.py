"""Which devices exist and their zone, cached for the MQTT telemetry path (issue 7).

Telemetry is ~95 % of CPS traffic and needs only "is this a registered device, and in which zone",
so the ingest asks :class:`DeviceDirectory` instead of loading ORM rows for every batch. Entries
(including "unknown device") live for ``TTL`` seconds; :func:`invalidate_devices`, called by every
:class:`~aurorasoc.cps.service.CPSService` change of existence or zone in this process, drops
them at once and again at that transaction's commit. Changes made by another process are picked
up within ``TTL``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from aurorasoc.cps.models import CPSDeviceModel

TTL = 30.0
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


class DeviceDirectory:
    """device_id → zone_id for registered devices; absent ids are cached as unknown too."""

    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._zones: dict[str, str | None] = {}
        self._unknown: set[str] = set()
        self._generation = _generation
        self._loaded_at = time.monotonic()

    def _fresh(self) -> None:
        if self._generation != _generation or time.monotonic() - self._loaded_at > self.ttl:
            self._zones.clear()
            self._unknown.clear()
            self._generation, self._loaded_at = _generation, time.monotonic()

    async def zones(self, session: AsyncSession, device_ids: Iterable[str]) -> dict[str, str | None]:
        """The zone of each registered device among ``device_ids`` (unknown ids are left out)."""
        self._fresh()
        ids = set(device_ids)
        if missing := ids.difference(self._zones, self._unknown):
            model = CPSDeviceModel
            stmt = select(model.device_id, model.zone_id).where(model.device_id.in_(missing))
            found = dict((await session.execute(stmt)).tuples().all())
            self._zones.update(found)
            self._unknown.update(missing.difference(found))
        return {device_id: self._zones[device_id] for device_id in ids if device_id in self._zones}
