"""Indicator feed subscriptions: create, fetch, import into ``iocs``, scheduled refresh (issue 17).

A refresh downloads and reads the whole feed before writing anything: a feed that cannot be fetched or
read is refused with the reason (kept in ``last_error``) and its previous indicators stay. A good refresh
upserts every indicator with the feed's name, TLP, confidence and expiry, and retires (status
``expired``) the feed's indicators that the new document no longer lists.

:meth:`IntelFeedService.subscribe`, :meth:`~IntelFeedService.refresh_now` and
:meth:`~IntelFeedService.unsubscribe` are the audited, committed units of work the API and the CLI
share; the scheduled job commits each feed's refresh itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import Conflict, DomainError, InvalidInput, NotFound
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import IOCStatus
from aurorasoc.intel.feed_formats import (
    FEED_KINDS,
    FeedFormatError,
    FeedIndicator,
    read_csv,
    read_misp_event,
    read_misp_manifest,
    read_stix,
    read_text,
)
from aurorasoc.intel.matching import invalidate_indicator_index
from aurorasoc.intel.models import IOCModel
from aurorasoc.intel.models_feeds import IntelFeedModel

log = structlog.get_logger(__name__)
MAX_FEED_BYTES = 64 * 1024 * 1024
_UPSERT_CHUNK = 1000
# What a feed import overwrites on an existing row (sightings and first_seen stay).
_FEED_COLUMNS = (
    "source", "feed", "confidence", "status", "tags", "description", "tlp", "expires_at", "updated_at",
)  # fmt: skip
TLPS = ("clear", "green", "amber", "red")


class FeedRefused(DomainError):
    """A feed document could not be fetched or read; the feed's previous indicators stay."""

    status_code = 422
    code = "feed_refused"


@dataclass(frozen=True)
class FeedSpec:
    name: str
    kind: str
    url: str
    tlp: str = "amber"
    confidence: float = 0.5
    expiry_days: int = 30
    refresh_minutes: int = 60
    csv_column: str | None = None
    enabled: bool = True


def _validate(spec: FeedSpec, *, allow_files: bool) -> None:
    if spec.kind not in FEED_KINDS:
        raise InvalidInput(f"unknown feed kind {spec.kind!r}; one of {', '.join(FEED_KINDS)}")
    if spec.tlp not in TLPS:
        raise InvalidInput(f"unknown TLP {spec.tlp!r}; one of {', '.join(TLPS)}")
    scheme = urlsplit(spec.url).scheme
    if scheme not in ("http", "https") and not (allow_files and scheme in ("", "file")):
        raise InvalidInput("a feed URL must be http(s)://… (local files only from the command line)")


async def fetch(url: str, name: str = "") -> bytes:
    """The document at ``url`` (``name`` appended as a path part, for MISP feed files)."""
    target = f"{url.rstrip('/')}/{name}" if name else url
    if urlsplit(target).scheme in ("http", "https"):
        try:
            async with httpx.AsyncClient(timeout=30.0, follow_redirects=True) as client:
                response = await client.get(target)
        except httpx.HTTPError as exc:
            raise FeedRefused(f"cannot fetch {target}: {exc}") from None
        if response.status_code != 200:
            raise FeedRefused(f"cannot fetch {target}: HTTP {response.status_code}")
        if len(response.content) > MAX_FEED_BYTES:
            raise FeedRefused(f"{target} is larger than {MAX_FEED_BYTES} bytes")
        return response.content
    path = Path(target.removeprefix("file://"))
    try:
        return await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise FeedRefused(f"cannot read {path}: {exc.strerror}") from None


async def read_feed(feed: IntelFeedModel) -> list[FeedIndicator]:
    """Download and read a whole feed; raises FeedRefused with the reason."""
    try:
        if feed.kind == "misp":
            found: list[FeedIndicator] = []
            for event_uuid in read_misp_manifest(await fetch(feed.url, "manifest.json")):
                found += read_misp_event(await fetch(feed.url, f"{event_uuid}.json"), event_uuid)
        elif feed.kind == "stix":
            found = read_stix(await fetch(feed.url))
        elif feed.kind == "csv":
            found = read_csv(await fetch(feed.url), feed.csv_column)
        else:
            found = read_text(await fetch(feed.url))
    except FeedFormatError as exc:
        raise FeedRefused(str(exc)) from None
    if not found:
        raise FeedRefused("the feed holds no usable indicators")
    return found


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(IOCModel)


def _rows(feed: IntelFeedModel, found: list[FeedIndicator], now: datetime) -> list[dict[str, Any]]:
    default_expiry = now + timedelta(days=feed.expiry_days)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for item in found:
        rows[(item.type, item.value)] = {
            "id": uuid.uuid4(), "type": item.type, "value": item.value, "source": feed.name,
            "feed": feed.name,
            "confidence": feed.confidence if item.confidence is None else item.confidence,
            "status": IOCStatus.ACTIVE.value, "tags": list(item.tags), "description": item.description,
            "tlp": item.tlp or feed.tlp, "sightings": 0, "first_seen": now, "last_seen": now,
            "created_at": now, "updated_at": now, "origin_site": None,
            "expires_at": item.expires_at or default_expiry,
        }  # fmt: skip
    return list(rows.values())


