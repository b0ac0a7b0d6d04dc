"""IOC rows: upsert on (type, value) and linking to alerts (spec §14.4)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.models import AlertIOCModel, IOCModel
from aurorasoc.detection.iocs_extract import classify_ioc
from aurorasoc.services.alert_sql import alert_ioc_link, ioc_upsert


async def upsert_iocs(
    session: AsyncSession, values: Iterable[str], *, source: str, confidence: float = 0.5
) -> list[IOCModel]:
    """Atomic per-IOC upsert: new IOCs are inserted, known ones get a sighting and the max confidence."""
    typed = list(dict.fromkeys(t for v in values if (t := classify_ioc(v)) is not None))
    now = datetime.now(UTC)
    fresh = {"source": source, "confidence": confidence, "status": "active", "tags": [], "tlp": "amber"}
    stamps = {"sightings": 1, "first_seen": now, "last_seen": now, "created_at": now, "updated_at": now}
    statement = select(IOCModel).from_statement(ioc_upsert())
    rows = []
    for ioc_type, value in typed:
        params = {
            "id": uuid.uuid4(),
            "type": ioc_type.value,
            "value": value,
            "description": None,
            "origin_site": None,
        }
        result = await session.scalars(
            statement, {**params, **fresh, **stamps}, execution_options={"populate_existing": True}
        )
        rows.append(result.one())
    return rows


async def link_iocs(session: AsyncSession, alert_id: uuid.UUID, iocs: Iterable[IOCModel]) -> None:
    links = [{"alert_id": alert_id, "ioc_id": ioc.id} for ioc in iocs]
    if links:
        await session.execute(alert_ioc_link(), links)


async def iocs_for_alert(session: AsyncSession, alert_id: uuid.UUID) -> list[IOCModel]:
    result = await session.execute(
        select(IOCModel)
        .join(AlertIOCModel, AlertIOCModel.ioc_id == IOCModel.id)
        .where(AlertIOCModel.alert_id == alert_id)
        .order_by(IOCModel.type, IOCModel.value)
    )
    return list(result.scalars())
