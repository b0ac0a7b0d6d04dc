"""Case lifecycle rules (spec §14.3), pure: no I/O, so every (from, to) pair is table-testable.

Decisions beyond the spec text:

* Legacy ``investigating`` / ``escalated`` behave like ``in_progress``: as a current status they
  allow what ``in_progress`` allows, and as a target they are stored as ``in_progress``
  (:func:`normalise`). Rows still carrying a legacy value keep it until a real transition.
* A same-status "transition" (after normalisation) is a no-op, not an error, so a PATCH that
  re-sends the unchanged status is idempotent: :func:`check_transition` accepts it,
  :func:`is_noop` tells the caller to record nothing, and it needs no extra permission.
"""

from __future__ import annotations

from aurorasoc.core.errors import Conflict
from aurorasoc.core.vocabulary import CaseStatus

CLOSE_PERMISSION = "cases:close"

FORWARD_PATH: tuple[CaseStatus, ...] = (
    CaseStatus.OPEN,
    CaseStatus.IN_PROGRESS,
    CaseStatus.PENDING_APPROVAL,
    CaseStatus.CONTAINED,
    CaseStatus.ERADICATED,
    CaseStatus.RECOVERED,
    CaseStatus.RESOLVED,
    CaseStatus.CLOSED,
)
LEGACY_IN_PROGRESS = frozenset({CaseStatus.INVESTIGATING, CaseStatus.ESCALATED})
RETURNS_TO_IN_PROGRESS = frozenset(
    {CaseStatus.CONTAINED, CaseStatus.ERADICATED, CaseStatus.RECOVERED, CaseStatus.RESOLVED}
)
NEEDS_CLOSE = frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED})
# Statuses that count as "finished": correlation and linking skip them.
FINISHED = NEEDS_CLOSE


def normalise(status: CaseStatus | str) -> CaseStatus:
    """The lifecycle status a value stands for (legacy values → ``in_progress``)."""
    value = CaseStatus(status)
    return CaseStatus.IN_PROGRESS if value in LEGACY_IN_PROGRESS else value


def allowed_next(status: CaseStatus | str) -> list[CaseStatus]:
    """Every status the case may move to from ``status``, in forward-path order."""
    current = normalise(status)
    if current is CaseStatus.CLOSED:
        return [CaseStatus.IN_PROGRESS]
    later = list(FORWARD_PATH[FORWARD_PATH.index(current) + 1 :])
    if current in RETURNS_TO_IN_PROGRESS:
        return [CaseStatus.IN_PROGRESS, *later]
    return later


def is_noop(current: CaseStatus | str, target: CaseStatus | str) -> bool:
    return normalise(current) is normalise(target)


def check_transition(current: CaseStatus | str, target: CaseStatus | str) -> None:
    """Raise 409 ``invalid_transition`` (with the allowed next states) unless the move is legal."""
    if not is_noop(current, target) and normalise(target) not in allowed_next(current):
        raise transition_error(current, target)


def transition_error(current: CaseStatus | str, target: CaseStatus | str) -> Conflict:
    """The 409 for a refused move; its body lists where the case may go instead."""
    return Conflict(
        f"Cannot move a case from {CaseStatus(current).value} to {CaseStatus(target).value}",
        code="invalid_transition",
        current=CaseStatus(current).value,
        target=CaseStatus(target).value,
        allowed=[s.value for s in allowed_next(current)],
    )


def required_permission(current: CaseStatus | str, target: CaseStatus | str) -> str | None:
    """The permission a move needs beyond ``cases:write``: resolving, closing or reopening."""
    if is_noop(current, target):
        return None
    if normalise(target) in NEEDS_CLOSE or normalise(current) is CaseStatus.CLOSED:
        return CLOSE_PERMISSION
    return None
