"""Alert list filters and sort orders, shared by database queries and showcase data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, case, func, or_

from aurorasoc.alerts.models import AlertModel
from aurorasoc.alerts.search import asset_filter, text_search
from aurorasoc.core.vocabulary import AlertStatus, Severity

AlertSort = Literal[
    "created_at", "-created_at", "severity", "-severity", "occurrence_count", "-occurrence_count",
    "last_seen_at", "-last_seen_at", "title", "-title",
]  # fmt: skip
SEVERITY_ORDER = {s.value: s.rank for s in Severity}


@dataclass(frozen=True)
class AlertFilters:
    severity: list[Severity] = field(default_factory=list)
    status: list[AlertStatus] = field(default_factory=list)
    source: str | None = None
    case_id: uuid.UUID | None = None
    q: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sort: AlertSort = "-last_seen_at"  # spec §27.1: the queue reads in event time
    asset: str | None = None  # one affected asset, e.g. ``host:WIN-DC01`` (validated by the route)
    # Entity filters (spec §27.2): exact, case-insensitive, through the entity indexes.
    host: str | None = None
    user: str | None = None
    ip: str | None = None  # source or destination address

    def clauses(
        self, dialect: str = "sqlite", *, many_matches: bool = False, words_only: bool = False
    ) -> list[ColumnElement[bool]]:
        """SQL conditions; ``many_matches`` (SQLite): the text search filters a walk of the sort order;
        ``words_only`` (PostgreSQL): the text search without its substring arm."""
        clauses: list[ColumnElement[bool]] = []
        if self.severity:
            clauses.append(AlertModel.severity.in_([s.value for s in self.severity]))
        if self.status:
            clauses.append(AlertModel.status.in_([s.value for s in self.status]))
        if self.source:
            clauses.append(AlertModel.source == self.source)
        if self.case_id:
            clauses.append(AlertModel.case_id == self.case_id)
        if self.q:
            clauses.append(text_search(self.q, dialect, many=many_matches, words_only=words_only))
        if self.host:
            clauses.append(func.lower(AlertModel.host) == self.host.lower())
        if self.user:
            clauses.append(func.lower(AlertModel.user_name) == self.user.lower())
        if self.ip:
            clauses.append(or_(AlertModel.src_ip == self.ip, AlertModel.dst_ip == self.ip))
        if self.since:  # event time (spec §27.1): alerts whose activity reaches into the range
            clauses.append(AlertModel.last_seen_at >= self.since)
        if self.until:
            clauses.append(AlertModel.first_seen_at <= self.until)
        if self.asset:
            clauses.append(asset_filter(self.asset, dialect))
        return clauses

    @property
    def sort_key(self) -> ColumnElement[Any]:
        """The column (or severity rank) the queue is ordered by; ``id`` breaks ties."""
        name = self.sort.lstrip("-")
        if name == "severity":
            return case(SEVERITY_ORDER, value=AlertModel.severity, else_=-1)
        column: ColumnElement[Any] = getattr(AlertModel, name)
        return column

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    def order_by(self) -> list[Any]:
        """Sort key then ``id`` in the same direction, so a keyset page is one index range."""
        if self.descending:
            return [self.sort_key.desc(), AlertModel.id.desc()]
        return [self.sort_key.asc(), AlertModel.id.asc()]

    def matches(self, row: dict[str, Any]) -> bool:
        """The same filter over a showcase row (dummy mode with the database down)."""
        checks = [
            not self.severity or row["severity"] in {s.value for s in self.severity},
            not self.status or row["status"] in {s.value for s in self.status},
            not self.source or row["source"] == self.source,
            not self.case_id or row.get("case_id") == str(self.case_id),
            not self.q or self.q.lower() in f"{row['title']} {row.get('description') or ''}".lower(),
            not self.since or datetime.fromisoformat(row["last_seen_at"]) >= self.since,
            not self.until or datetime.fromisoformat(row["first_seen_at"]) <= self.until,
            not self.asset or self.asset in row.get("affected_assets", []),
            not self.host or (row.get("host") or "").lower() == self.host.lower(),
            not self.user or (row.get("user_name") or "").lower() == self.user.lower(),
            not self.ip or self.ip in (row.get("src_ip"), row.get("dst_ip")),
        ]
        return all(checks)

    def sort_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        name = self.sort.lstrip("-")

        def key(row: dict[str, Any]) -> Any:
            return SEVERITY_ORDER.get(row["severity"], -1) if name == "severity" else row.get(name)

        return sorted(rows, key=key, reverse=self.sort.startswith("-"))
