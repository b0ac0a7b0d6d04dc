"""CaseService: creating cases, linking alerts and the timeline that records every change.

CaseService flushes, never commits and never audits: :class:`~aurorasoc.cases.workflow.CaseWorkflow`
(an analyst's change) or the pipeline consumer owns the transaction and the audit entry, so a
refused change leaves nothing behind.

Decisions: promoting an alert creates an ``in_progress`` case (source ``alert_promotion``) and
sets the alert to ``escalated``; linking an alert that sits in another case moves it (the
timeline entry keeps ``previous_case_id``); edits of title/description/resolution notes write a
``case_updated`` timeline entry, since every change is on the timeline.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypedDict, Unpack

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.cases import lifecycle
from aurorasoc.cases.filters import CaseFilters
from aurorasoc.cases.models import CaseModel, TimelineEntryModel
from aurorasoc.cases.timeline_rows import insert_timeline_rows, timeline_row
from aurorasoc.core.errors import Conflict, InvalidInput, NotFound
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import AlertStatus, CaseSource, CaseStatus, Severity

TITLE_MAX = 500
Snapshot = dict[str, Any]
_TRACKED = {"status": "status_changed", "severity": "severity_changed", "assigned_to": "assignment_changed"}
_EDITABLE = ("title", "description", "severity", "status", "assigned_to", "resolution_notes")


class CaseFields(TypedDict, total=False):
    """The optional fields of a new case."""

    description: str | None
    assigned_to: str | None
    source: CaseSource | str
    status: CaseStatus | str
    details: str | None  # the ``case_created`` entry's text
    metadata: dict[str, Any] | None


def _clean_title(title: str) -> str:
    clean = (title or "").strip()
    if not clean or len(clean) > TITLE_MAX:
        raise InvalidInput(f"title must be 1..{TITLE_MAX} characters")
    return clean


def _severity(value: Severity | str) -> Severity:
    try:
        return Severity(value)
    except ValueError as exc:
        raise InvalidInput(f"unknown severity {value!r}") from exc


def _merged(existing: Iterable[str], extra: Iterable[str]) -> list[str]:
    """Order-preserving union, so the first-seen observables stay first."""
    return list(dict.fromkeys([*existing, *extra]))


class CaseService:
    def __init__(self, session: AsyncSession, *, deferred_timeline: bool = False) -> None:
        """``deferred_timeline``: the entries recorded are rows written together by :meth:`flush`,
        not ORM objects (correlation of a batch records two per alert; as objects they were a
        fifth of its CPU). Only for a caller that always ends with :meth:`flush`."""
        self.session = session
        self._last_ts: datetime | None = None
        self._added: builtins.list[CaseModel] = []  # cases added and not yet flushed
        self._deferred: builtins.list[dict[str, Any]] | None = [] if deferred_timeline else None

    # --- reads --------------------------------------------------------------------------

    async def get(self, case_id: uuid.UUID) -> CaseModel:
        found = await self.session.get(CaseModel, case_id)
        if found is None:
            raise NotFound(f"case {case_id} does not exist", case_id=str(case_id))
        return found

    async def get_alert(self, alert_id: uuid.UUID) -> AlertModel:
        return (await self._load_alerts([alert_id]))[0]

    async def timeline(self, case_id: uuid.UUID) -> builtins.list[TimelineEntryModel]:
        stmt = (
            select(TimelineEntryModel)
            .where(TimelineEntryModel.case_id == case_id)
            .order_by(TimelineEntryModel.timestamp, TimelineEntryModel.created_at)
        )
        return builtins.list((await self.session.scalars(stmt)).all())

    async def alerts(self, case_id: uuid.UUID) -> builtins.list[AlertModel]:
        stmt = select(AlertModel).where(AlertModel.case_id == case_id)
        stmt = stmt.order_by(AlertModel.first_seen_at, AlertModel.created_at)  # in event time (§27.1)
        return builtins.list((await self.session.scalars(stmt)).all())

    async def list(
        self, filters: CaseFilters, *, skip: int, limit: int
    ) -> tuple[builtins.list[CaseModel], int]:
        clauses = filters.clauses()
        total = await self.session.scalar(select(func.count()).select_from(CaseModel).where(*clauses))
        stmt = select(CaseModel).where(*clauses).order_by(*filters.order_by()).offset(skip).limit(limit)
        return builtins.list((await self.session.scalars(stmt)).all()), int(total or 0)

    # --- writes -------------------------------------------------------------------------

    async def create(
        self,
        *,
        title: str,
        severity: Severity | str,
        actor: str,
        alert_ids: Sequence[uuid.UUID] = (),
        **fields: Unpack[CaseFields],
    ) -> CaseModel:
        """Create a case and link ``alert_ids`` (unknown id → NotFound before anything is added)."""
        clean_title = _clean_title(title)  # a bad title is refused before an unknown alert
        alerts = await self._load_alerts(alert_ids)
        new_case = self.add(title=clean_title, severity=severity, actor=actor, alerts=alerts, **fields)
        await self.flush()
        return new_case

    async def flush(self) -> None:
        """Flush the cases :meth:`add` added first: alerts name their case by a foreign key with
        no relationship, so the unit of work would not order the case's insert before them."""
        if self._added:
            await self.session.flush(self._added)
            self._added.clear()
        await self.session.flush()
        if self._deferred:  # after the cases they name
            await insert_timeline_rows(self.session, self._deferred)
            self._deferred.clear()

    def add(
        self,
        *,
        title: str,
        severity: Severity | str,
        actor: str,
        alerts: Sequence[AlertModel] = (),
        **fields: Unpack[CaseFields],
    ) -> CaseModel:
        """:meth:`create` with the alerts in hand and without the flush, for a caller that opens
        many cases and then calls :meth:`flush` (correlation of a batch: two flushes and a read per
        case opened were a third of its CPU). The id is given here, so entries can name the case."""
        clean_title = _clean_title(title)
        new_case = CaseModel(
            id=uuid.uuid4(),
            title=clean_title,
            description=fields.get("description"),
            severity=_severity(severity).value,
            status=lifecycle.normalise(fields.get("status", CaseStatus.OPEN)).value,
            assigned_to=fields.get("assigned_to"),
            source=CaseSource(fields.get("source", CaseSource.MANUAL)).value,
            created_by=actor,
            mitre_techniques=[],
            iocs=[],
            affected_assets=[],
            recommendations=[],
            metadata_=dict(fields.get("metadata") or {}),
        )
        self.session.add(new_case)
        self._added.append(new_case)
        details = fields.get("details") or f"Case created: {clean_title}"
        self.record_entry(new_case, "case_created", actor, details)
        for alert in alerts:
            self._attach(new_case, alert, actor)
        return new_case

    async def update(
        self, target: CaseModel, changes: dict[str, Any], actor: str
    ) -> tuple[Snapshot, Snapshot]:
        """Apply PATCH fields; returns ``(before, after)`` of the fields that really changed."""
        unknown = set(changes) - set(_EDITABLE)
        if unknown:
            raise InvalidInput(f"cannot change {sorted(unknown)}")
        values = {field: self._coerce(field, raw) for field, raw in changes.items()}
        if "status" in values:
            lifecycle.check_transition(target.status, values["status"])
        before: Snapshot = {}
        after: Snapshot = {}
        for field, value in values.items():
            current = getattr(target, field)
            if field == "status" and lifecycle.is_noop(current, value):
                continue
            if value == current:
                continue
            before[field], after[field] = current, value
            setattr(target, field, value)
        if "status" in after:
            target.closed_at = utcnow() if after["status"] == CaseStatus.CLOSED.value else None
        self._record_changes(target, before, after, actor)
        if after:
            target.updated_at = utcnow()
            await self.session.flush()
        return before, after

    async def close(
        self, target: CaseModel, actor: str, resolution_notes: str | None = None
    ) -> tuple[Snapshot, Snapshot]:
        """Move the case straight to ``closed`` (409 when it already is)."""
        if lifecycle.normalise(target.status) is CaseStatus.CLOSED:
            raise lifecycle.transition_error(target.status, CaseStatus.CLOSED)
        changes: dict[str, Any] = {"status": CaseStatus.CLOSED}
        if resolution_notes is not None:
            changes["resolution_notes"] = resolution_notes
        return await self.update(target, changes, actor)

    async def add_comment(self, target: CaseModel, text: str, actor: str) -> TimelineEntryModel:
        body = (text or "").strip()
        if not body:
            raise InvalidInput("comment must not be blank")
        entry = self._new_entry(target, "comment", actor, body)
        target.updated_at = utcnow()
        await self.session.flush()
        return entry

    async def record_evidence(
        self, target: CaseModel, filename: str, data: dict[str, Any], actor: str
    ) -> TimelineEntryModel:
        """The ``evidence_added`` timeline entry of an uploaded file (CaseEvidenceService stores it)."""
        entry = self._new_entry(target, "evidence_added", actor, filename, data)
        target.updated_at = utcnow()
        await self.session.flush()
        return entry

    async def link_alert(self, target: CaseModel, alert: AlertModel, actor: str) -> bool:
        """Link ``alert``; False when it already belongs to this case. Closed cases refuse (409)."""
        if not self.attach_alert(target, alert, actor):
            return False
        await self.session.flush()
        return True

    def attach_alert(self, target: CaseModel, alert: AlertModel, actor: str) -> bool:
        """:meth:`link_alert` without the flush, for a caller that links many and flushes once
        (correlation of a batch: a flush per alert was most of its statements)."""
        self.check_linkable(target)
        if alert.case_id == target.id:
            return False
        self._attach(target, alert, actor)
        target.updated_at = utcnow()
        return True

    async def promote_alert(
        self,
        alert: AlertModel,
        actor: str,
        *,
        title: str | None = None,
        severity: Severity | str | None = None,
        assigned_to: str | None = None,
    ) -> CaseModel:
        """Open an ``in_progress`` case for an alert that has none; the alert becomes ``escalated``."""
        self.check_promotable(alert)
        promoted = await self.create(
            title=title or alert.title,
            severity=severity or alert.severity,
            actor=actor,
            description=alert.description,
            alert_ids=[alert.id],
            assigned_to=assigned_to,
            source=CaseSource.ALERT_PROMOTION,
            status=CaseStatus.IN_PROGRESS,
            details=f"Promoted from alert {alert.id}",
        )
        alert.status = AlertStatus.ESCALATED.value
        await self.session.flush()
        return promoted

    @staticmethod
    def check_linkable(target: CaseModel) -> None:
        if lifecycle.normalise(target.status) is CaseStatus.CLOSED:
            raise Conflict(f"case {target.id} is closed", code="case_closed", case_id=str(target.id))

    @staticmethod
    def check_promotable(alert: AlertModel) -> None:
        if alert.case_id is not None:
            raise Conflict(
                f"alert {alert.id} already belongs to case {alert.case_id}",
                code="alert_in_case",
                case_id=str(alert.case_id),
            )

    # --- helpers ------------------------------------------------------------------------

    async def _load_alerts(self, alert_ids: Sequence[uuid.UUID]) -> builtins.list[AlertModel]:
        wanted = list(dict.fromkeys(alert_ids))
        if not wanted:
            return []
        rows = (await self.session.scalars(select(AlertModel).where(AlertModel.id.in_(wanted)))).all()
        by_id = {row.id: row for row in rows}
        missing = [alert_id for alert_id in wanted if alert_id not in by_id]
        if missing:
            raise NotFound(f"alert {missing[0]} does not exist", alert_id=str(missing[0]))
        return [by_id[alert_id] for alert_id in wanted]

    @staticmethod
    def _coerce(field: str, raw: Any) -> Any:
        if field == "status":
            return lifecycle.normalise(raw).value
        if field == "severity":
            return _severity(raw).value
        if field == "title":
            return _clean_title(str(raw or ""))
        return raw

    def _record_changes(self, target: CaseModel, before: Snapshot, after: Snapshot, actor: str) -> None:
        for field, action in _TRACKED.items():
            if field in after:
                old, new = before[field] or "unassigned", after[field] or "unassigned"
                label = "Assignment" if field == "assigned_to" else field.capitalize()
                data = {"from": before[field], "to": after[field]}
                self.record_entry(target, action, actor, f"{label} {old} → {new}", data)
        edited = [field for field in after if field not in _TRACKED]
        if edited:
            details = f"Updated {', '.join(edited)}"
            self.record_entry(target, "case_updated", actor, details, {"fields": edited})

    def _attach(self, target: CaseModel, alert: AlertModel, actor: str) -> None:
        """Link one alert: set its case, merge its observables and severity into the case.

        The entry is written now, but says when the alert's events happened (spec §27.1): a case
        built from last year's logs reads in event time, not in the second they were imported.
        """
        data: dict[str, Any] = {
            "alert_id": str(alert.id),
            "first_seen_at": alert.first_seen_at.isoformat() if alert.first_seen_at else None,
            "last_seen_at": alert.last_seen_at.isoformat() if alert.last_seen_at else None,
        }
        if alert.case_id is not None and alert.case_id != target.id:
            data["previous_case_id"] = str(alert.case_id)
        alert.case_id = target.id
        target.iocs = _merged(target.iocs or [], alert.iocs or [])
        target.mitre_techniques = _merged(target.mitre_techniques or [], alert.mitre_techniques or [])
        target.affected_assets = _merged(target.affected_assets or [], alert.affected_assets or [])
        alert_severity = _severity(alert.severity)
        if alert_severity.rank > _severity(target.severity).rank:
            target.severity = alert_severity.value
        self.record_entry(target, "alert_linked", actor, f"Alert linked: {alert.title}", data)

    def record_entry(
        self,
        target: CaseModel,
        action: str,
        actor: str,
        details: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Add a timeline entry: an ORM object, or a row for the next flush (``deferred_timeline``)."""
        if self._deferred is None:
            self._new_entry(target, action, actor, details, data)
        else:
            self._deferred.append(timeline_row(target.id, action, actor, self._timestamp(), details, data))

    def _new_entry(
        self, target: CaseModel, action: str, actor: str, details: str | None, data: Any = None
    ) -> TimelineEntryModel:
        """A timeline entry as an ORM object, for a caller that returns it."""
        entry = TimelineEntryModel(**timeline_row(target.id, action, actor, self._timestamp(), details, data))
        self.session.add(entry)
        return entry

    def _timestamp(self) -> datetime:
        """Now, or just after the last entry's: timestamps strictly increase, so ordering is stable."""
        now = utcnow()
        if self._last_ts is not None and now <= self._last_ts:
            now = self._last_ts + timedelta(microseconds=1)
        self._last_ts = now
        return now

    async def detach_alert(self, target: CaseModel, alert: AlertModel, actor: str) -> None:
        """Take ``alert`` out of ``target``: 409 unless it is in that case, or when the case is closed.

        The case keeps the observables the alert brought: they stay part of the investigation record.
        """
        if alert.case_id != target.id:
            raise Conflict(
                f"alert {alert.id} is not in case {target.id}",
                code="alert_not_in_case",
                case_id=str(target.id),
                alert_id=str(alert.id),
            )
        self.check_linkable(target)
        alert.case_id = None
        target.updated_at = utcnow()
        data = {"alert_id": str(alert.id)}
        self.record_entry(target, "alert_detached", actor, f"Alert detached: {alert.title}", data)
        await self.session.flush()
