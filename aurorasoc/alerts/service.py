"""AlertService: the one door every alert comes through (spec §14.1).

Canonicalise, dedup on ``sha256(title|source|sorted(iocs))`` against open alerts, insert, type
and link IOCs. Services flush; the caller commits and then publishes the alert event, so
consumers never observe uncommitted rows.
"""

from __future__ import annotations

import builtins
import hashlib
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.filters import AlertFilters
from aurorasoc.alerts.models import WRITTEN_COLUMNS, AlertModel
from aurorasoc.alerts.paging import (
    FEW_MATCHES,
    TIME_SORTS,
    AlertListing,
    count_alerts,
    counted_page,
    encode_cursor,
    expect_few,
    page_query,
)
from aurorasoc.alerts.sql import alert_upsert, upsert_param_names
from aurorasoc.core.config import get_settings
from aurorasoc.core.ecs import ENTITY_COLUMNS
from aurorasoc.core.errors import Conflict, InvalidInput, NotFound
from aurorasoc.core.metrics import ALERTS_CREATED, ALERTS_DEDUPLICATED
from aurorasoc.core.vocabulary import AlertCreate, AlertStatus
from aurorasoc.intel.extraction import canonicalize_iocs, canonicalize_techniques
from aurorasoc.intel.service import extend_alert_ioc_times, index_alert_iocs

log = structlog.get_logger(__name__)

CLOSED_STATUSES = (AlertStatus.RESOLVED.value, AlertStatus.FALSE_POSITIVE.value)
MAX_LOG_IDS = 100
EDITABLE_FIELDS = ("status", "severity", "assigned_agent", "resolution")
_COLUMN_NAMES = tuple(c.name for c in WRITTEN_COLUMNS)
UPSERT_ROWS = 256  # rows per statement at most: ~9k bound parameters, under SQLite's and asyncpg's limits
# Entity columns of ``alerts`` and their widths (``parent_entity_id`` lives on events only).
_ALERT_ENTITY_COLUMNS = {
    "host": 255, "user_name": 255, "src_ip": 64, "dst_ip": 64, "process_executable": 1024,
    "process_command_line": 65_536, "process_entity_id": 128, "parent_executable": 1024,
    "parent_command_line": 65_536,
}  # fmt: skip


def dedup_hash(title: str, source: str, iocs: list[str]) -> str:
    """The documented formula, over the canonical IOC list (so order and case do not matter)."""
    return hashlib.sha256(f"{title}|{source}|{sorted(iocs)}".encode()).hexdigest()


def _snapshot(alert: AlertModel, fields: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(alert, name) for name in fields}


def _dedup_keys(data: AlertCreate, iocs: list[str]) -> list[str]:
    """IOCs plus the observables and host behind a detection (one rule on two hosts is two alerts),
    plus the event-time window of an alert that carries its event time: the same detection on the same
    host two years later is a new alert, not occurrence 2 of an alert spanning two years."""
    host = data.entities.get("host.name")
    extra = [o["value"] for o in data.observables] + ([f"host:{host}"] if host else [])
    keys = canonicalize_iocs([*iocs, *extra]) if extra else iocs
    window = get_settings().detection.alert_dedup_window_hours * 3600
    if window and data.first_seen_at is not None:
        keys = [*keys, f"event-window:{int(data.first_seen_at.timestamp()) // window}"]
    return keys


def _entity_columns(entities: dict[str, Any], assets: Sequence[str]) -> dict[str, Any]:
    """Entity columns from the ECS entities; a producer's ``host:``/``user:`` assets fill the gaps."""
    entities = dict(entities)
    for asset in assets:
        kind, _, name = asset.partition(":")
        if kind in ("host", "user") and name:
            entities.setdefault(f"{kind}.name", name)
    out: dict[str, Any] = {}
    for entity, column in ENTITY_COLUMNS.items():
        if column in _ALERT_ENTITY_COLUMNS:
            value = entities.get(entity)
            out[column] = None if value is None else str(value)[: _ALERT_ENTITY_COLUMNS[column]]
    return out


def _insert_row(data: AlertCreate) -> dict[str, Any]:
    """Column values (by column name, so ``metadata``) of the alert ``data`` would create.

    ``first_seen_at``/``last_seen_at`` are the event times the producer gives (spec §27.1); an alert
    without them (a forwarder that sent none) is seen now.
    """
    iocs = canonicalize_iocs(data.iocs)
    digest = dedup_hash(data.title, data.source, _dedup_keys(data, iocs))
    now = datetime.now(UTC)
    first_seen = data.first_seen_at or data.last_seen_at or now
    last_seen = max(data.last_seen_at or first_seen, first_seen)
    row = dict.fromkeys(_COLUMN_NAMES)
    row.update(
        id=uuid.uuid4(),
        title=data.title,
        description=data.description,
        severity=data.severity.value,
        status=AlertStatus.NEW.value,
        source=data.source,
        asset_type=data.asset_type.value if data.asset_type else None,
        affected_assets=list(dict.fromkeys(data.affected_assets)),
        iocs=iocs,
        mitre_techniques=canonicalize_techniques(data.mitre_techniques),
        raw_log=data.raw_log,
        origin_site=data.origin_site,
        metadata=dict(data.metadata),
        dedup_hash=digest,
        first_seen_at=first_seen,
        last_seen_at=last_seen,
        occurrence_count=1,
        created_at=now,
        updated_at=now,
        entities=dict(data.entities),
        observables=list(data.observables),
        **_entity_columns(data.entities, data.affected_assets),
    )
    return row


