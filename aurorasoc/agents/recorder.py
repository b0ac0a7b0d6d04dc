"""Every agent step as an ``investigation_events`` row (ordered by ``seq``) and an ``agent_step``
message on ``aurora:audit`` for ``/ws/agent-thoughts`` (spec §11, §16.4).

Steps are committed one by one so a watcher sees the investigation unfold and a crash keeps
what already happened; the bus message goes out after the commit.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.agents.models import InvestigationEventModel
from aurorasoc.core.audit import AUDIT_STREAM
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.types import utcnow

log = logging.getLogger(__name__)


class StepRecorder:
    def __init__(self, session: AsyncSession, investigation_id: uuid.UUID, *, commit: bool = True) -> None:
        self.session = session
        self.investigation_id = investigation_id
        self.commit = commit
        self._seq: int | None = None

    async def record(self, agent: str, event_type: str, detail: dict[str, Any]) -> InvestigationEventModel:
        if self._seq is None:
            self._seq = int(
                await self.session.scalar(
                    select(func.coalesce(func.max(InvestigationEventModel.seq), 0)).where(
                        InvestigationEventModel.investigation_id == self.investigation_id
                    )
                )
                or 0
            )
        self._seq += 1
        event = InvestigationEventModel(
            investigation_id=self.investigation_id,
            seq=self._seq,
            event_type=event_type,
            payload=_jsonable({"agent": agent, **detail}),
        )
        self.session.add(event)
        await self.session.flush()
        if self.commit:
            await self.session.commit()
        await self._publish(agent, event)
        log.info(
            "agent step",
            extra={
                "agent": agent,
                "event_type": event_type,
                "seq": self._seq,
                "investigation_id": str(self.investigation_id),
            },
        )
        return event

    async def _publish(self, agent: str, event: InvestigationEventModel) -> None:
        message = {
            "type": "agent_step",
            "agent": agent,
            "action": event.event_type,
            "investigation_id": str(self.investigation_id),
            "seq": event.seq,
            "event_type": event.event_type,
            "detail": {k: v for k, v in event.payload.items() if k != "agent"},
            "timestamp": utcnow().isoformat(),
        }
        try:
            await get_bus().publish(AUDIT_STREAM, message)
        except Exception:
            log.warning(
                "agent_step publish failed; the investigation_events row is the record", exc_info=True
            )


def _jsonable(value: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(orjson.dumps(value, default=str))
    return result
