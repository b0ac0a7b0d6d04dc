"""The playbook executor (spec §15.3): sequential steps, guards, approval gates, timeouts, rollback.

Executions are persisted step by step: with ``commit_steps`` (the default) every state change is
committed before the next connector call, so a crash leaves an accurate record that
:func:`aurorasoc.soar.executions.recover_interrupted` repairs at the next start. Approval
gates are idempotent — a gated step keeps its ``approval_id`` and :meth:`run` looks the decision
up — so continuing after an approval is simply running the execution again.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.errors import Conflict
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import (
    ApprovalStatus,
    ExecutionStatus,
    PlaybookDefinition,
    PlaybookStep,
    Severity,
)
from aurorasoc.soar import conditions, policy
from aurorasoc.soar.actions import ActionContext, ActionRegistry, ActionSpec
from aurorasoc.soar.approvals import ApprovalRequest, ApprovalService
from aurorasoc.soar.connectors.registry import ConnectorRegistry, build_connectors
from aurorasoc.soar.context import build_context, is_critical_asset
from aurorasoc.soar.default_actions import default_registry
from aurorasoc.soar.execution_state import (
    ACTIVE,
    FINISHED_STEPS,
    end_without_running,
    finish,
    save_steps,
    skip_unfinished,
    steps_of,
)
from aurorasoc.soar.models import HumanApprovalModel, PlaybookExecutionModel, PlaybookModel
from aurorasoc.soar.preview import preview_effects
from aurorasoc.soar.templating import render
from aurorasoc.soar.timeline import add_case_entry

Steps = list[dict[str, Any]]
Context = dict[str, Any]
Gate = Literal["open", "wait", "rejected"]
TARGET_KEYS = ("host", "ip", "user", "serial", "iocs", "channel")


def step_record(step: PlaybookStep) -> dict[str, Any]:
    return {
        "name": step.name,
        "action": step.action,
        "action_class": step.action_class.value,
        "status": "pending",
        "definition": step.model_dump(mode="json"),
        "params": None,
        "output": None,
        "error": None,
        "approval_id": None,
        "started_at": None,
        "finished_at": None,
        "rollback": None,
    }


def _target(params: dict[str, Any]) -> str | None:
    value = next((params[k] for k in TARGET_KEYS if k in params), None)
    return ", ".join(map(str, value)) if isinstance(value, list) else (None if value is None else str(value))


class PlaybookExecutor:
    def __init__(
        self,
        session: AsyncSession,
        *,
        registry: ActionRegistry | None = None,
        connectors: ConnectorRegistry | None = None,
        approvals: ApprovalService | None = None,
        commit_steps: bool = True,
    ) -> None:
        self.session = session
        self.registry = registry or default_registry()
        self.connectors = connectors or build_connectors()
        self.approvals = approvals or ApprovalService(session)
        self.commit_steps = commit_steps

    async def start(
        self,
        playbook: PlaybookModel,
        *,
        alert_id: uuid.UUID | None = None,
        case_id: uuid.UUID | None = None,
        trigger: str = "manual",
        triggered_by: str = "system",
        parameters: dict[str, Any] | None = None,
    ) -> PlaybookExecutionModel:
        """Create the execution record and run it until it finishes or waits for a human."""
        runtime.assert_write_allowed("operator")
        definition = PlaybookDefinition.model_validate(playbook.definition)
        execution = PlaybookExecutionModel(
            playbook_id=playbook.id,
            playbook_name=playbook.name,
            playbook_version=playbook.version,
            alert_id=alert_id,
            case_id=case_id,
            trigger=trigger,
            triggered_by=triggered_by,
            preview=False,
            status=ExecutionStatus.PENDING.value,
            parameters=parameters or {},
            steps=[step_record(s) for s in definition.steps],
            started_at=utcnow(),
        )
        self.session.add(execution)
        await self.session.flush()
        add_case_entry(
            self.session,
            case_id,
            "playbook_started",
            triggered_by,
            f"Playbook {playbook.name} started",
            {"execution_id": str(execution.id), "trigger": trigger},
        )
        if definition.requires_approval:
            await self._request_playbook_approval(execution, definition)
            return execution
        return await self.run(execution)

    async def run(self, execution: PlaybookExecutionModel) -> PlaybookExecutionModel:
        """Continue from the first unfinished step (start, or after an approval)."""
        _require_active(execution)
        if not await self._playbook_gate_open(execution):
            return execution
        steps = steps_of(execution)
        ctx = await self._context(execution, steps)
        execution.status = ExecutionStatus.RUNNING.value
        for index, step in enumerate(steps):
            if step["status"] in FINISHED_STEPS:
                continue
            if not await self._advance(execution, steps, index, ctx):
                return execution
        finish(self.session, execution, ExecutionStatus.COMPLETED)
        await self._checkpoint()
        return execution

    async def cancel(self, execution: PlaybookExecutionModel, actor: str) -> None:
        _require_active(execution)
        await self.approvals.close_for_execution(execution.id, actor, "execution cancelled")
        end_without_running(self.session, execution, ExecutionStatus.CANCELLED, f"cancelled by {actor}")
        await self.session.flush()

    async def preview(
        self,
        playbook: PlaybookModel,
        *,
        alert_id: uuid.UUID | None,
        case_id: uuid.UUID | None,
        parameters: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """What a run would do: conditions evaluated, parameters rendered, no handler called."""
        ctx = await build_context(
            self.session, alert_id=alert_id, case_id=case_id, parameters=parameters, steps=[]
        )
        return preview_effects(
            PlaybookDefinition.model_validate(playbook.definition), ctx, self.registry, self.connectors
        )

    # --- one step ---------------------------------------------------------------------------

    async def _advance(
        self, execution: PlaybookExecutionModel, steps: Steps, index: int, ctx: Context
    ) -> bool:
        """Run step ``index``; False when the execution stops here (waiting, rejected or failed)."""
        step = steps[index]
        definition = PlaybookStep.model_validate(step["definition"])
        spec = self.registry.get(definition.action)
        try:
            if definition.condition and not conditions.evaluate(definition.condition, ctx):
                await self._mark(execution, steps, index, ctx, status="skipped", error="condition is false")
                return True
            params = render(definition.parameters, ctx)
        except Exception as exc:
            await self._fail(execution, steps, index, ctx, str(exc))
            return False
        gate = await self._gate(execution, steps, index, definition, spec, params, ctx)
        if gate != "open":
            return False
        step.update(status="running", params=params, started_at=utcnow().isoformat())
        save_steps(execution, steps)
        await self._checkpoint()
        try:
            output = await self._invoke(spec, params, definition.timeout, execution, step.get("approval_id"))
        except Exception as exc:  # any handler failure is a step failure; the engine must roll back
            await self._fail(execution, steps, index, ctx, _describe(exc, definition.timeout))
            return False
        await self._mark(execution, steps, index, ctx, status="completed", output=output)
        return True

    async def _invoke(
        self,
        spec: ActionSpec,
        params: dict[str, Any],
        seconds: int,
        execution: PlaybookExecutionModel,
        approval_id: str | None,
    ) -> dict[str, Any]:
        action_ctx = ActionContext(
            self.session,
            self.connectors,
            actor=f"playbook:{execution.playbook_name}",
            execution_id=execution.id,
            approval_id=uuid.UUID(approval_id) if approval_id else None,
            case_id=execution.case_id,
        )
        async with asyncio.timeout(seconds):  # keeps a shutdown's cancel (3.11 wait_for may not)
            return await spec.handler(params, action_ctx)

    async def _mark(
        self, execution: PlaybookExecutionModel, steps: Steps, index: int, ctx: Context, **changes: Any
    ) -> None:
        step = steps[index]
        step.update(changes, finished_at=utcnow().isoformat())
        ctx["previous"][step["name"]] = {"status": step["status"], "output": step.get("output")}
        save_steps(execution, steps)
        add_case_entry(
            self.session,
            execution.case_id,
            "playbook_step",
            f"playbook:{execution.playbook_name}",
            f"Step {step['name']} ({step['action']}): {step['status']}",
            {"execution_id": str(execution.id), "step": step["name"], "status": step["status"]},
        )
        await self._checkpoint()

    # --- approvals ----------------------------------------------------------------------------

    async def _gate(
        self,
        execution: PlaybookExecutionModel,
        steps: Steps,
        index: int,
        definition: PlaybookStep,
        spec: ActionSpec,
        params: dict[str, Any],
        ctx: Context,
    ) -> Gate:
        verdict = policy.evaluate(definition.action, spec.action_class, critical_asset=is_critical_asset(ctx))
        if not policy.step_needs_approval(definition, verdict):
            return "open"
        step = steps[index]
        if step.get("approval_id"):
            approval = await self.session.get(HumanApprovalModel, uuid.UUID(step["approval_id"]))
            status = approval.status if approval else ApprovalStatus.EXPIRED.value
            if status == ApprovalStatus.APPROVED.value:
                return "open"
            if status == ApprovalStatus.PENDING.value:
                execution.status = ExecutionStatus.AWAITING_APPROVAL.value
                return "wait"
            end_without_running(self.session, execution, ExecutionStatus.REJECTED, f"approval {status}")
            await self._checkpoint()
            return "rejected"
        approval = await self.approvals.request(
            ApprovalRequest(
                action_type=definition.action,
                requested_by=f"playbook:{execution.playbook_name}",
                action_params=params,
                risk_level=verdict.risk_level,
                escalated=verdict.escalated or definition.rollback_action == "none",
                target=_target(params),
                justification=f"Step {definition.name} of playbook {execution.playbook_name}",
                context={"alert_id": str(execution.alert_id) if execution.alert_id else None},
                case_id=execution.case_id,
                execution_id=execution.id,
                step_name=definition.name,
            )
        )
        step.update(status="awaiting_approval", params=params, approval_id=str(approval.id))
        save_steps(execution, steps)
        execution.status = ExecutionStatus.AWAITING_APPROVAL.value
        await self._checkpoint()
        return "wait"

    async def _request_playbook_approval(
        self, execution: PlaybookExecutionModel, definition: PlaybookDefinition
    ) -> None:
        classes = [self.registry.get(s.action).action_class for s in definition.steps]
        risk = max((policy.risk_level(c, False) for c in classes), key=lambda s: s.rank, default=Severity.LOW)
        await self.approvals.request(
            ApprovalRequest(
                action_type="run_playbook",
                requested_by=f"playbook:{execution.playbook_name}",
                action_params={
                    "playbook": execution.playbook_name,
                    "steps": [s.name for s in definition.steps],
                },
                risk_level=risk,
                target=execution.playbook_name,
                justification=definition.description,
                case_id=execution.case_id,
                execution_id=execution.id,
            )
        )
        execution.status = ExecutionStatus.AWAITING_APPROVAL.value
        await self._checkpoint()

    async def _playbook_gate_open(self, execution: PlaybookExecutionModel) -> bool:
        stmt = select(HumanApprovalModel.status).where(
            HumanApprovalModel.execution_id == execution.id, HumanApprovalModel.step_name.is_(None)
        )
        status = await self.session.scalar(stmt)
        if status is None or status == ApprovalStatus.APPROVED.value:
            return True
        if status != ApprovalStatus.PENDING.value:
            end_without_running(self.session, execution, ExecutionStatus.REJECTED, f"approval {status}")
            await self._checkpoint()
        return False

    # --- failure --------------------------------------------------------------------------------

    async def _fail(
        self, execution: PlaybookExecutionModel, steps: Steps, index: int, ctx: Context, error: str
    ) -> None:
        """Mark the step failed, roll back completed reversible steps newest first, end ``failed``."""
        await self._mark(execution, steps, index, ctx, status="failed", error=error)
        errors = [f"step {steps[index]['name']} failed: {error}"]
        for step in reversed(steps[:index]):
            rollback_error = await self._rollback(execution, step, ctx)
            if rollback_error:
                errors.append(f"rollback of {step['name']} failed: {rollback_error}")
            save_steps(execution, steps)
            await self._checkpoint()
        skip_unfinished(steps, "not run: an earlier step failed")
        save_steps(execution, steps)
        finish(self.session, execution, ExecutionStatus.FAILED, "; ".join(errors))
        await self._checkpoint()

    async def _rollback(
        self, execution: PlaybookExecutionModel, step: dict[str, Any], ctx: Context
    ) -> str | None:
        definition = PlaybookStep.model_validate(step["definition"])
        spec = self.registry.get(definition.action)
        action = definition.rollback_action or spec.rollback_action
        if step["status"] != "completed" or not spec.reversible or action in (None, "none"):
            return None
        assert action is not None
        try:
            params = (
                render(definition.rollback_params, ctx)
                if definition.rollback_params is not None
                else step["params"]
            )
            output = await self._invoke(
                self.registry.get(action), params, definition.timeout, execution, step.get("approval_id")
            )
        except Exception as exc:  # recorded; the execution reports both errors
            step["rollback"] = {"action": action, "error": _describe(exc, definition.timeout)}
            return str(step["rollback"]["error"])
        step.update(status="rolled_back", rollback={"action": action, "output": output})
        add_case_entry(
            self.session,
            execution.case_id,
            "playbook_step",
            f"playbook:{execution.playbook_name}",
            f"Step {step['name']} rolled back with {action}",
            {"execution_id": str(execution.id), "step": step["name"]},
        )
        return None

    async def _context(self, execution: PlaybookExecutionModel, steps: Steps) -> Context:
        return await build_context(
            self.session,
            alert_id=execution.alert_id,
            case_id=execution.case_id,
            parameters=execution.parameters or {},
            steps=steps,
        )

    async def _checkpoint(self) -> None:
        if self.commit_steps:
            await self.session.commit()
        else:
            await self.session.flush()


def _require_active(execution: PlaybookExecutionModel) -> None:
    if ExecutionStatus(execution.status) not in ACTIVE:
        raise Conflict(f"execution is {execution.status}", code="execution_finished", status=execution.status)


def _describe(exc: BaseException, timeout: int) -> str:
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout}s"
    return str(exc) or type(exc).__name__