async def store_indicators(session: AsyncSession, feed: IntelFeedModel, found: list[FeedIndicator]) -> int:
    """Upsert the feed's indicators and retire those it no longer lists; returns how many it holds."""
    now = utcnow()
    rows = _rows(feed, found, now)
    insert = _insert(session)
    upsert = insert.on_conflict_do_update(
        index_elements=["type", "value"], set_={name: insert.excluded[name] for name in _FEED_COLUMNS}
    )
    for start in range(0, len(rows), _UPSERT_CHUNK):
        await session.execute(upsert, rows[start : start + _UPSERT_CHUNK])  # executemany, batched
    await session.execute(
        update(IOCModel)
        .where(IOCModel.feed == feed.name, IOCModel.updated_at < now)
        .values(status=IOCStatus.EXPIRED.value, expires_at=now)
    )
    invalidate_indicator_index()
    return len(rows)


class IntelFeedService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list(self) -> list[IntelFeedModel]:
        return list(await self.session.scalars(select(IntelFeedModel).order_by(IntelFeedModel.name)))

    async def get(self, feed_id: uuid.UUID) -> IntelFeedModel:
        feed = await self.session.get(IntelFeedModel, feed_id)
        if feed is None:
            raise NotFound(f"intel feed {feed_id} not found")
        return feed

    async def by_name(self, name: str) -> IntelFeedModel:
        feed = await self.session.scalar(select(IntelFeedModel).where(IntelFeedModel.name == name))
        if feed is None:
            raise NotFound(f"intel feed {name!r} not found")
        return feed

    async def create(self, spec: FeedSpec, *, allow_files: bool = False) -> IntelFeedModel:
        _validate(spec, allow_files=allow_files)
        if await self.session.scalar(select(IntelFeedModel.id).where(IntelFeedModel.name == spec.name)):
            raise Conflict(f"an intel feed named {spec.name!r} exists")
        feed = IntelFeedModel(**spec.__dict__, last_status="never", indicator_count=0)
        self.session.add(feed)
        await self.session.flush()
        return feed

    async def delete(self, feed: IntelFeedModel) -> None:
        """Remove the subscription; its indicators stop matching (they stay as expired history)."""
        await self.session.execute(
            update(IOCModel).where(IOCModel.feed == feed.name).values(status=IOCStatus.EXPIRED.value)
        )
        await self.session.execute(delete(IntelFeedModel).where(IntelFeedModel.id == feed.id))
        invalidate_indicator_index()

    async def refresh(self, feed: IntelFeedModel) -> int:
        """Fetch and import now; on refusal record the error (caller commits) and raise FeedRefused."""
        feed.last_refresh_at = utcnow()
        try:
            found = await read_feed(feed)
        except FeedRefused as exc:
            feed.last_status, feed.last_error = "error", str(exc)
            log.warning("intel_feed_refused", feed=feed.name, reason=str(exc))
            raise
        feed.indicator_count = await store_indicators(self.session, feed, found)
        feed.last_status, feed.last_error = "ok", None
        log.info("intel_feed_refreshed", feed=feed.name, indicators=feed.indicator_count)
        return feed.indicator_count

    async def subscribe(
        self, spec: FeedSpec, *, actor: Actor, import_now: bool = False, allow_files: bool = False
    ) -> IntelFeedModel:
        """Subscribe (audited, committed); ``import_now`` then imports once, a refusal only recorded
        on the feed (``last_status``/``last_error``). ``allow_files``: local paths (the CLI only)."""
        feed = await self.create(spec, allow_files=allow_files)
        details = {"name": feed.name, "kind": feed.kind, "url": feed.url}
        await self._commit(actor, "intel_feed.create", feed, details)
        if import_now:
            with contextlib.suppress(FeedRefused):
                await self.refresh(feed)
            await self.session.commit()
        return feed

    async def refresh_now(self, feed_id: uuid.UUID, *, actor: Actor) -> IntelFeedModel:
        """Fetch and import now, audited and committed. A refusal is committed on the feed (its
        previous indicators stay) and raised as :class:`FeedRefused`."""
        feed = await self.get(feed_id)
        try:
            count = await self.refresh(feed)
        except FeedRefused:
            await self.session.commit()
            raise
        await self._commit(actor, "intel_feed.refresh", feed, {"indicators": count})
        return feed

    async def unsubscribe(self, feed_id: uuid.UUID, *, actor: Actor) -> None:
        """:meth:`delete`, audited and committed."""
        feed = await self.get(feed_id)
        await self.delete(feed)
        await self._commit(actor, "intel_feed.delete", feed, {"name": feed.name})

    async def _commit(self, actor: Actor, action: str, feed: IntelFeedModel, details: dict[str, Any]) -> None:
        await actor.audit(self.session, action, ("intel_feed", str(feed.id)), details)
        await self.session.commit()


def is_due(feed: IntelFeedModel, now: datetime) -> bool:
    last = feed.last_refresh_at
    return feed.enabled and (last is None or now - last >= timedelta(minutes=feed.refresh_minutes))


async def refresh_due_feeds(session: AsyncSession, now: datetime) -> dict[str, str]:
    """The scheduled job: refresh every enabled feed whose interval has passed; ``{name: outcome}``."""
    service = IntelFeedService(session)
    outcomes: dict[str, str] = {}
    for feed in await service.list():
        if not is_due(feed, now):
            continue
        try:
            outcomes[feed.name] = f"ok: {await service.refresh(feed)} indicators"
        except FeedRefused as exc:
            outcomes[feed.name] = f"refused: {exc}"
        await session.commit()
    return outcomes
