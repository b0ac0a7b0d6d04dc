"""Investigations (spec §16.5): create, run, list, events, operator override.

With no LLM configured a run takes well under a second, so it completes inside the request;
with a model it is queued for the ``AgentTaskWorker`` and the caller polls. Outcomes go
to the linked case's timeline as ``agent_analysis``.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.agents.factory import CircuitState, breaker_for
from aurorasoc.agents.investigation_workflow import BackendFor, run_investigation
from aurorasoc.agents.llm import OFFLINE, LLMUnavailable
from aurorasoc.agents.models import InvestigationEventModel, InvestigationModel
from aurorasoc.agents.recorder import StepRecorder
from aurorasoc.agents.tasks import envelope_for
from aurorasoc.alerts.models import AlertModel
from aurorasoc.core.actor import Actor
from aurorasoc.core.bus.base import AGENT_TASKS_STREAM
from aurorasoc.core.bus.current import get_bus
from aurorasoc.core.config import get_settings
from aurorasoc.core.errors import Conflict, NotFound, ServiceUnavailable
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import AgentType, ApprovalStatus, InvestigationStatus
from aurorasoc.soar.models import HumanApprovalModel
from aurorasoc.soar.timeline import add_case_entry

log = logging.getLogger(__name__)
REVIEW_BELOW = 0.6
AGENT_DECISIONS_STREAM = "decisions:agents"
INVESTIGATIONS = Counter("investigations_total", "Finished investigations", ["agent", "status"])


@dataclass(frozen=True)
class InvestigationFilters:
    status: str | None = None
    agent: str | None = None
    case_id: uuid.UUID | None = None
    alert_id: uuid.UUID | None = None


class InvestigationService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, investigation_id: uuid.UUID) -> InvestigationModel:
        found = await self.session.get(InvestigationModel, investigation_id)
        if found is None:
            raise NotFound(
                f"investigation {investigation_id} does not exist", investigation_id=str(investigation_id)
            )
        return found

    async def list(
        self, filters: InvestigationFilters, *, skip: int, limit: int
    ) -> tuple[builtins.list[InvestigationModel], int]:
        model = InvestigationModel
        clauses = [
            col == value
            for col, value in (
                (model.status, filters.status),
                (model.agent, filters.agent),
                (model.case_id, filters.case_id),
                (model.alert_id, filters.alert_id),
            )
            if value is not None
        ]
        total = await self.session.scalar(select(func.count()).select_from(model).where(*clauses))
        stmt = select(model).where(*clauses).order_by(model.created_at.desc()).offset(skip).limit(limit)
        return builtins.list((await self.session.scalars(stmt)).all()), int(total or 0)

    async def events(self, investigation_id: uuid.UUID) -> builtins.list[InvestigationEventModel]:
        await self.get(investigation_id)
        stmt = select(InvestigationEventModel).where(
            InvestigationEventModel.investigation_id == investigation_id
        )
        return builtins.list((await self.session.scalars(stmt.order_by(InvestigationEventModel.seq))).all())

    async def create(
        self,
        agent: AgentType,
        prompt: str,
        requested_by: str,
        *,
        alert_id: uuid.UUID | None = None,
        case_id: uuid.UUID | None = None,
        priority: int = 5,
        task_id: str | None = None,
    ) -> InvestigationModel:
        """A ``pending`` investigation; an alert's case is linked when no case is given."""
        if alert_id is not None:
            alert = await self.session.get(AlertModel, alert_id)
            if alert is None:
                raise NotFound(f"alert {alert_id} does not exist", alert_id=str(alert_id))
            case_id = case_id or alert.case_id
        investigation = InvestigationModel(
            task_id=task_id or uuid.uuid4().hex,
            agent=agent.value,
            prompt=prompt,
            priority=priority,
            requested_by=requested_by,
            alert_id=alert_id,
            case_id=case_id,
            status=InvestigationStatus.PENDING.value,
        )
        self.session.add(investigation)
        await self.session.flush()
        return investigation

    async def execute(
        self,
        investigation: InvestigationModel,
        permissions: frozenset[str],
        backend_for: BackendFor | None = None,
    ) -> InvestigationModel:
        """Run now, committing as it goes; failures and timeouts end the investigation ``failed``.

        Every path (API, CLI, worker, A2A) comes here, so an open circuit is honoured on all of
        them: the model is not called and the investigation fails with the reason."""
        if get_settings().agents.configured and not breaker_for(investigation.agent).allow_request():
            reason = f"the {investigation.agent} circuit is open; the model was not called"
            await self._fail(investigation, LLMUnavailable(reason))
            return investigation
        investigation.status = InvestigationStatus.RUNNING.value
        investigation.started_at = utcnow()
        await self.session.commit()
        timeout = get_settings().agents.task_timeout_seconds
        try:
            async with asyncio.timeout(timeout):  # keeps a shutdown's cancel (3.11 wait_for may not)
                run = await run_investigation(
                    self.session,
                    investigation,
                    permissions=permissions,
                    backend_for=backend_for or (lambda _a: None),
                )
        except Exception as exc:
            log.warning("investigation %s failed", investigation.id, exc_info=True)
            if isinstance(exc, LLMUnavailable):
                breaker_for(investigation.agent).record_failure()
            await self.session.rollback()
            await self._fail(investigation, exc)
            return investigation
        if get_settings().agents.configured:
            breaker_for(investigation.agent).record_success()
        status = await self._status(investigation.id, run.result, run.repaired)
        investigation.status = status.value
        investigation.result = run.result
        investigation.confidence = float(run.result.get("confidence") or 0.0)
        investigation.completed_at = utcnow()
        add_case_entry(
            self.session,
            investigation.case_id,
            "agent_analysis",
            f"agent:{investigation.agent}",
            outcome_text(run.result),
            {"investigation_id": str(investigation.id), **outcome_data(run.result)},
        )
        await self.session.commit()
        await _announce(investigation)
        return investigation

    async def _status(
        self, investigation_id: uuid.UUID, result: dict[str, Any], repaired: bool
    ) -> InvestigationStatus:
        pending = await self.session.scalar(
            select(func.count())
            .select_from(HumanApprovalModel)
            .where(
                HumanApprovalModel.investigation_id == investigation_id,
                HumanApprovalModel.status == ApprovalStatus.PENDING.value,
            )
        )
        if repaired or pending or float(result.get("confidence") or 0) < REVIEW_BELOW:
            return InvestigationStatus.REVIEW_REQUIRED
        return InvestigationStatus.COMPLETED

    async def _fail(self, investigation: InvestigationModel, exc: BaseException) -> None:
        reason = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        investigation.status = InvestigationStatus.FAILED.value
        investigation.error = reason[:2000]
        cfg = get_settings().agents
        investigation.result = {"backend": (cfg.llm_model or "default") if cfg.configured else OFFLINE}
        investigation.completed_at = utcnow()
        await StepRecorder(self.session, investigation.id).record(
            investigation.agent, "failed", {"error": reason[:500]}
        )
        await self.session.commit()
        await _announce(investigation)

    async def override(
        self, investigation_id: uuid.UUID, status: str, note: str, *, actor: Actor
    ) -> InvestigationModel:
        """An operator settles the outcome: ``completed`` or ``failed``, with a note; the step, the
        case timeline entry and the audit row are committed together."""
        investigation = await self.get(investigation_id)
        if investigation.status in (InvestigationStatus.PENDING.value, InvestigationStatus.RUNNING.value):
            raise Conflict(
                f"investigation is {investigation.status}; wait for it to finish", code="invalid_state"
            )
        previous = investigation.status
        investigation.status = status
        change = {"from": previous, "to": status, "note": note}
        await StepRecorder(self.session, investigation.id, commit=False).record(
            actor.username, "operator_override", change
        )
        add_case_entry(
            self.session,
            investigation.case_id,
            "agent_override",
            actor.username,
            f"Investigation set {status} (was {previous}): {note}",
            {"investigation_id": str(investigation.id)},
        )
        await actor.audit(
            self.session, "investigation.override", ("investigation", str(investigation.id)), change
        )
        await self.session.commit()
        return investigation


