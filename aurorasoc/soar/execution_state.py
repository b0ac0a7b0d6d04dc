"""State changes of a persisted execution that several callers share (executor, approvals).

``steps`` is a JSON column: every change assigns a fresh list so SQLAlchemy sees it.
"""

from __future__ import annotations

import copy
from typing import Any

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import ExecutionStatus
from aurorasoc.soar.models import PlaybookExecutionModel
from aurorasoc.soar.timeline import add_case_entry

PLAYBOOK_EXECUTIONS = Counter("playbook_executions_total", "Playbook executions finished", ["status"])
FINISHED_STEPS = frozenset({"completed", "skipped", "failed", "rolled_back"})
ACTIVE = frozenset({ExecutionStatus.PENDING, ExecutionStatus.RUNNING, ExecutionStatus.AWAITING_APPROVAL})


def steps_of(execution: PlaybookExecutionModel) -> list[dict[str, Any]]:
    """A private copy of the step records, to modify and hand back with :func:`save_steps`."""
    return copy.deepcopy(list(execution.steps))


def save_steps(execution: PlaybookExecutionModel, steps: list[dict[str, Any]]) -> None:
    execution.steps = copy.deepcopy(steps)


def skip_unfinished(steps: list[dict[str, Any]], reason: str) -> None:
    for step in steps:
        if step["status"] not in FINISHED_STEPS:
            step.update(status="skipped", error=reason, finished_at=utcnow().isoformat())


def finish(
    session: AsyncSession,
    execution: PlaybookExecutionModel,
    status: ExecutionStatus,
    error: str | None = None,
) -> None:
    """Set the final status, stamp the end and tell the case."""
    execution.status = status.value
    execution.error = error
    execution.finished_at = utcnow()
    PLAYBOOK_EXECUTIONS.labels(status=status.value).inc()
    details = f"Playbook {execution.playbook_name} {status.value}" + (f": {error}" if error else "")
    add_case_entry(
        session, execution.case_id, "playbook_completed", f"playbook:{execution.playbook_name}", details,
        {"execution_id": str(execution.id), "status": status.value},
    )  # fmt: skip


def end_without_running(
    session: AsyncSession, execution: PlaybookExecutionModel, status: ExecutionStatus, reason: str
) -> None:
    """Rejected, expired or cancelled: the steps not yet run are skipped, nothing is rolled back."""
    steps = steps_of(execution)
    skip_unfinished(steps, reason)
    save_steps(execution, steps)
    finish(session, execution, status, reason)
