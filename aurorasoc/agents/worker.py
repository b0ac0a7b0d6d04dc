"""``AgentTaskWorker``: the consumer of ``aurora:agent:tasks`` (spec §16.5).

Tasks come from the dispatch routes (with an LLM configured), automation rules
(``dispatch_agent``), scheduled hunts and CPS alerts. A task that names its investigation runs
that row; one that does not gets a ``pending`` investigation keyed by its ``task_id``, so a
redelivered message finds the row it created instead of starting a second run. Finished rows are
never re-run; a row left ``running`` by a crashed worker is run again (at-least-once).

Tasks run with the requesting user's permissions when the requester is a user, and with the
analyst role's otherwise (rules, hunts, devices): risky tools still need an approval either way.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.agents.investigations import InvestigationService, outcome_summary
from aurorasoc.agents.models import InvestigationModel
from aurorasoc.agents.tasks import TaskEnvelope
from aurorasoc.core.bus.base import AGENT_TASKS_STREAM, BusMessage, EventBus
from aurorasoc.core.bus.nats_jetstream import AGENT_RESULTS_SUBJECT, share_with_federation
from aurorasoc.core.db import get_session_factory
from aurorasoc.core.models_platform import UserModel
from aurorasoc.core.rbac import ROLE_PERMISSIONS
from aurorasoc.core.vocabulary import InvestigationStatus, Role

log = logging.getLogger(__name__)
AGENT_RESULTS_STREAM = "aurora:agent:results"
AGENTS_GROUP = "aurora-agents"
FINISHED = frozenset(
    s.value
    for s in (
        InvestigationStatus.COMPLETED,
        InvestigationStatus.REVIEW_REQUIRED,
        InvestigationStatus.FAILED,
        InvestigationStatus.DEAD_LETTERED,
    )
)
SYSTEM_PERMISSIONS = ROLE_PERMISSIONS[Role.ANALYST]


async def task_permissions(session: AsyncSession, requested_by: str) -> frozenset[str]:
    """A known user's role permissions, capped at the analyst's; everyone else gets the analyst's."""
    user = await session.scalar(select(UserModel).where(UserModel.username == requested_by))
    if user is None or not user.is_active:
        return SYSTEM_PERMISSIONS
    return ROLE_PERMISSIONS.get(Role(user.role), frozenset()) & SYSTEM_PERMISSIONS


async def _investigation_for(session: AsyncSession, task: TaskEnvelope) -> InvestigationModel:
    service = InvestigationService(session)
    if task.investigation_id is not None:
        return await service.get(task.investigation_id)
    found = await session.scalar(select(InvestigationModel).where(InvestigationModel.task_id == task.task_id))
    if found is not None:
        return found
    investigation = await service.create(
        task.agent_type,
        task.prompt,
        task.requested_by,
        alert_id=task.alert_id,
        case_id=task.case_id,
        priority=task.priority,
        task_id=task.task_id,
    )
    investigation.network_attack_id = task.network_attack_id
    await session.commit()
    return investigation


class AgentTaskWorker:
    """Runs each task to a finished investigation and announces it on ``aurora:agent:results``."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def register(self) -> None:
        self.bus.subscribe(AGENT_TASKS_STREAM, AGENTS_GROUP, self.handle)

    async def handle(self, message: BusMessage) -> None:
        """A malformed task raises, so the bus retries it and then dead-letters it."""
        try:
            task = TaskEnvelope.model_validate(message.data)
        except ValidationError as exc:
            raise ValueError(f"invalid agent task {message.id}: {exc.error_count()} errors") from exc
        await self.run(task)

    async def run(self, task: TaskEnvelope) -> InvestigationModel:
        async with get_session_factory()() as session:
            investigation = await _investigation_for(session, task)
            if investigation.status in FINISHED:
                log.info("agent task %s already finished; redelivery ignored", task.task_id)
                return investigation
            permissions = await task_permissions(session, task.requested_by)
            if task.permissions is not None:
                permissions &= frozenset(task.permissions)
            await InvestigationService(session).execute(investigation, permissions)
            summary = _result(task, investigation)
            await self.bus.publish(AGENT_RESULTS_STREAM, summary)
            share_with_federation(AGENT_RESULTS_SUBJECT, summary, msg_id=f"result-{investigation.id}")
            return investigation


def _result(task: TaskEnvelope, investigation: InvestigationModel) -> dict[str, Any]:
    backend = (investigation.result or {}).get("backend")
    return {"task_id": task.task_id, **outcome_summary(investigation), "backend": backend}


def register_agent_worker(bus: EventBus) -> None:
    """Appended to ``app.state.consumers`` and used by ``aurorasoc worker --role agents``."""
    AgentTaskWorker(bus).register()
