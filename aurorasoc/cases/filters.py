"""Case list filters: applied in SQL for stored cases and in memory for showcase rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, case, or_

from aurorasoc.cases import lifecycle
from aurorasoc.cases.models import CaseModel
from aurorasoc.core.vocabulary import CaseStatus, Severity

SortKey = Literal["updated_at", "created_at", "severity", "status", "title"]


def _statuses(wanted: Sequence[CaseStatus]) -> set[str]:
    """A filter on ``in_progress`` also finds rows still carrying a legacy equivalent."""
    values = {s.value for s in wanted}
    if CaseStatus.IN_PROGRESS.value in values:
        values |= {s.value for s in lifecycle.LEGACY_IN_PROGRESS}
    return values


@dataclass(frozen=True)
class CaseFilters:
    """List filters, applied in SQL for live data and in memory for showcase rows."""

    status: Sequence[CaseStatus] = ()
    severity: Sequence[Severity] = ()
    assigned_to: str | None = None
    q: str | None = None
    sort: SortKey = "updated_at"
    descending: bool = True

    def clauses(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.status:
            clauses.append(CaseModel.status.in_(_statuses(self.status)))
        if self.severity:
            clauses.append(CaseModel.severity.in_([s.value for s in self.severity]))
        if self.assigned_to:
            clauses.append(CaseModel.assigned_to == self.assigned_to)
        if self.q:
            clauses.append(
                or_(
                    CaseModel.title.icontains(self.q, autoescape=True),
                    CaseModel.description.icontains(self.q, autoescape=True),
                )
            )
        return clauses

    def order_by(self) -> list[Any]:
        if self.sort == "severity":
            rank = {s.value: s.rank for s in Severity}
            column: Any = case(rank, value=CaseModel.severity, else_=-1)
        else:
            column = getattr(CaseModel, self.sort)
        # Ties (a batch of correlation opens many cases in one instant) fall to the latest change.
        return [column.desc() if self.descending else column.asc(), CaseModel.updated_at.desc(), CaseModel.id]

    def matches(self, row: dict[str, Any]) -> bool:
        if self.status and row.get("status") not in _statuses(self.status):
            return False
        if self.severity and row.get("severity") not in {s.value for s in self.severity}:
            return False
        if self.assigned_to and row.get("assigned_to") != self.assigned_to:
            return False
        text = f"{row.get('title') or ''} {row.get('description') or ''}".lower()
        return not self.q or self.q.lower() in text

    def apply(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Filter and sort plain rows (showcase data) the way the SQL query would."""
        kept = [row for row in rows if self.matches(row)]

        def key(row: dict[str, Any]) -> Any:
            value = row.get(self.sort)
            return Severity(value or "info").rank if self.sort == "severity" else str(value or "")

        return sorted(kept, key=key, reverse=self.descending)
