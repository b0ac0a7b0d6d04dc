"""IOC rows: validation, upsert on (type, value), linking to alerts, queries and sharing (spec §14.4).

Expiry is computed, not stored: an ``active`` IOC whose ``last_seen`` is older than
``AURORA_IOC_EXPIRY_DAYS`` reads (and filters) as ``expired``, so a fresh sighting revives it
without a write on read. Similarity is lexical (:mod:`aurorasoc.intel.similarity`).
:meth:`IOCService.record`, :meth:`~IOCService.change` and :meth:`~IOCService.share` are the audited,
committed units of work; the other methods only flush.
"""

from __future__ import annotations

import builtins
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.actor import Actor
from aurorasoc.core.bulk import execute_many
from aurorasoc.core.bus.nats_jetstream import share
from aurorasoc.core.config import get_settings
from aurorasoc.core.errors import Conflict, InvalidInput, NotFound
from aurorasoc.core.vocabulary import IOCStatus, IOCType
from aurorasoc.intel.extraction import classify_ioc
from aurorasoc.intel.models import AlertIOCModel, IOCModel
from aurorasoc.intel.similarity import IOCKey, escape_like, related_iocs
from aurorasoc.intel.sql import alert_ioc_link, alert_ioc_times, ioc_upsert

if TYPE_CHECKING:  # alerts sit above intel: the rows are handed in, never queried here
    from aurorasoc.alerts.models import AlertModel


async def upsert_iocs(
    session: AsyncSession,
    sightings: Mapping[IOCKey, int],
    *,
    sources: Mapping[IOCKey, str],
    confidence: float = 0.5,
) -> dict[IOCKey, uuid.UUID]:
    """One executemany: new IOCs are inserted, known ones gain their sightings and the max confidence."""
    if not sightings:
        return {}
    now = datetime.now(UTC)
    common = {"confidence": confidence, "status": "active", "tags": [], "tlp": "amber", "description": None,
              "feed": None, "expires_at": None}  # fmt: skip
    stamps = {"first_seen": now, "last_seen": now, "created_at": now, "updated_at": now, "origin_site": None}
    rows = [
        {"id": uuid.uuid4(), "type": kind, "value": value, "source": sources[(kind, value)],
         "sightings": count, **common, **stamps}
        for (kind, value), count in sightings.items()
    ]  # fmt: skip
    await execute_many(session, ioc_upsert(), rows)
    found = await session.execute(
        select(IOCModel.type, IOCModel.value, IOCModel.id).where(
            tuple_(IOCModel.type, IOCModel.value).in_(list(sightings))
        )
    )
    return {(kind, value): ioc_id for kind, value, ioc_id in found}


async def index_alert_iocs(session: AsyncSession, alerts: Sequence[AlertModel]) -> None:
    """Type, upsert and link the IOCs of newly created alerts: three statements for a whole batch.

    Each alert counts as one sighting of each of its IOCs; a new IOC's source is its first alert's.
    """
    keys = {alert.id: list(dict.fromkeys(t for v in alert.iocs if (t := _key(v)))) for alert in alerts}
    sources: dict[IOCKey, str] = {}
    for alert in alerts:
        for key in keys[alert.id]:
            sources.setdefault(key, alert.source)
    ids = await upsert_iocs(session, Counter(k for ks in keys.values() for k in ks), sources=sources)
    seen = {alert.id: alert.last_seen_at for alert in alerts}
    links = [
        {"alert_id": alert_id, "ioc_id": ids[k], "last_seen_at": seen[alert_id]}
        for alert_id, ks in keys.items()
        for k in ks
    ]
    if links:
        await execute_many(session, alert_ioc_link(), links)


async def extend_alert_ioc_times(session: AsyncSession, alerts: Sequence[AlertModel]) -> None:
    """Repeats extended these alerts' event span: their indicator links follow (one statement)."""
    moved = [{"alert_id": a.id, "last_seen_at": a.last_seen_at} for a in alerts if a.iocs]
    if moved:
        await execute_many(session, alert_ioc_times(), moved)


def _key(value: str) -> IOCKey | None:
    typed = classify_ioc(value)
    return (typed[0].value, typed[1]) if typed else None


async def iocs_for_alert(session: AsyncSession, alert_id: uuid.UUID) -> list[IOCModel]:
    result = await session.execute(
        select(IOCModel)
        .join(AlertIOCModel, AlertIOCModel.ioc_id == IOCModel.id)
        .where(AlertIOCModel.alert_id == alert_id)
        .order_by(IOCModel.type, IOCModel.value)
    )
    return list(result.scalars())


# --- validation -------------------------------------------------------------------------------

