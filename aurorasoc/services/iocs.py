"""IOC rows: upsert on (type, value) and linking to alerts (spec §14.4)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.models import AlertIOCModel, IOCModel
from aurorasoc.core.upsert import dialect_insert
from aurorasoc.detection.iocs_extract import classify_ioc


async def upsert_iocs(
    session: AsyncSession, values: Iterable[str], *, source: str, confidence: float = 0.5
) -> list[IOCModel]:
    """One atomic upsert: new IOCs are inserted, known ones get a sighting and the max confidence."""
    typed = list(dict.fromkeys(t for v in values if (t := classify_ioc(v)) is not None))
    if not typed:
        return []
    now = datetime.now(UTC)
    fresh = {"source": source, "confidence": confidence, "status": "active", "tags": [], "tlp": "amber"}
    stamps = {"sightings": 1, "first_seen": now, "last_seen": now, "created_at": now, "updated_at": now}
    rows: list[dict[str, Any]] = [
        {"id": uuid.uuid4(), "type": ioc_type.value, "value": value, **fresh, **stamps}
        for ioc_type, value in typed
    ]
    stmt = dialect_insert(session, IOCModel).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[IOCModel.type, IOCModel.value],
        set_={
            "sightings": IOCModel.sightings + 1,
            "last_seen": now,
            "updated_at": now,
            "confidence": case(
                (stmt.excluded.confidence > IOCModel.confidence, stmt.excluded.confidence),
                else_=IOCModel.confidence,
            ),
        },
    )
    result = await session.scalars(stmt.returning(IOCModel), execution_options={"populate_existing": True})
    return list(result)


async def link_iocs(session: AsyncSession, alert_id: uuid.UUID, iocs: Iterable[IOCModel]) -> None:
    links = [{"alert_id": alert_id, "ioc_id": ioc.id} for ioc in iocs]
    if links:
        await session.execute(dialect_insert(session, AlertIOCModel).values(links).on_conflict_do_nothing())


async def iocs_for_alert(session: AsyncSession, alert_id: uuid.UUID) -> list[IOCModel]:
    result = await session.execute(
        select(IOCModel)
        .join(AlertIOCModel, AlertIOCModel.ioc_id == IOCModel.id)
        .where(AlertIOCModel.alert_id == alert_id)
        .order_by(IOCModel.type, IOCModel.value)
    )
    return list(result.scalars())
