"""CaseWorkflow: each analyst change of a case as one unit of work (spec §14.3, §22).

Validation, the write (through :class:`~aurorasoc.cases.service.CaseService`, which only flushes
and is shared with the correlator and automation), the audit row naming the actor, the commit,
then what follows a commit: ``aurora:alerts`` events for the alerts that moved and the closed
case's episodic memory. Alert promotion and linking describe themselves with ``preview=True``
from the same checks and the same effect list, so a preview cannot disagree with the change.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.events import publish_alert_event
from aurorasoc.alerts.models import AlertModel
from aurorasoc.cases import lifecycle
from aurorasoc.cases.memory import remember_closed_case
from aurorasoc.cases.models import CaseModel, TimelineEntryModel
from aurorasoc.cases.schemas import CaseOut
from aurorasoc.cases.service import CaseService
from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import PermissionDenied
from aurorasoc.core.rbac import has_permission
from aurorasoc.core.vocabulary import AlertStatus, CaseStatus, Severity

Effects = list[dict[str, Any]]


@dataclass(frozen=True)
class AlertMove:
    """What promoting or linking an alert did or, for a preview, would do (``case`` None)."""

    effects: Effects
    case: CaseModel | None = None


class CaseWorkflow:
    def __init__(self, session: AsyncSession, *, permissions: frozenset[str] | None = None) -> None:
        """``permissions``: the acting principal's, for the one body-dependent rule (resolving,
        closing or reopening needs ``cases:close``); None is the local owner (CLI, automation)."""
        self.session = session
        self.cases = CaseService(session)
        self.permissions = permissions

    async def open(
        self,
        *,
        title: str,
        severity: Severity | str,
        actor: Actor,
        description: str | None = None,
        alert_ids: Sequence[uuid.UUID] = (),
        assigned_to: str | None = None,
    ) -> CaseModel:
        """Open a case linking ``alert_ids``; audited, committed, then the linked alerts announced."""
        created = await self.cases.create(title=title, severity=severity, actor=actor.username,
                                          description=description, alert_ids=alert_ids,
                                          assigned_to=assigned_to)  # fmt: skip
        linked = await self.cases.alerts(created.id)
        details = {"after": _snapshot(created), "alert_ids": [str(a.id) for a in linked]}
        await self._commit(actor, "case.create", ("case", str(created.id)), details)
        await _announce(linked)
        return created

    async def change(self, case_id: uuid.UUID, changes: dict[str, Any], *, actor: Actor) -> CaseModel:
        """Edit a case or move it through its lifecycle (409 for an illegal move; same status is a
        no-op); audited as ``case.update`` or ``case.close``, committed, a closed case remembered."""
        found = await self.cases.get(case_id)
        if "status" in changes:
            self._authorize(lifecycle.required_permission(found.status, changes["status"]))
        before, after = await self.cases.update(found, changes, actor.username)
        closed = after.get("status") == CaseStatus.CLOSED.value
        if after:
            details = {"before": before, "after": after}
            await actor.audit(self.session, "case.close" if closed else "case.update",
                              ("case", str(found.id)), details)  # fmt: skip
        await self.session.commit()
        if closed:
            await remember_closed_case(self.session, found)
        return found

    async def close(self, case_id: uuid.UUID, notes: str | None, *, actor: Actor) -> CaseModel:
        """Close from any open status (409 when already closed); audited, committed, remembered."""
        found = await self.cases.get(case_id)
        before, after = await self.cases.close(found, actor.username, notes)
        await self._commit(actor, "case.close", ("case", str(found.id)), {"before": before, "after": after})
        await remember_closed_case(self.session, found)
        return found

    async def comment(self, case_id: uuid.UUID, text: str, *, actor: Actor) -> TimelineEntryModel:
        found = await self.cases.get(case_id)
        entry = await self.cases.add_comment(found, text, actor.username)
        await self._commit(actor, "case.update", ("case", str(found.id)), {"comment_id": str(entry.id)})
        return entry

    async def promote_alert(
        self,
        alert_id: uuid.UUID,
        *,
        actor: Actor,
        title: str | None = None,
        severity: Severity | str | None = None,
        assigned_to: str | None = None,
        preview: bool = False,
    ) -> AlertMove:
        """Open an ``in_progress`` case for an alert in none (409 ``alert_in_case`` otherwise)."""
        alert = await self.cases.get_alert(alert_id)
        self.cases.check_promotable(alert)
        effects: Effects = [
            {"action": "create_case", "title": title or alert.title, "status": CaseStatus.IN_PROGRESS.value},
            {"action": "link_alert", "alert_id": str(alert.id)},
            {"action": "update_alert", "alert_id": str(alert.id), "status": AlertStatus.ESCALATED.value},
        ]
        if preview:
            return AlertMove(effects)
        before = {"status": alert.status, "case_id": None}
        promoted = await self.cases.promote_alert(
            alert, actor.username, title=title, severity=severity, assigned_to=assigned_to
        )
        details = {"before": before, "after": {"status": alert.status, "case_id": str(promoted.id)}}
        await self._commit(actor, "alert.promote", ("alert", str(alert.id)), details)
        await _announce([alert])
        return AlertMove(effects, promoted)

    async def link_alert(
        self, alert_id: uuid.UUID, case_id: uuid.UUID, *, actor: Actor, preview: bool = False
    ) -> AlertMove:
        """Link an alert to a case that is not closed (409 ``case_closed``); its own case: no change."""
        alert = await self.cases.get_alert(alert_id)
        target = await self.cases.get(case_id)
        self.cases.check_linkable(target)
        effects: Effects = [{"action": "link_alert", "alert_id": str(alert.id), "case_id": str(target.id)}]
        if preview:
            return AlertMove(effects)
        previous = str(alert.case_id) if alert.case_id else None
        if await self.cases.link_alert(target, alert, actor.username):
            details = {"before": {"case_id": previous}, "after": {"case_id": str(target.id)}}
            await self._commit(actor, "alert.link", ("alert", str(alert.id)), details)
            await _announce([alert])
        return AlertMove(effects, target)

    async def detach_alert(self, case_id: uuid.UUID, alert_id: uuid.UUID, *, actor: Actor) -> CaseModel:
        """Take an alert out of its case (409 ``alert_not_in_case`` / ``case_closed``); the alert
        keeps its status. Audited on the alert, committed, announced."""
        found = await self.cases.get(case_id)
        alert = await self.cases.get_alert(alert_id)
        await self.cases.detach_alert(found, alert, actor.username)
        details = {"detached_from": str(found.id), "before": {"case_id": str(found.id)},
                   "after": {"case_id": None}}  # fmt: skip
        await self._commit(actor, "alert.link", ("alert", str(alert.id)), details)
        await _announce([alert])
        return found

    def _authorize(self, needed: str | None) -> None:
        if needed and self.permissions is not None and not has_permission(self.permissions, needed):
            raise PermissionDenied(f"Missing permission: {needed}")

    async def _commit(
        self, actor: Actor, action: str, resource: tuple[str, str], details: dict[str, Any]
    ) -> None:
        await actor.audit(self.session, action, resource, details)
        await self.session.commit()


def _snapshot(case: CaseModel) -> dict[str, Any]:
    return CaseOut.model_validate(case).audit_snapshot()


async def _announce(alerts: Sequence[AlertModel]) -> None:
    """After the commit: the alerts whose case changed, for live views and the pipeline."""
    for alert in alerts:
        await publish_alert_event(alert, "updated")