FREE_TEXT_TYPES = frozenset({IOCType.MUTEX, IOCType.USER_AGENT})
_INVALID = {
    IOCType.IP: "not a valid IP address (loopback and unspecified addresses are not indicators)",
    IOCType.DOMAIN: "not a valid domain name (file extensions such as .exe are not TLDs)",
    IOCType.URL: "not a valid URL (http, https or ftp)",
    IOCType.HASH_MD5: "not a valid MD5 hash (32 hex characters)",
    IOCType.HASH_SHA1: "not a valid SHA-1 hash (40 hex characters)",
    IOCType.HASH_SHA256: "not a valid SHA-256 hash (64 hex characters)",
    IOCType.EMAIL: "not a valid email address",
    IOCType.CVE: "not a valid CVE id (CVE-YYYY-NNNN)",
    IOCType.FILE_PATH: "not a valid absolute file path",
    IOCType.REGISTRY_KEY: "not a valid registry key (HKLM\\..., HKCU\\...)",
}


def parse_ioc(value: str, type_name: str | None = None) -> IOCKey:
    """``(type, canonical value)`` by the §13.5 rules; the type is inferred when not given.

    Raises InvalidInput (400) saying why the value is not an indicator of that type.
    """
    ioc_type = _ioc_type(type_name) if type_name else None
    text = value.strip()
    if not text or len(text) > 2048:
        raise InvalidInput("an IOC value must hold 1 to 2048 characters")
    if ioc_type in FREE_TEXT_TYPES:
        return ioc_type.value, text
    typed = classify_ioc(text)
    if ioc_type is None:
        if typed is None:
            raise InvalidInput(f"{text[:100]!r} is not a recognised indicator; give its type")
        return typed[0].value, typed[1]
    if typed is None or typed[0] is not ioc_type:
        looks = f" (it looks like a {typed[0].value})" if typed else ""
        raise InvalidInput(f"{text[:100]!r} is {_INVALID[ioc_type]}{looks}")
    return ioc_type.value, typed[1]


def _ioc_type(name: str) -> IOCType:
    try:
        return IOCType(name.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"unknown IOC type {name!r}; one of: {', '.join(t.value for t in IOCType)}"
        ) from None


# --- expiry -----------------------------------------------------------------------------------


def expiry_cutoff() -> datetime:
    return datetime.now(UTC) - timedelta(days=get_settings().intel.ioc_expiry_days)


def effective_status(ioc: IOCModel) -> str:
    """The status a reader sees: stale ``active`` rows read as ``expired``."""
    if ioc.status == IOCStatus.ACTIVE.value and ioc.last_seen < expiry_cutoff():
        return IOCStatus.EXPIRED.value
    return ioc.status


def _status_expr(cutoff: datetime) -> ColumnElement[str]:
    stale = and_(IOCModel.status == IOCStatus.ACTIVE.value, IOCModel.last_seen < cutoff)
    return case((stale, IOCStatus.EXPIRED.value), else_=IOCModel.status)


# --- queries and edits ------------------------------------------------------------------------

EDITABLE_FIELDS = ("status", "confidence", "tags", "tlp", "description")


@dataclass(frozen=True)
class IOCFilters:
    type: IOCType | None = None
    status: IOCStatus | None = None
    q: str | None = None
    alert_id: uuid.UUID | None = None
    source: str | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.type:
            clauses.append(IOCModel.type == self.type.value)
        if self.status:
            clauses.append(_status_expr(expiry_cutoff()) == self.status.value)
        if self.q:
            pattern = f"%{escape_like(self.q)}%"
            text_match = or_(
                IOCModel.value.ilike(pattern, escape="\\"), IOCModel.description.ilike(pattern, escape="\\")
            )
            clauses.append(text_match)
        if self.alert_id:
            linked = select(AlertIOCModel.ioc_id).where(AlertIOCModel.alert_id == self.alert_id)
            clauses.append(IOCModel.id.in_(linked))
        if self.source:
            clauses.append(IOCModel.source == self.source)
        return clauses


