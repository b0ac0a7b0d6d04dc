"""SIEM retention: events past their setting and expired token revocations (spec §21, hourly)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.config import Settings
from aurorasoc.core.models_platform import RevokedTokenModel
from aurorasoc.core.siem_partitions import drop_days_before
from aurorasoc.siem.entity_days import prune_entity_days
from aurorasoc.siem.models import SiemLogModel

# Every partition's share of the full-text index (partition indexes inherit from the table's).
_MERGE_PENDING = text(
    "SELECT coalesce(sum(gin_clean_pending_list(inhrelid)), 0) FROM pg_inherits "
    "WHERE inhparent = to_regclass('ix_siem_logs_search')"
)


async def merge_search_backlog(session: AsyncSession) -> int:
    """Move the words waiting in the GIN pending lists of ``ix_siem_logs_search`` into the index
    proper; returns the pages merged (0 on SQLite).

    Why: PostgreSQL buffers new GIN entries in a pending list (up to 4 MB per index) that every
    search reads in full, and only a vacuum empties it. A day partition stops receiving rows when its
    day is over, so autovacuum's insert trigger never fires for it again and its last list stays:
    at 1M events a one-word search spent 16 ms reading six of them instead of 0.2 ms, and each
    further day adds one. An empty list costs one page read.
    """
    if session.bind.dialect.name != "postgresql":
        return 0
    return int(await session.scalar(_MERGE_PENDING) or 0)


async def purge_expired(session: AsyncSession, settings: Settings, now: datetime) -> dict[str, int]:
    """Delete SIEM events stored more than ``AURORA_SIEM_RETENTION_DAYS`` ago and expired revocations.

    SIEM age counts from ``received_at``: an analyst importing last year's logs for an investigation
    keeps them for the retention period, rather than losing them at the next hourly run. On
    PostgreSQL whole expired day partitions are dropped first (``siem_partitions`` counts them);
    the rows left over (a day still receiving, the DEFAULT partition) are deleted one by one. Then
    the full-text index's pending entries are merged (``merge_search_backlog``), and the entity
    inventories forget the expired days.
    """
    siem_cutoff = now - timedelta(days=settings.detection.siem_retention_days)
    statements = {
        "siem_logs": delete(SiemLogModel).where(SiemLogModel.received_at < siem_cutoff),
        "revoked_tokens": delete(RevokedTokenModel).where(RevokedTokenModel.expires_at < now),
    }
    partitions, dropped_rows = await drop_days_before(session, siem_cutoff)
    purged = {name: (await session.execute(stmt)).rowcount or 0 for name, stmt in statements.items()}  # type: ignore[attr-defined]
    purged["siem_entity_days"] = await prune_entity_days(session, siem_cutoff)
    merged = await merge_search_backlog(session)
    return purged | {
        "siem_logs": purged["siem_logs"] + dropped_rows,
        "siem_partitions": partitions,
        "siem_search_pages_merged": merged,
    }
