"""Observables vs indicators (spec §27.3): what an alert *saw* is not what an analyst should *block*.

Detection extracts observables from every event; an alert's ``iocs`` keep only those already known as
indicators (rows of ``iocs``: threat intel, analysts, playbooks). Never indicators by default: hashes of
files under the operating system's own directories, private/loopback/link-local addresses and the
host's own name; nor anything on the analysts' allow-list. An observable seen on many hosts is
*common* (prevalence) and never links alerts or cases.

Decision beyond the spec text: the "20 % of known hosts" rule only applies once at least
``MIN_HOSTS_FOR_FRACTION`` hosts are known, otherwise on a two-host estate every value seen on one
host would be "common".
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.actor import Actor
from aurorasoc.core.config import get_settings
from aurorasoc.core.errors import Conflict, InvalidInput
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import AlertCreate
from aurorasoc.intel.extraction import classify_ioc, internal_address
from aurorasoc.intel.models import AllowListEntryModel, IOCModel, ObservableModel
from aurorasoc.intel.schemas import AllowOut

MIN_HOSTS_FOR_FRACTION = 10
ALLOW_KINDS = ("value", "process_path", "host")
_OS_DIRS = re.compile(r"(?:^|\\)(?:windows|systemroot)\\(?:system32|syswow64)\\", re.IGNORECASE)
_HASH_TYPES = frozenset({"hash_md5", "hash_sha1", "hash_sha256"})


def benign_reason(item: dict[str, str], host: str | None) -> str | None:
    """Why this observable is never an indicator by default, or None (pure)."""
    kind, value = item.get("type"), item.get("value", "")
    if kind in _HASH_TYPES and _OS_DIRS.search(item.get("path") or ""):
        return "os_binary"
    if kind == "ip" and internal_address(value):
        return "private_ip"
    if host and kind == "domain" and value.lower() in {host.lower(), host.lower().split(".")[0]}:
        return "own_host"
    if host and value.lower() == host.lower():
        return "own_host"
    return None


@dataclass(frozen=True)
class AllowList:
    """The analysts' entries, loaded once per batch (the table is small)."""

    entries: tuple[AllowListEntryModel, ...] = ()

    def allows(self, item: dict[str, str], host: str | None) -> bool:
        host_l = (host or "").lower()
        for entry in self.entries:
            if entry.host_scope and entry.host_scope.lower() != host_l:
                continue
            if entry.kind == "value" and entry.value.lower() == item.get("value", "").lower():
                return True
            if entry.kind == "process_path" and entry.value.lower() == (item.get("path") or "").lower():
                return True
            if entry.kind == "host" and entry.value.lower() == host_l:
                return True
        return False


async def load_allowlist(session: AsyncSession) -> AllowList:
    return AllowList(tuple((await session.scalars(select(AllowListEntryModel))).all()))


async def known_indicators(session: AsyncSession, values: Iterable[str]) -> set[str]:
    """Which of ``values`` are active indicators (one indexed query)."""
    wanted = sorted(set(values))
    if not wanted:
        return set()
    stmt = select(IOCModel.value).where(IOCModel.value.in_(wanted), IOCModel.status == "active")
    return set((await session.scalars(stmt)).all())


def common_threshold(known_hosts: int) -> int:
    """On how many hosts a value must be seen to be common: the configured number, or the configured
    share of the known hosts once there are enough of them to make a share meaningful (pure)."""
    detection = get_settings().detection
    threshold = detection.observable_common_hosts
    if known_hosts >= MIN_HOSTS_FOR_FRACTION:
        threshold = min(threshold, max(2, math.ceil(known_hosts * detection.observable_common_fraction)))
    return threshold


async def common_values(session: AsyncSession, values: Iterable[str]) -> set[str]:
    """Which of ``values`` are common: seen on the configured number or share of hosts."""
    wanted = sorted(set(values))
    if not wanted:
        return set()
    known = int(
        await session.scalar(
            select(func.count(func.distinct(ObservableModel.host))).where(ObservableModel.host != "")
        )
        or 0
    )
    threshold = common_threshold(known)
    stmt = (
        select(ObservableModel.value)
        .where(ObservableModel.value.in_(wanted), ObservableModel.host != "")
        .group_by(ObservableModel.value)
        .having(func.count(func.distinct(ObservableModel.host)) >= threshold)
    )
    return set((await session.scalars(stmt)).all())


async def resolve_indicators(session: AsyncSession, alerts: Sequence[AlertCreate]) -> None:
    """Mark each alert's observables (benign / allow-listed) and keep only real indicators in ``iocs``.

    Also records every observable per host (prevalence). Flushes nothing itself beyond the upsert.
    """
    if not alerts:
        return
    allow = await load_allowlist(session)
    indicators = await known_indicators(session, (o["value"] for a in alerts for o in a.observables))
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for alert in alerts:
        host = alert.entities.get("host.name")
        seen_at = alert.last_seen_at or utcnow()
        keep: list[str] = []
        for item in alert.observables:
            reason = benign_reason(item, host) or ("allow_listed" if allow.allows(item, host) else None)
            if reason:
                item["benign"] = reason
            elif item["value"] in indicators:
                item["indicator"] = "true"
                keep.append(item["value"])
            key = (item["type"], item["value"], (host or "")[:255])
            if key not in rows:
                rows[key] = _observable_row(item, key[2], reason, alert.first_seen_at or seen_at, seen_at)
            else:
                rows[key]["sightings"] += 1
        alert.iocs = list(dict.fromkeys([*(v for v in alert.iocs if v in indicators), *keep]))
    await _upsert_observables(session, list(rows.values()))