def _chunks(count: int) -> builtins.list[tuple[int, int]]:
    """(start, size) pieces of power-of-two sizes up to ``UPSERT_ROWS``: a handful of distinct
    statements, each built and compiled once per process (a statement per batch size cost more
    CPU than running it)."""
    pieces, start = [], 0
    while start < count:
        size = min(UPSERT_ROWS, 1 << ((count - start).bit_length() - 1))
        pieces.append((start, size))
        start += size
    return pieces


def _fold_repeats(rows: Sequence[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
    """One row per dedup hash: the first submission, counting its repeats and their event span."""
    first: dict[str, dict[str, Any]] = {}
    for row in rows:
        kept = first.get(row["dedup_hash"])
        if kept is None:
            first[row["dedup_hash"]] = {**row, "occurrence_count": 1}
            continue
        kept["occurrence_count"] += 1
        kept["first_seen_at"] = min(kept["first_seen_at"], row["first_seen_at"])
        kept["last_seen_at"] = max(kept["last_seen_at"], row["last_seen_at"])
    return builtins.list(first.values())


class AlertService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, data: AlertCreate) -> tuple[AlertModel, bool]:
        """Insert a new alert, or fold a repeat into the open one; True when a row was created."""
        return (await self.create_many([data]))[0]

    async def create_many(self, items: Sequence[AlertCreate]) -> builtins.list[tuple[AlertModel, bool]]:
        """Ingest in order; repeats inside the batch dedup against each other as well.

        The batch is folded by dedup hash (a repeat adds to its first occurrence's count and event
        span) and written as one multi-row ``INSERT … ON CONFLICT`` against the partial unique index
        on open alerts' dedup hash, so concurrent submissions never create two open rows. The IOCs
        of all new alerts are then typed, upserted and linked together (a fixed number of statements).
        """
        rows = [_insert_row(item) for item in items]
        folded = _fold_repeats(rows)
        written: dict[str, AlertModel] = {}
        for start, size in _chunks(len(folded)):
            chunk = folded[start : start + size]
            params: dict[str, Any] = {}
            for names, row in zip(upsert_param_names(size), chunk, strict=True):
                params.update(zip(names, map(row.__getitem__, _COLUMN_NAMES), strict=True))
            result = await self.session.scalars(
                alert_upsert(len(chunk)),
                params,
                execution_options={"populate_existing": True},
            )
            written.update((alert.dedup_hash or "", alert) for alert in result.all())
        results = await self._outcomes(rows, {row["dedup_hash"]: row["id"] for row in folded}, written)
        await index_alert_iocs(self.session, [alert for alert, created in results if created])
        repeated = {alert.id: alert for alert, created in results if not created}
        await extend_alert_ioc_times(self.session, builtins.list(repeated.values()))
        return results

    async def _outcomes(
        self, rows: Sequence[dict[str, Any]], proposed: dict[str, uuid.UUID], written: dict[str, AlertModel]
    ) -> builtins.list[tuple[AlertModel, bool]]:
        """Per submitted alert: its row, and True for the one submission that created it.

        Metrics are counted per label set once per batch (a ``labels()`` call per alert cost ~5 %
        of a batch's CPU)."""
        results: builtins.list[tuple[AlertModel, bool]] = []
        created_by_label: Counter[tuple[str, str]] = Counter()
        for row in rows:
            alert = written[row["dedup_hash"]]
            created = alert.id == row["id"] == proposed[row["dedup_hash"]]
            if created:
                created_by_label[(alert.severity, alert.source)] += 1
                log.info(
                    "alert_created",
                    alert_id=str(alert.id),
                    severity=alert.severity,
                    source=alert.source,
                    dedup_hash=alert.dedup_hash,  # spec §10: what later repeats fold into
                )
            else:
                self._merge_log_ids(alert, row["metadata"].get("log_ids"))
            results.append((alert, created))
        await self.session.flush()  # the repeats' merged log ids, as one executemany
        for (severity, source), count in created_by_label.items():
            ALERTS_CREATED.labels(severity, source).inc(count)
        if deduplicated := len(results) - created_by_label.total():
            ALERTS_DEDUPLICATED.inc(deduplicated)
        return results

    @staticmethod
    def _merge_log_ids(alert: AlertModel, new_ids: Any) -> None:
        if not isinstance(new_ids, builtins.list) or not new_ids:
            return
        metadata = dict(alert.metadata_ or {})
        merged = builtins.list(dict.fromkeys([*metadata.get("log_ids", []), *map(str, new_ids)]))
        metadata["log_ids"] = merged[-MAX_LOG_IDS:]
        alert.metadata_ = metadata

    async def get(self, alert_id: uuid.UUID) -> AlertModel:
        alert = await self.session.get(AlertModel, alert_id)
        if alert is None:
            raise NotFound(f"alert {alert_id} does not exist")
        return alert

    async def list(
        self, filters: AlertFilters, *, skip: int = 0, limit: int = 50, cursor: str | None = None
    ) -> AlertListing:
        """One page, by ``cursor`` (keyset) or by ``skip`` (old clients and the console).

        One row more than the page is read to know whether another page follows; a first page
        that is not full is its own exact total, so only longer lists run the (capped) count.
        """
        rows, counted = await self._page(filters, skip=skip, limit=limit, cursor=cursor)
        more = len(rows) > limit
        items = rows[:limit]
        next_cursor = encode_cursor(filters, items[-1]) if more and items else None
        if not more and not cursor and (items or not skip):
            return AlertListing(items, skip + len(items), False, next_cursor)
        dialect = self.session.get_bind().dialect.name
        total, estimated = counted or await count_alerts(self.session, filters.clauses(dialect))
        return AlertListing(items, total, estimated, next_cursor)

    async def _page(
        self, filters: AlertFilters, *, skip: int, limit: int, cursor: str | None
    ) -> tuple[builtins.list[AlertModel], tuple[int, bool] | None]:
        """The page's rows (one more than ``limit``), and the total when it was taken on the way.

        A text search picks its plan from how many alerts match: on SQLite the capped count (many
        are filtered along the time order), on PostgreSQL the planner's estimate (few are counted
        in the pass that sorts them).
        """
        dialect = self.session.get_bind().dialect.name
        text_search = bool(filters.q)
        postgres_text = text_search and dialect == "postgresql" and not cursor
        if postgres_text and await expect_few(self.session, filters):
            found = (await self.session.execute(counted_page(filters, skip=skip, limit=limit))).all()
            return [alert for alert, _ in found], ((found[0][1], False) if found else None)
        counted = None
        if text_search and dialect == "sqlite" and filters.sort.lstrip("-") in TIME_SORTS:
            text_only = filters.q if filters == AlertFilters(q=filters.q, sort=filters.sort) else None
            counted = await count_alerts(self.session, filters.clauses(dialect), text_only=text_only)
        many = counted is not None and counted[0] > FEW_MATCHES
        page = page_query(filters, dialect, skip=skip, limit=limit, cursor=cursor, many_matches=many)
        return builtins.list((await self.session.scalars(page)).all()), counted

    async def update(self, alert: AlertModel, changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Apply an analyst edit; returns ``{"before", "after"}`` of the changed fields."""
        if not changes:
            raise InvalidInput(f"give at least one of: {', '.join(EDITABLE_FIELDS)}")
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            raise InvalidInput(f"fields cannot be edited: {', '.join(sorted(unknown))}")
        status = changes.get("status", alert.status)
        if changes.get("resolution") and status not in CLOSED_STATUSES:
            raise InvalidInput("a resolution needs status 'resolved' or 'false_positive'")
        before = _snapshot(alert, builtins.list(changes))
        for name, value in changes.items():
            setattr(alert, name, getattr(value, "value", value))
        await self._flush_reopen_safely(alert)
        return {"before": before, "after": _snapshot(alert, builtins.list(changes))}

    async def _flush_reopen_safely(self, alert: AlertModel) -> None:
        """Reopening an alert while a newer open alert holds its dedup hash is refused (409)."""
        alert_id = str(alert.id)  # read before the flush: a failed flush leaves the session unusable
        try:
            await self.session.flush()
        except IntegrityError:
            raise Conflict(
                "another open alert already has this alert's dedup hash; resolve or link that one instead",
                code="duplicate_open_alert",
                alert_id=alert_id,
            ) from None

    async def acknowledge(self, alert: AlertModel, username: str) -> dict[str, dict[str, Any]]:
        """Known-benign: resolved with resolution ``benign`` and who acknowledged it when."""
        fields = ["status", "resolution", "acknowledged_by", "acknowledged_at"]
        before = _snapshot(alert, fields)
        alert.status = AlertStatus.RESOLVED.value
        alert.resolution = "benign"
        alert.acknowledged_by = username
        alert.acknowledged_at = datetime.now(UTC)
        await self.session.flush()
        return {"before": before, "after": _snapshot(alert, fields)}

    async def bulk_set_status(
        self, alert_ids: Sequence[uuid.UUID], status: AlertStatus
    ) -> tuple[builtins.list[AlertModel], builtins.list[uuid.UUID]]:
        """Set ``status`` on every existing alert; returns (updated alerts, ids that do not exist)."""
        wanted = builtins.list(dict.fromkeys(alert_ids))
        rows = await self.session.execute(select(AlertModel).where(AlertModel.id.in_(wanted)))
        found = {alert.id: alert for alert in rows.scalars()}
        for alert in found.values():
            alert.status = status.value
            await self._flush_reopen_safely(alert)
        return builtins.list(found.values()), [i for i in wanted if i not in found]
