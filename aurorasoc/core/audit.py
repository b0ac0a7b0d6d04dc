"""Audit trail: who changed what, when, from where (spec §22).

Rows are added to the caller's session so the audit entry commits (or rolls back) with the
change it describes; the Redis stream copy is best-effort.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.bus.nats_jetstream import AUDIT_SUBJECT, share_with_federation
from aurorasoc.core.models_platform import AuditLogModel
from aurorasoc.core.redis import get_redis
from aurorasoc.core.runtime import current_mode

log = logging.getLogger(__name__)
AUDIT_STREAM = "aurora:audit"


class AuditService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        actor: str,
        actor_type: str,
        action: str,
        resource_type: str | None = None,
        resource_id: str | None = None,
        details: dict[str, Any] | None = None,
        *,
        ip: str | None = None,
    ) -> AuditLogModel:
        entry = AuditLogModel(
            actor=actor,
            actor_type=actor_type,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            details=_jsonable(details or {}),
            ip=ip,
            mode=current_mode().value,
        )
        self.session.add(entry)
        await self.session.flush()
        await _publish(entry)
        return entry


def _jsonable(value: dict[str, Any]) -> dict[str, Any]:
    """Round-trip through orjson so datetimes/UUIDs in before/after snapshots store as JSON."""
    result: dict[str, Any] = orjson.loads(orjson.dumps(value, default=str))
    return result


async def _publish(entry: AuditLogModel) -> None:
    """Best-effort copies: the Redis stream (live feeds) and, when federated, ``AURORA.audit``."""
    payload = {
        "type": "audit",
        "id": str(entry.id),
        "timestamp": entry.timestamp.isoformat(),
        "actor": entry.actor,
        "actor_type": entry.actor_type,
        "action": entry.action,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "details": entry.details,
        "ip": entry.ip,
        "mode": entry.mode,
    }
    share_with_federation(AUDIT_SUBJECT, payload, msg_id=f"audit-{entry.id}")
    client = await get_redis()
    if client is None:
        return
    try:
        await client.xadd(AUDIT_STREAM, {"data": orjson.dumps(payload)}, maxlen=1_000_000, approximate=True)
    except Exception:
        log.warning("audit stream publish failed; the audit_logs row is the durable record", exc_info=True)
