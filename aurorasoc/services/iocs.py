"""IOC rows: upsert on (type, value) and linking to alerts (spec §14.4)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.models import AlertIOCModel, AlertModel, IOCModel
from aurorasoc.detection.iocs_extract import classify_ioc
from aurorasoc.services.alert_sql import alert_ioc_link, ioc_upsert

IOCKey = tuple[str, str]  # (type, canonical value)


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
    common = {"confidence": confidence, "status": "active", "tags": [], "tlp": "amber", "description": None}
    stamps = {"first_seen": now, "last_seen": now, "created_at": now, "updated_at": now, "origin_site": None}
    rows = [
        {"id": uuid.uuid4(), "type": kind, "value": value, "source": sources[(kind, value)],
         "sightings": count, **common, **stamps}
        for (kind, value), count in sightings.items()
    ]  # fmt: skip
    await session.execute(ioc_upsert(), rows)
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
    links = [{"alert_id": alert_id, "ioc_id": ids[k]} for alert_id, ks in keys.items() for k in ks]
    if links:
        await session.execute(alert_ioc_link(), links)


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