async def _announce(investigation: InvestigationModel) -> None:
    """Count the run and publish its outcome on ``decisions:agents`` (after the commit)."""
    INVESTIGATIONS.labels(agent=investigation.agent, status=investigation.status).inc()
    message = {"type": "agent_result", **outcome_summary(investigation)}
    try:
        await get_bus().publish(AGENT_DECISIONS_STREAM, message)
    except Exception:
        log.warning("decisions:agents publish failed; the investigation row is the record", exc_info=True)


def outcome_summary(investigation: InvestigationModel) -> dict[str, Any]:
    """Who ran, how it ended: the shape of ``decisions:agents`` and ``aurora:agent:results``."""
    result = investigation.result or {}
    return {
        "investigation_id": str(investigation.id),
        "agent": investigation.agent,
        "status": investigation.status,
        "verdict": result.get("verdict"),
        "confidence": investigation.confidence,
    }


def outcome_data(result: dict[str, Any]) -> dict[str, Any]:
    keys = ("verdict", "confidence", "severity", "mitre_techniques", "iocs", "recommendations", "backend")
    return {k: result.get(k) for k in keys} | {"skipped_agents": result.get("skipped_agents", [])}


def outcome_text(result: dict[str, Any]) -> str:
    """One readable paragraph: verdict, confidence, techniques, recommended actions."""
    parts = [
        f"Verdict {result.get('verdict')} (confidence {float(result.get('confidence') or 0):.2f}, "
        f"backend {result.get('backend')})",
        str(result.get("summary", ""))[:1500],
    ]
    if techniques := result.get("mitre_techniques"):
        parts.append("Techniques: " + ", ".join(techniques))
    if recs := result.get("recommendations"):
        parts.append("Recommended: " + "; ".join(recs))
    if skipped := result.get("skipped_agents"):
        parts.append("Skipped: " + ", ".join(skipped))
    return ". ".join(parts)


