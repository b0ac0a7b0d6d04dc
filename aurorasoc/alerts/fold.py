"""Fold open alerts that share a dedup hash (spec §21 ``_alert_dedup_loop``).

``AlertService`` deduplicates on insert and a partial unique index guards open alerts, so this is a
safety net for rows that bypassed both: a database restored from a dump taken without the index,
replicated or federated inserts. The earliest alert is kept; the others add their occurrences,
hand over case and IOC links, and are resolved as ``duplicate`` pointing at it.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.core.vocabulary import AlertResolution, AlertStatus
from aurorasoc.intel.models import AlertIOCModel
from aurorasoc.intel.service import extend_alert_ioc_times

_CLOSED = (AlertStatus.RESOLVED.value, AlertStatus.FALSE_POSITIVE.value)


async def _merge(session: AsyncSession, keep: AlertModel, other: AlertModel) -> None:
    keep.occurrence_count += other.occurrence_count
    keep.last_seen_at = max(keep.last_seen_at, other.last_seen_at)
    keep.case_id = keep.case_id or other.case_id
    linked = set(
        (await session.scalars(select(AlertIOCModel.ioc_id).where(AlertIOCModel.alert_id == keep.id))).all()
    )
    moved = (
        await session.scalars(select(AlertIOCModel.ioc_id).where(AlertIOCModel.alert_id == other.id))
    ).all()
    seen = keep.last_seen_at
    session.add_all(
        AlertIOCModel(alert_id=keep.id, ioc_id=i, last_seen_at=seen) for i in moved if i not in linked
    )
    other.status, other.resolution, other.duplicate_of = (
        AlertStatus.RESOLVED.value,
        AlertResolution.DUPLICATE.value,
        keep.id,
    )


async def fold_duplicate_alerts(session: AsyncSession) -> int:
    """Fold every group of open alerts sharing a hash; returns how many alerts were folded away."""
    is_open = AlertModel.status.not_in(_CLOSED)
    hashes = (
        await session.scalars(
            select(AlertModel.dedup_hash)
            .where(is_open, AlertModel.dedup_hash.is_not(None))
            .group_by(AlertModel.dedup_hash)
            .having(func.count() > 1)
        )
    ).all()
    folded = 0
    for dedup_hash in hashes:
        group = (
            await session.scalars(
                select(AlertModel)
                .where(is_open, AlertModel.dedup_hash == dedup_hash)
                .order_by(AlertModel.first_seen_at, AlertModel.created_at)
            )
        ).all()
        for other in group[1:]:
            await _merge(session, group[0], other)
            folded += 1
        await session.flush()
        await extend_alert_ioc_times(session, [group[0]])
    return folded
