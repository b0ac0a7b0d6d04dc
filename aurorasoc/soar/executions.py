"""Running playbooks and continuing them after human decisions (spec §15.3, §15.4).

Runs happen inline: with simulated connectors a playbook finishes in milliseconds, and an
approval gate ends the request with the execution ``awaiting_approval``. Steps are committed
as they finish (see :mod:`aurorasoc.soar.executor`). :meth:`ExecutionService.run`,
:meth:`~ExecutionService.cancel` and :meth:`~ExecutionService.resolve` own the whole unit of work
(audit, commit the tail, publish); ``execute``/``preview``/``decide`` are their in-transaction steps
for callers batching several changes (automation rules, agent tools).

Restart policy: an execution found ``pending`` or ``running`` at start was interrupted mid-step,
so what its connector was doing is unknown. It is marked ``failed`` with the reason, the
interrupted step ``failed``, the rest ``skipped`` — and nothing is rolled back automatically,
because actuating at boot on a half-known state is worse than a human reading the recorded
``connector_actions`` and deciding. Executions ``awaiting_approval`` keep waiting; their
approval's TTL bounds how long.
"""

from __future__ import annotations

import builtins
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.core import runtime
from aurorasoc.core.actor import Actor
from aurorasoc.core.config import get_settings
from aurorasoc.core.db import get_session_factory, probe_database
from aurorasoc.core.errors import NotFound
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import ExecutionStatus, RuntimeMode
from aurorasoc.soar.actions import ActionContext, ActionRegistry
from aurorasoc.soar.approvals import ApprovalService, Decider
from aurorasoc.soar.connectors.registry import ConnectorRegistry, build_connectors
from aurorasoc.soar.default_actions import default_registry
from aurorasoc.soar.execution_state import finish, save_steps, skip_unfinished, steps_of
from aurorasoc.soar.executor import PlaybookExecutor
from aurorasoc.soar.models import HumanApprovalModel, PlaybookExecutionModel, PlaybookModel
from aurorasoc.soar.playbooks import PlaybookService, audit_playbook
from aurorasoc.soar.schemas import ExecuteBody

log = logging.getLogger(__name__)
INTERRUPTED = (
    "interrupted by a restart while running; completed steps were not rolled back (see connector_actions)"
)


@dataclass(frozen=True)
class ExecutionFilters:
    status: str | None = None
    playbook_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    alert_id: uuid.UUID | None = None


@dataclass(frozen=True)
class RunOutcome:
    """What a run did (its steps) or, for a preview, would do; ``execution`` is None for a preview."""

    effects: builtins.list[dict[str, Any]]
    execution: PlaybookExecutionModel | None = None