class IOCService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list(self, filters: IOCFilters, *, skip: int, limit: int) -> tuple[list[IOCModel], int]:
        where = filters.clauses()
        total = await self.session.scalar(select(func.count()).select_from(IOCModel).where(*where))
        rows = await self.session.scalars(
            select(IOCModel)
            .where(*where)
            .order_by(IOCModel.last_seen.desc(), IOCModel.id)
            .offset(skip)
            .limit(limit)
        )
        return builtins.list(rows), total or 0

    async def get(self, ioc_id: uuid.UUID) -> IOCModel:
        ioc = await self.session.get(IOCModel, ioc_id)
        if ioc is None:
            raise NotFound(f"IOC {ioc_id} does not exist")
        return ioc

    async def find(self, key: IOCKey) -> IOCModel | None:
        found: IOCModel | None = await self.session.scalar(
            select(IOCModel).where(IOCModel.type == key[0], IOCModel.value == key[1])
        )
        return found

    async def upsert(
        self, key: IOCKey, *, source: str, confidence: float, **fields: Any
    ) -> tuple[IOCModel, bool]:
        """One sighting of ``key`` (race-safe ON CONFLICT); ``fields`` (tags merged) apply on top."""
        created = await self.find(key) is None
        ids = await upsert_iocs(self.session, {key: 1}, sources={key: source}, confidence=confidence)
        ioc = await self.session.get(IOCModel, ids[key], populate_existing=True)
        assert ioc is not None  # just upserted in this transaction
        if tags := fields.pop("tags", None):
            ioc.tags = builtins.list(dict.fromkeys([*ioc.tags, *tags]))
        for name, value in fields.items():
            setattr(ioc, name, getattr(value, "value", value))
        await self.session.flush()
        return ioc, created

    async def update(self, ioc: IOCModel, changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Apply an analyst edit; returns ``{"before", "after"}`` of the changed fields."""
        if not changes:
            raise InvalidInput(f"give at least one of: {', '.join(EDITABLE_FIELDS)}")
        before = {name: getattr(ioc, name) for name in changes}
        for name, value in changes.items():
            setattr(ioc, name, getattr(value, "value", value))
        await self.session.flush()
        return {"before": before, "after": {name: getattr(ioc, name) for name in changes}}

    async def record(
        self, value: str, type_name: str | None, *, source: str, confidence: float, actor: Actor,
        fields: dict[str, Any],
    ) -> tuple[IOCModel, bool]:  # fmt: skip
        """One sighting reported by ``actor`` (``fields``: tags, tlp, description); audited, committed.

        Returns the IOC and whether it is new.
        """
        key = parse_ioc(value, type_name)
        ioc, created = await self.upsert(key, source=source, confidence=confidence, **fields)
        details = {"type": ioc.type, "value": ioc.value, "created": created, **fields}
        await self._commit(actor, "ioc.upsert", ioc, details)
        return ioc, created

    async def change(self, ioc_id: uuid.UUID, changes: dict[str, Any], *, actor: Actor) -> IOCModel:
        """An analyst edit, audited with the before/after of the changed fields and committed."""
        ioc = await self.get(ioc_id)
        await self._commit(actor, "ioc.update", ioc, await self.update(ioc, changes))
        return ioc

    async def share(self, ioc_id: uuid.UUID, *, actor: Actor) -> dict[str, Any]:
        """Publish to federated sites (real mode, never TLP:RED): audited and committed before it leaves."""
        runtime.assert_external_allowed()
        settings = get_settings()
        ioc = await self.get(ioc_id)
        message = share_message(ioc, settings.federation.site_id)
        if not settings.messaging.nats_url:
            raise Conflict(
                "IOC sharing needs NATS JetStream: set AURORA_NATS_URL", code="sharing_unavailable"
            )
        await self._commit(actor, "ioc.share", ioc, {"subject": IOC_SHARING_SUBJECT, "tlp": ioc.tlp})
        share(IOC_SHARING_SUBJECT, message)
        return message

    async def _commit(self, actor: Actor, action: str, ioc: IOCModel, details: dict[str, Any]) -> None:
        await actor.audit(self.session, action, ("ioc", str(ioc.id)), details)
        await self.session.commit()

    async def similar(self, q: str, limit: int) -> builtins.list[tuple[IOCModel, str, float]]:
        """Lexically related IOCs, best first: same network or domain, then substring matches."""
        text = q.strip()
        return await related_iocs(self.session, _key(text), text, limit)


# --- sharing ----------------------------------------------------------------------------------

IOC_SHARING_SUBJECT = "AURORA.ioc_sharing"  # one of nats_jetstream.SUBJECTS


def share_message(ioc: IOCModel, origin_site: str) -> dict[str, Any]:
    """The ``aurora-ioc/1`` document published for other sites; never for ``tlp=red``."""
    if ioc.tlp == "red":
        raise InvalidInput("TLP:RED indicators are never shared outside this site", code="tlp_red")
    return {
        "spec": "aurora-ioc/1", "origin_site": origin_site, "type": ioc.type, "value": ioc.value,
        "confidence": ioc.confidence, "first_seen": ioc.first_seen.isoformat(),
        "last_seen": ioc.last_seen.isoformat(), "tags": ioc.tags, "tlp": ioc.tlp,
    }  # fmt: skip