def _observable_row(
    item: dict[str, str], host: str, reason: str | None, first: datetime, last: datetime
) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": uuid.uuid4(),
        "type": item["type"],
        "value": item["value"][:2048],
        "host": host,
        "role": item.get("role", "")[:64] or None,
        "context_path": (item.get("path") or "")[:1024] or None,
        "benign_reason": reason,
        "sightings": 1,
        "first_seen": first,
        "last_seen": last,
        "created_at": now,
        "updated_at": now,
    }


async def _upsert_observables(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.bind.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(ObservableModel)
    table = ObservableModel.__table__.c
    later, earlier = stmt.excluded.last_seen, stmt.excluded.first_seen
    stmt = stmt.on_conflict_do_update(
        index_elements=["type", "value", "host"],
        set_={
            "sightings": table.sightings + stmt.excluded.sightings,
            "last_seen": func.max(table.last_seen, later)
            if dialect == "sqlite"
            else func.greatest(table.last_seen, later),
            "first_seen": func.min(table.first_seen, earlier)
            if dialect == "sqlite"
            else func.least(table.first_seen, earlier),
            "updated_at": stmt.excluded.updated_at,
        },
    )
    for start in range(0, len(rows), 500):
        await session.execute(stmt, rows[start : start + 500])


class ObservableService:
    """Prevalence look-ups, analyst promotion to indicator, and the allow-list (API and CLI door)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def prevalence(self, *, value: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Per (type, value): hosts seen on, sightings, event-time span, benign class, common, indicator."""
        hosts = func.count(func.distinct(func.nullif(ObservableModel.host, "")))
        stmt = (
            select(
                ObservableModel.type,
                ObservableModel.value,
                hosts.label("host_count"),
                func.sum(ObservableModel.sightings),
                func.min(ObservableModel.first_seen),
                func.max(ObservableModel.last_seen),
                func.max(ObservableModel.benign_reason),
            )
            .group_by(ObservableModel.type, ObservableModel.value)
            .order_by(hosts.desc(), ObservableModel.value)
            .limit(limit)
        )
        if value is not None:
            stmt = stmt.where(ObservableModel.value == value)
        rows = (await self.session.execute(stmt)).all()
        values = [r[1] for r in rows]
        common = await common_values(self.session, values)
        indicators = await known_indicators(self.session, values)
        return [
            {
                "type": kind, "value": val, "host_count": int(count), "sightings": int(seen or 0),
                "first_seen": first, "last_seen": last, "benign_reason": benign,
                "common": val in common, "indicator": val in indicators,
            }
            for kind, val, count, seen, first, last, benign in rows
        ]  # fmt: skip

    async def promote(self, value: str, actor: str, *, description: str | None = None) -> IOCModel:
        """Make an observable an indicator (``iocs`` row, source ``analyst``); idempotent."""
        typed = classify_ioc(value)
        if typed is None:
            raise InvalidInput(f"{value!r} is not a recognised indicator type")
        kind, canonical = typed
        existing = await self.session.scalar(
            select(IOCModel).where(IOCModel.type == kind.value, IOCModel.value == canonical)
        )
        if existing is not None:
            existing.status = "active"
            await self.session.flush()
            return existing
        ioc = IOCModel(
            type=kind.value,
            value=canonical,
            source="analyst",
            confidence=0.8,
            status="active",
            description=description or f"Promoted from an observable by {actor}",
            sightings=0,
        )
        self.session.add(ioc)
        await self.session.flush()
        return ioc

    async def list_allowlist(self) -> list[AllowListEntryModel]:
        stmt = select(AllowListEntryModel).order_by(AllowListEntryModel.created_at.desc())
        return list((await self.session.scalars(stmt)).all())

    async def allow(
        self, kind: str, value: str, actor: str, *, host_scope: str = "", reason: str | None = None
    ) -> AllowListEntryModel:
        if kind not in ALLOW_KINDS:
            raise InvalidInput(f"kind must be one of {list(ALLOW_KINDS)}")
        if not value.strip():
            raise InvalidInput("value must not be blank")
        duplicate = await self.session.scalar(
            select(AllowListEntryModel.id).where(
                AllowListEntryModel.kind == kind,
                AllowListEntryModel.value == value.strip(),
                AllowListEntryModel.host_scope == host_scope.strip(),
            )
        )
        if duplicate is not None:
            raise Conflict(f"{kind} {value.strip()!r} is already on the allow-list", entry_id=str(duplicate))
        entry = AllowListEntryModel(
            kind=kind, value=value.strip(), host_scope=host_scope.strip(), reason=reason, created_by=actor
        )
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def make_indicator(self, value: str, *, description: str | None = None, actor: Actor) -> IOCModel:
        """:meth:`promote` by ``actor``, audited and committed."""
        ioc = await self.promote(value, actor.username, description=description)
        details = {"value": ioc.value, "type": ioc.type}
        await actor.audit(self.session, "observable.promote", ("ioc", str(ioc.id)), details)
        await self.session.commit()
        return ioc

    async def add_allow(
        self, kind: str, value: str, *, host_scope: str = "", reason: str | None = None, actor: Actor
    ) -> AllowListEntryModel:
        """:meth:`allow` by ``actor``, audited with the new entry and committed."""
        entry = await self.allow(kind, value, actor.username, host_scope=host_scope, reason=reason)
        details = {"after": AllowOut.model_validate(entry).model_dump(mode="json")}
        await actor.audit(self.session, "allowlist.create", ("allowlist", str(entry.id)), details)
        await self.session.commit()
        return entry
