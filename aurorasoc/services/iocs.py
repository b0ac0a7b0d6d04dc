"""IOC rows: upsert on (type, value) and linking to alerts (spec §14.4)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.models import AlertIOCModel, IOCModel
from aurorasoc.detection.iocs_extract import classify_ioc


async def upsert_iocs(
    session: AsyncSession, values: Iterable[str], *, source: str, confidence: float = 0.5
) -> list[IOCModel]:
    """Insert new typed IOCs, or bump ``sightings``/``last_seen`` and keep the max confidence."""
    typed = {t: None for v in values if (t := classify_ioc(v)) is not None}
    if not typed:
        return []
    now = datetime.now(UTC)
    rows: list[IOCModel] = []
    for ioc_type, value in typed:
        existing = (
            await session.execute(
                select(IOCModel).where(IOCModel.type == ioc_type.value, IOCModel.value == value)
            )
        ).scalar_one_or_none()
        if existing is None:
            existing = IOCModel(type=ioc_type.value, value=value, source=source, confidence=confidence)
            session.add(existing)
        else:
            existing.sightings += 1
            existing.last_seen = now
            existing.confidence = max(existing.confidence, confidence)
        rows.append(existing)
    await session.flush()
    return rows


async def link_iocs(session: AsyncSession, alert_id: uuid.UUID, iocs: Iterable[IOCModel]) -> None:
    linked = set(
        (
            await session.execute(select(AlertIOCModel.ioc_id).where(AlertIOCModel.alert_id == alert_id))
        ).scalars()
    )
    session.add_all(AlertIOCModel(alert_id=alert_id, ioc_id=ioc.id) for ioc in iocs if ioc.id not in linked)
    await session.flush()


async def iocs_for_alert(session: AsyncSession, alert_id: uuid.UUID) -> list[IOCModel]:
    result = await session.execute(
        select(IOCModel)
        .join(AlertIOCModel, AlertIOCModel.ioc_id == IOCModel.id)
        .where(AlertIOCModel.alert_id == alert_id)
        .order_by(IOCModel.type, IOCModel.value)
    )
    return list(result.scalars())
