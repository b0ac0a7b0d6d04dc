"""PlaybookService: stored, versioned playbooks (spec §4 ``playbooks``, §15.1).

Every change of the definition bumps ``version``; executions keep the version they ran.
``enabled`` and ``severity_filter`` govern automatic runs; an operator may run any playbook.
"""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import Conflict, NotFound
from aurorasoc.core.vocabulary import PlaybookDefinition
from aurorasoc.soar.loader import LoadedPlaybook, load_playbooks, showcase_playbooks
from aurorasoc.soar.models import PlaybookModel
from aurorasoc.soar.playbook import parse_playbook


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)


class PlaybookService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, playbook_id: uuid.UUID) -> PlaybookModel:
        found = await self.session.get(PlaybookModel, playbook_id)
        if found is None:
            raise NotFound(f"playbook {playbook_id} does not exist", playbook_id=str(playbook_id))
        return found

    async def by_name(self, name: str) -> PlaybookModel | None:
        found: PlaybookModel | None = await self.session.scalar(
            select(PlaybookModel).where(PlaybookModel.name == name)
        )
        return found

    async def list(
        self, *, enabled: bool | None = None, skip: int = 0, limit: int = 50
    ) -> tuple[builtins.list[PlaybookModel], int]:
        clauses = [] if enabled is None else [PlaybookModel.enabled.is_(enabled)]
        total = await self.session.scalar(select(func.count()).select_from(PlaybookModel).where(*clauses))
        stmt = select(PlaybookModel).where(*clauses).order_by(PlaybookModel.name).offset(skip).limit(limit)
        return builtins.list((await self.session.scalars(stmt)).all()), int(total or 0)

    async def create(
        self, definition: PlaybookDefinition, *, source_yaml: str | None, actor: str
    ) -> PlaybookModel:
        if await self.by_name(definition.name):
            raise Conflict(f"a playbook named {definition.name!r} exists", code="duplicate_playbook")
        playbook = PlaybookModel(created_by=actor, version=1, source_yaml=source_yaml)
        _apply(playbook, definition)
        self.session.add(playbook)
        await self.session.flush()
        return playbook

    async def update(
        self, playbook: PlaybookModel, definition: PlaybookDefinition, *, source_yaml: str | None
    ) -> PlaybookModel:
        other = await self.by_name(definition.name)
        if other is not None and other.id != playbook.id:
            raise Conflict(f"a playbook named {definition.name!r} exists", code="duplicate_playbook")
        if playbook.definition != definition.model_dump(mode="json"):
            playbook.version += 1
        _apply(playbook, definition)
        playbook.source_yaml = source_yaml
        await self.session.flush()
        return playbook

    async def delete(self, playbook: PlaybookModel) -> None:
        await self.session.delete(playbook)
        await self.session.flush()

    async def add(self, source: str, *, actor: Actor) -> PlaybookModel:
        """Validate and store a new playbook (YAML or JSON text), audited and committed."""
        playbook = await self.create(parse_playbook(source), source_yaml=source, actor=actor.username)
        await audit_playbook(self.session, actor, "playbook.create", playbook)
        await self.session.commit()
        return playbook

    async def replace(self, playbook_id: uuid.UUID, source: str, *, actor: Actor) -> PlaybookModel:
        """New definition for a stored playbook (a new version when it differs), audited and committed."""
        playbook = await self.get(playbook_id)
        await self.update(playbook, parse_playbook(source), source_yaml=source)
        await audit_playbook(self.session, actor, "playbook.update", playbook)
        await self.session.commit()
        return playbook

    async def remove(self, playbook_id: uuid.UUID, *, actor: Actor) -> None:
        """Delete a playbook, audited and committed; its executions keep their record."""
        playbook = await self.get(playbook_id)
        await audit_playbook(self.session, actor, "playbook.delete", playbook)
        await self.delete(playbook)
        await self.session.commit()

    async def import_paths(self, paths: builtins.list[Path], *, actor: str) -> ImportReport:
        loaded, errors = load_playbooks(paths)
        report = await self._import(loaded, actor=actor, enabled=None)
        report.errors = [(str(e.path), e.error.message) for e in errors]
        return report

    async def import_showcase(self, *, actor: str) -> ImportReport:
        """The bundled playbooks, imported disabled (spec §15.7)."""
        return await self._import(list(showcase_playbooks()), actor=actor, enabled=False)

    async def _import(
        self, loaded: builtins.list[LoadedPlaybook], *, actor: str, enabled: bool | None
    ) -> ImportReport:
        report = ImportReport()
        for item in loaded:
            definition = item.definition
            if enabled is not None:
                definition = definition.model_copy(update={"enabled": enabled})
            existing = await self.by_name(definition.name)
            if existing is None:
                await self.create(definition, source_yaml=item.source, actor=actor)
                report.imported += 1
            elif existing.definition == definition.model_dump(mode="json"):
                report.unchanged += 1
            else:
                await self.update(existing, definition, source_yaml=item.source)
                report.updated += 1
        return report


async def audit_playbook(session: AsyncSession, actor: Actor, action: str, playbook: PlaybookModel) -> None:
    """The audit row of a playbook change or run: name and the version it concerns."""
    details = {"name": playbook.name, "version": playbook.version}
    await actor.audit(session, action, ("playbook", str(playbook.id)), details)


def _apply(playbook: PlaybookModel, definition: PlaybookDefinition) -> None:
    playbook.name = definition.name
    playbook.description = definition.description
    playbook.severity_filter = definition.severity_filter
    playbook.enabled = definition.enabled
    playbook.requires_approval = definition.requires_approval
    playbook.mitre_techniques = list(definition.mitre_techniques)
    playbook.definition = definition.model_dump(mode="json")
