"""Saved hunts (spec §13.6): visibility by sharing mode, owner-only edits, run-now with counters.

Decisions: a hunt the caller cannot see answers 404 (its existence is not disclosed); a visible
hunt that someone else owns answers 403 on edit/delete. ``alert_on_hits`` and ``dispatch_agent``
act on scheduled runs, so they need ``schedule_minutes``; the scheduler (§21) executes them.
"""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import InvalidInput, NotFound, PermissionDenied
from aurorasoc.core.types import utcnow
from aurorasoc.siem.models import SiemHuntModel
from aurorasoc.siem.query import parse
from aurorasoc.siem.search import LogFilters, SearchResult, SiemSearchService

_NULLABLE = frozenset({"description", "schedule_minutes"})
_EDITABLE = frozenset(
    {"name", "description", "query", "filters", "tags", "sharing_mode", "shared_with_roles"}
    | {"schedule_minutes", "alert_on_hits", "dispatch_agent"}
)


@dataclass(frozen=True)
class Viewer:
    """Who is asking: visibility depends on the username (owner) and the role (``roles`` mode)."""

    username: str
    role: str


@dataclass(frozen=True)
class HuntRun:
    hunt: SiemHuntModel
    hit_count: int
    result: SearchResult


def hunt_filters(hunt: SiemHuntModel, now: datetime | None = None) -> LogFilters:
    """The stored query + filters as a search, with its range pinned to ``now``."""
    stored = hunt.filters or {}
    return LogFilters(
        q=hunt.query,
        range=stored.get("range"),
        sources=stored.get("source") or (),
        severities=stored.get("severity") or (),
        hosts=stored.get("host") or (),
    ).pinned(now)


def _visible_to(viewer: Viewer) -> ColumnElement[bool]:
    # Role names are plain identifiers, so a text match on the JSON list is exact and portable.
    in_roles = cast(SiemHuntModel.shared_with_roles, String).like(f'%"{viewer.role}"%')
    return or_(
        SiemHuntModel.created_by == viewer.username,
        SiemHuntModel.sharing_mode == "team",
        and_(SiemHuntModel.sharing_mode == "roles", in_roles),
    )


def _check_consistency(values: dict[str, Any], explicit: set[str]) -> None:
    """Cross-field rules over the merged row (create or patch)."""
    parse(values["query"])  # bad syntax → 400 with the position
    if values["sharing_mode"] == "roles" and not values["shared_with_roles"]:
        raise InvalidInput("sharing_mode 'roles' needs at least one role in shared_with_roles")
    if values["sharing_mode"] != "roles":
        if "shared_with_roles" in explicit and values["shared_with_roles"]:
            raise InvalidInput("shared_with_roles only applies to sharing_mode 'roles'")
        values["shared_with_roles"] = []
    if (values["alert_on_hits"] or values["dispatch_agent"]) and not values["schedule_minutes"]:
        raise InvalidInput("alert_on_hits and dispatch_agent act on scheduled runs: set schedule_minutes")


