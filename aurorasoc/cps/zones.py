"""IEC 62443 zones and conduits, and the badge allow-list (spec §18)."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import Conflict, NotFound
from aurorasoc.core.models_base import Base
from aurorasoc.core.vocabulary import ActionClass, ApprovalStatus
from aurorasoc.cps.models import AccessBadgeModel, CPSConduitModel, CPSZoneModel
from aurorasoc.soar.approvals import ApprovalRequest, ApprovalService
from aurorasoc.soar.models import HumanApprovalModel
from aurorasoc.soar.policy import evaluate

ISOLATE_CONDUIT = "isolate_conduit"

M = TypeVar("M", bound=Base)


class ZoneService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(self, model: type[M], *, skip: int, limit: int) -> tuple[list[M], int]:
        total = await self.session.scalar(select(func.count()).select_from(model))
        stmt = select(model).order_by(model.created_at).offset(skip).limit(limit)  # type: ignore[attr-defined]
        return list((await self.session.scalars(stmt)).all()), int(total or 0)

    async def create_zone(self, fields: dict[str, Any]) -> CPSZoneModel:
        if await self.session.scalar(select(CPSZoneModel.id).where(CPSZoneModel.name == fields["name"])):
            raise Conflict(f"zone {fields['name']} already exists", code="duplicate_zone")
        return await self._add(CPSZoneModel(**fields))

    async def create_conduit(self, fields: dict[str, Any]) -> CPSConduitModel:
        return await self._add(CPSConduitModel(**fields, status="open"))

    async def conduit(self, conduit_id: uuid.UUID) -> CPSConduitModel:
        found = await self.session.get(CPSConduitModel, conduit_id)
        if found is None:
            raise NotFound(f"conduit {conduit_id} does not exist", conduit_id=str(conduit_id))
        return found

    async def request_isolation(
        self, conduit_id: uuid.UUID, reason: str | None, *, actor: Actor
    ) -> HumanApprovalModel:
        """File the approval that runs ``isolate_conduit`` (real mode only); audited, committed, published.

        409 if the conduit is isolated or its isolation already awaits approval.
        """
        runtime.assert_external_allowed()
        conduit = await self.conduit(conduit_id)
        if conduit.status == "isolated":
            raise Conflict("conduit is already isolated", code="already_isolated")
        pending = await self.session.scalar(
            select(HumanApprovalModel.id).where(
                HumanApprovalModel.action_type == ISOLATE_CONDUIT,
                HumanApprovalModel.status == ApprovalStatus.PENDING.value,
                HumanApprovalModel.target == f"conduit:{conduit.name}",
            )
        )
        if pending is not None:
            raise Conflict(
                "isolation of this conduit is already awaiting approval",
                code="approval_pending",
                approval_id=str(pending),
            )
        approvals = ApprovalService(self.session)
        approval = await approvals.request(_isolation_request(conduit, actor.username, reason))
        details = {"name": conduit.name, "approval_id": str(approval.id), "reason": reason}
        await actor.audit(
            self.session, "cps.conduit.isolate_requested", ("cps_conduit", str(conduit_id)), details
        )
        await self.session.commit()
        await approvals.publish()
        return approval

    async def isolate(self, conduit: CPSConduitModel) -> CPSConduitModel:
        if conduit.status == "isolated":
            raise Conflict("conduit is already isolated", code="already_isolated")
        conduit.status = "isolated"
        await self.session.flush()
        return conduit

    async def create_badge(self, fields: dict[str, Any]) -> AccessBadgeModel:
        if await self.badge_or_none(fields["badge_id"]) is not None:
            raise Conflict(f"badge {fields['badge_id']} already exists", code="duplicate_badge")
        return await self._add(AccessBadgeModel(**fields))

    async def badge_or_none(self, badge_id: str) -> AccessBadgeModel | None:
        stmt = select(AccessBadgeModel).where(AccessBadgeModel.badge_id == badge_id)
        return (await self.session.scalars(stmt)).one_or_none()

    async def update_badge(self, badge_id: str, changes: dict[str, Any]) -> AccessBadgeModel:
        badge = await self.badge_or_none(badge_id)
        if badge is None:
            raise NotFound(f"badge {badge_id} does not exist", badge_id=badge_id)
        for name, value in changes.items():
            setattr(badge, name, value)
        await self.session.commit()
        return badge

    async def _add(self, row: M) -> M:
        """Store one row and commit: zones, conduits and badges are single-row units of work."""
        self.session.add(row)
        await self.session.commit()
        return row


def _isolation_request(conduit: CPSConduitModel, requested_by: str, reason: str | None) -> ApprovalRequest:
    verdict = evaluate(ISOLATE_CONDUIT, ActionClass.ACTUATE, critical_asset=False)
    return ApprovalRequest(
        action_type=ISOLATE_CONDUIT,
        requested_by=requested_by,
        action_params={"conduit_id": str(conduit.id), "reason": reason or "operator request"},
        risk_level=verdict.risk_level,
        escalated=verdict.escalated,
        target=f"conduit:{conduit.name}",
        justification=reason,
        context={"from_zone": conduit.from_zone_id, "to_zone": conduit.to_zone_id},
    )
