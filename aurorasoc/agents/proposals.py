"""An analyst files a containment an investigation proposed (issue #19 §4).

The offline analyst (and a model) only *propose* ``isolate_endpoint`` / ``disable_user`` /
``block_ip`` on the hosts, users and indicators of the evidence. Filing one goes through the same
containment tool an agent calls, so the approval carries the investigation and its case: once a
human approves it the connector runs (simulated unless configured) and the case timeline and the
audit log record it. Only what the investigation proposed can be filed this way, and only once
while it is pending.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.agents.models import InvestigationModel
from aurorasoc.agents.tools.base import ToolContext
from aurorasoc.agents.tools.containment import CONTAINMENT_TOOLS
from aurorasoc.core.errors import Conflict, InvalidInput, PermissionDenied
from aurorasoc.core.vocabulary import ApprovalStatus
from aurorasoc.soar.approvals import ApprovalService
from aurorasoc.soar.models import HumanApprovalModel

# The proposed action → the tool's argument that names its target (single-target tools only).
TARGET_ARGUMENT = {"isolate_endpoint": "host", "disable_user": "user", "block_ip": "ip"}
_TOOLS = {t.name: t for t in CONTAINMENT_TOOLS if t.name in TARGET_ARGUMENT}


async def file_proposed_action(
    session: AsyncSession,
    investigation: InvestigationModel,
    action: str,
    target: str,
    requester: tuple[str, frozenset[str]],
) -> HumanApprovalModel:
    """File the proposed action as a pending approval: validate, write (audit by the tool's approval
    service), commit, then publish the approval events.

    ``requester``: the analyst's username and permissions (the tool checks ``playbooks:execute``).
    """
    result: dict[str, Any] = investigation.result or {}
    proposed = result.get("proposed_actions") or []
    if not any(p.get("action") == action and p.get("target") == target for p in proposed):
        raise InvalidInput(
            f"investigation {investigation.id} did not propose {action} on {target}", code="not_proposed"
        )
    await _refuse_duplicate(session, investigation.id, _TOOLS[action].action, target)  # type: ignore[attr-defined]
    username, permissions = requester
    ctx = ToolContext(
        session,
        username,
        permissions,
        investigation_id=investigation.id,
        case_id=investigation.case_id,
        alert_id=investigation.alert_id,
    )
    why = f"Proposed by investigation {investigation.id} (verdict {result.get('verdict', 'unknown')})"
    summary = str(result.get("summary") or "")[:1500]
    out = await _TOOLS[action].run(
        ctx, {TARGET_ARGUMENT[action]: target, "justification": f"{why}: {summary}" if summary else why}
    )
    if out.get("status") == "error":
        if out.get("error_code") == "permission_denied":
            raise PermissionDenied(str(out["error"]))
        raise InvalidInput(str(out["error"]), code=str(out.get("error_code")))
    approval = await ApprovalService(session).get(uuid.UUID(out["approval_id"]))
    outboxes: list[ApprovalService] = list(ctx.extra.pop("approval_outboxes", []))
    await session.commit()
    for outbox in outboxes:
        await outbox.publish()
    return approval


async def _refuse_duplicate(
    session: AsyncSession, investigation_id: uuid.UUID, action_type: str, target: str
) -> None:
    pending = await session.scalar(
        select(HumanApprovalModel.id).where(
            HumanApprovalModel.investigation_id == investigation_id,
            HumanApprovalModel.action_type == action_type,
            HumanApprovalModel.target == target,
            HumanApprovalModel.status == ApprovalStatus.PENDING.value,
        )
    )
    if pending is not None:
        raise Conflict(
            f"{action_type} on {target} already awaits approval {pending}",
            code="already_requested",
            approval_id=str(pending),
        )