class HuntService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list(
        self, viewer: Viewer, *, skip: int, limit: int
    ) -> tuple[builtins.list[SiemHuntModel], int]:
        visible = _visible_to(viewer)
        total = await self.session.scalar(select(func.count()).select_from(SiemHuntModel).where(visible))
        stmt = (
            select(SiemHuntModel)
            .where(visible)
            .order_by(SiemHuntModel.updated_at.desc(), SiemHuntModel.id)
            .offset(skip)
            .limit(limit)
        )
        return builtins.list((await self.session.scalars(stmt)).all()), int(total or 0)

    async def get(self, hunt_id: uuid.UUID, viewer: Viewer) -> SiemHuntModel:
        stmt = select(SiemHuntModel).where(SiemHuntModel.id == hunt_id, _visible_to(viewer))
        found = (await self.session.scalars(stmt)).one_or_none()
        if found is None:
            raise NotFound(f"hunt {hunt_id} does not exist", hunt_id=str(hunt_id))
        return found

    async def get_owned(self, hunt_id: uuid.UUID, viewer: Viewer) -> SiemHuntModel:
        """A visible hunt the viewer owns; someone else's → 403."""
        hunt = await self.get(hunt_id, viewer)
        if hunt.created_by != viewer.username:
            raise PermissionDenied("only the owner of a hunt may change or delete it", code="not_hunt_owner")
        return hunt

    async def create(self, viewer: Viewer, values: dict[str, Any]) -> SiemHuntModel:
        merged = {
            "description": None,
            "filters": {},
            "tags": [],
            "sharing_mode": "private",
            "shared_with_roles": [],
            "schedule_minutes": None,
            "alert_on_hits": False,
            "dispatch_agent": False,
            **values,
        }
        _check_consistency(merged, set(values))
        hunt = SiemHuntModel(**merged, created_by=viewer.username, last_hit_count=0, total_hits=0)
        self.session.add(hunt)
        await self.session.flush()
        return hunt

    async def update(self, hunt: SiemHuntModel, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply a PATCH; returns the fields that really changed with their new values."""
        unknown = set(changes) - _EDITABLE
        if unknown:
            raise InvalidInput(f"cannot change {sorted(unknown)}")
        nulled = sorted(k for k, v in changes.items() if v is None and k not in _NULLABLE)
        if nulled:
            raise InvalidInput(f"{nulled} cannot be null")
        merged = {name: getattr(hunt, name) for name in _EDITABLE} | changes
        _check_consistency(merged, set(changes))
        changed = {name: value for name, value in merged.items() if getattr(hunt, name) != value}
        for name, value in changed.items():
            setattr(hunt, name, value)
        if changed:
            hunt.updated_at = utcnow()
            await self.session.flush()
        return changed

    async def delete(self, hunt: SiemHuntModel) -> None:
        await self.session.delete(hunt)
        await self.session.flush()

    async def save(self, viewer: Viewer, values: dict[str, Any], *, actor: Actor) -> SiemHuntModel:
        """Store a new hunt owned by ``viewer``; audited and committed."""
        hunt = await self.create(viewer, values)
        details = {"after": {"name": hunt.name, "query": hunt.query, "sharing_mode": hunt.sharing_mode}}
        await actor.audit(self.session, "hunt.create", ("siem_hunt", str(hunt.id)), details)
        await self.session.commit()
        return hunt

    async def edit(
        self, hunt_id: uuid.UUID, viewer: Viewer, changes: dict[str, Any], *, actor: Actor
    ) -> SiemHuntModel:
        """Apply a PATCH (owner only); audited when something really changed; committed."""
        hunt = await self.get_owned(hunt_id, viewer)
        changed = await self.update(hunt, changes)
        if changed:
            await actor.audit(self.session, "hunt.update", ("siem_hunt", str(hunt.id)), {"after": changed})
        await self.session.commit()
        return hunt

    async def remove(self, hunt_id: uuid.UUID, viewer: Viewer, *, actor: Actor) -> None:
        """Delete a hunt (owner only); audited with its name and query; committed."""
        hunt = await self.get_owned(hunt_id, viewer)
        details = {"before": {"name": hunt.name, "query": hunt.query}}
        await self.delete(hunt)
        await actor.audit(self.session, "hunt.delete", ("siem_hunt", str(hunt_id)), details)
        await self.session.commit()

    async def run_now(self, hunt_id: uuid.UUID, viewer: Viewer, *, limit: int) -> HuntRun:
        """Run a hunt ``viewer`` may see and commit its hit counters (an operator's run)."""
        run = await self.run(await self.get(hunt_id, viewer), limit=limit)
        await self.session.commit()
        return run

    async def run(self, hunt: SiemHuntModel, *, limit: int) -> HuntRun:
        """Execute now: every match is counted, at most ``limit`` newest hits are returned."""
        now = utcnow()
        filters = hunt_filters(hunt, now)
        search = SiemSearchService(self.session)
        hit_count = await search.count(filters)
        result = await search.search(filters, limit=limit)
        hunt.last_run_at = now
        hunt.last_hit_count = hit_count
        hunt.total_hits = (hunt.total_hits or 0) + hit_count
        await self.session.flush()
        return HuntRun(hunt, hit_count, result)