def ensure_llm_available(agent: AgentType) -> None:
    """503 ``llm_unavailable`` when a configured model failed until the agent's circuit opened;
    no LLM configured is not an error (the offline analyst answers)."""
    if get_settings().agents.configured and breaker_for(agent.value).state is CircuitState.OPEN:
        raise ServiceUnavailable(
            f"the configured LLM is not reachable: the {agent.value} circuit is open; retry later",
            code="llm_unavailable",
            agent=agent.value,
        )


async def start(
    session: AsyncSession, investigation: InvestigationModel, permissions: frozenset[str]
) -> InvestigationModel:
    """Offline: run inside the call (well under a second). With an LLM: commit the pending row and
    queue it on ``aurora:agent:tasks`` for the ``AgentTaskWorker`` (this process or a worker)."""
    if not get_settings().agents.configured:
        return await InvestigationService(session).execute(investigation, permissions)
    await session.commit()
    await get_bus().publish(AGENT_TASKS_STREAM, envelope_for(investigation, permissions).message())
    return investigation


async def recent_investigations(
    session: AsyncSession,
    *,
    alert_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    limit: int = 20,
) -> builtins.list[InvestigationModel]:
    """The newest investigations about an alert or a case (alert and case detail pages)."""
    stmt = select(InvestigationModel).order_by(InvestigationModel.created_at.desc()).limit(limit)
    if alert_id is not None:
        stmt = stmt.where(InvestigationModel.alert_id == alert_id)
    if case_id is not None:
        stmt = stmt.where(InvestigationModel.case_id == case_id)
    return builtins.list((await session.scalars(stmt)).all())