class ExecutionService:
    def __init__(
        self,
        session: AsyncSession,
        *,
        registry: ActionRegistry | None = None,
        connectors: ConnectorRegistry | None = None,
        commit_steps: bool = True,
    ) -> None:
        self.session = session
        self.registry = registry or default_registry()
        self.connectors = connectors or build_connectors()
        self.approvals = ApprovalService(session)
        self.executor = PlaybookExecutor(
            session, registry=self.registry, connectors=self.connectors, approvals=self.approvals,
            commit_steps=commit_steps,
        )  # fmt: skip

    async def get(self, execution_id: uuid.UUID) -> PlaybookExecutionModel:
        found = await self.session.get(PlaybookExecutionModel, execution_id)
        if found is None:
            raise NotFound(f"execution {execution_id} does not exist", execution_id=str(execution_id))
        return found

    async def list(
        self, filters: ExecutionFilters, *, skip: int, limit: int
    ) -> tuple[builtins.list[PlaybookExecutionModel], int]:
        model = PlaybookExecutionModel
        wanted = {
            model.status: filters.status, model.playbook_id: filters.playbook_id,
            model.case_id: filters.case_id, model.alert_id: filters.alert_id,
        }  # fmt: skip
        clauses = [column == value for column, value in wanted.items() if value is not None]
        total = await self.session.scalar(select(func.count()).select_from(model).where(*clauses))
        stmt = select(model).where(*clauses).order_by(model.created_at.desc()).offset(skip).limit(limit)
        return builtins.list((await self.session.scalars(stmt)).all()), int(total or 0)

    async def execute(
        self,
        playbook: PlaybookModel,
        *,
        actor: str,
        alert_id: uuid.UUID | None = None,
        case_id: uuid.UUID | None = None,
        parameters: dict[str, Any] | None = None,
        trigger: str = "manual",
    ) -> PlaybookExecutionModel:
        case_id = await self._case_of(alert_id, case_id)
        return await self.executor.start(
            playbook, alert_id=alert_id, case_id=case_id, trigger=trigger, triggered_by=actor,
            parameters=parameters,
        )  # fmt: skip

    async def preview(
        self,
        playbook: PlaybookModel,
        *,
        actor: str,
        alert_id: uuid.UUID | None = None,
        case_id: uuid.UUID | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Effects of a run; in ``dry_run`` also stored as a ``preview=true`` execution (§6)."""
        case_id = await self._case_of(alert_id, case_id)
        effects = await self.executor.preview(
            playbook, alert_id=alert_id, case_id=case_id, parameters=parameters or {}
        )
        if runtime.current_mode() is RuntimeMode.DRY_RUN:
            now = utcnow()
            self.session.add(
                PlaybookExecutionModel(
                    playbook_id=playbook.id, playbook_name=playbook.name, playbook_version=playbook.version,
                    alert_id=alert_id, case_id=case_id, trigger="manual", triggered_by=actor, preview=True,
                    status=ExecutionStatus.COMPLETED.value, parameters=parameters or {}, steps=effects,
                    started_at=now, finished_at=now,
                )
            )  # fmt: skip
            await self.session.flush()
        return effects

    async def run(
        self, playbook_id: uuid.UUID, body: ExecuteBody, *, actor: Actor, preview: bool = False
    ) -> RunOutcome:
        """Run a playbook (audited, committed, published) or, with ``preview``, describe the run."""
        playbook = await PlaybookService(self.session).get(playbook_id)
        alert_id, case_id, parameters = body.alert_id, body.case_id, body.parameters
        if preview:
            effects = await self.preview(
                playbook, actor=actor.username, alert_id=alert_id, case_id=case_id, parameters=parameters
            )
            await self.session.commit()  # the dry_run record of the preview, if any
            return RunOutcome(effects)
        await audit_playbook(self.session, actor, "playbook.execute", playbook)
        execution = await self.execute(
            playbook, actor=actor.username, alert_id=alert_id, case_id=case_id, parameters=parameters
        )
        await self.session.commit()
        await self.publish()
        return RunOutcome(steps_of(execution), execution)

    async def cancel(self, execution_id: uuid.UUID, *, actor: Actor) -> PlaybookExecutionModel:
        """Cancel a pending, running or waiting execution; audited, committed, published."""
        execution = await self.get(execution_id)
        await self.executor.cancel(execution, actor.username)
        details = {"playbook": execution.playbook_name}
        await actor.audit(self.session, "execution.cancel", ("execution", str(execution.id)), details)
        await self.session.commit()
        await self.publish()
        return execution

    async def resolve(
        self, approval_id: uuid.UUID, decider: Decider, *, approve: bool, comment: str | None
    ) -> HumanApprovalModel:
        """:meth:`decide` as one unit of work: the decision and what it unblocks, committed, published."""
        approval = await self.decide(approval_id, decider, approve=approve, comment=comment)
        await self.session.commit()
        await self.publish()
        return approval

    async def decide(
        self, approval_id: uuid.UUID, decider: Decider, *, approve: bool, comment: str | None
    ) -> HumanApprovalModel:
        """Record the decision, then continue what it unblocks (an execution or a stored action)."""
        approval = await self.approvals.get(approval_id)
        await self.approvals.decide(approval, decider, approve=approve, comment=comment)
        if approve and approval.execution_id is not None:
            execution = await self.get(approval.execution_id)
            if execution.status == ExecutionStatus.AWAITING_APPROVAL.value:
                await self.executor.run(execution)
        elif approve:
            approval.result = await self._run_stored_action(approval, decider.username)
        await self.session.flush()
        return approval

    async def publish(self) -> None:
        await self.approvals.publish()

    async def _run_stored_action(self, approval: HumanApprovalModel, actor: str) -> dict[str, Any]:
        if approval.action_type not in self.registry:
            return {"status": "not_executed", "reason": f"no registered action {approval.action_type!r}"}
        ctx = ActionContext(
            self.session, self.connectors, actor=actor, approval_id=approval.id, case_id=approval.case_id
        )
        try:
            output = await self.registry.get(approval.action_type).handler(dict(approval.action_params), ctx)
        except Exception as exc:  # the decision stands; the failure is the stored result
            return {"status": "failed", "error": str(exc)}
        return {"status": "completed", "output": output}

    async def _case_of(self, alert_id: uuid.UUID | None, case_id: uuid.UUID | None) -> uuid.UUID | None:
        if alert_id is None:
            return case_id
        alert = await self.session.get(AlertModel, alert_id)
        if alert is None:
            raise NotFound(f"alert {alert_id} does not exist", alert_id=str(alert_id))
        return case_id or alert.case_id


async def recover_interrupted(session: AsyncSession) -> builtins.list[PlaybookExecutionModel]:
    """Mark executions left ``pending``/``running`` by a previous process ``failed`` (see module doc)."""
    stuck = [ExecutionStatus.PENDING.value, ExecutionStatus.RUNNING.value]
    stmt = select(PlaybookExecutionModel).where(
        PlaybookExecutionModel.status.in_(stuck), PlaybookExecutionModel.preview.is_(False)
    )
    executions = builtins.list((await session.scalars(stmt)).all())
    for execution in executions:
        steps = steps_of(execution)
        for step in steps:
            if step["status"] == "running":
                step.update(
                    status="failed", error="interrupted by a restart", finished_at=utcnow().isoformat()
                )
        skip_unfinished(steps, "not run: the execution was interrupted")
        save_steps(execution, steps)
        finish(session, execution, ExecutionStatus.FAILED, INTERRUPTED)
        log.warning("execution %s (%s) was interrupted; marked failed", execution.id, execution.playbook_name)
    await session.flush()
    return executions


async def prepare_soar() -> None:
    """At API start: repair interrupted executions; outside dummy mode, load playbooks.

    The showcase playbooks are imported (disabled) on first start, i.e. while no playbook is
    stored; ``AURORA_PLAYBOOK_PATHS`` (``:``-separated) are imported at every start.
    """
    if not await probe_database():
        return
    try:
        async with get_session_factory()() as session:
            await recover_interrupted(session)
            if runtime.current_mode() is not RuntimeMode.DUMMY:
                await _load_startup_playbooks(session)
            await session.commit()
    except SQLAlchemyError:
        log.warning("SOAR start-up tasks failed", exc_info=True)


async def _load_startup_playbooks(session: AsyncSession) -> None:
    service = PlaybookService(session)
    if (await service.list(limit=1))[1] == 0:
        await service.import_showcase(actor="system")
    paths = [Path(p) for p in get_settings().soar.playbook_paths.split(":") if p.strip()]
    if paths:
        report = await service.import_paths([p for p in paths if p.exists()], actor="system")
        for where, reason in report.errors:
            log.warning("playbook %s not imported: %s", where, reason)
