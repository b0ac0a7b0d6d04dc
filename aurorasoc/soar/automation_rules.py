"""AutomationRuleService: CRUD of automation rules (spec §15.5); evaluation is engine.automation."""

from __future__ import annotations

import builtins
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import InvalidInput, NotFound
from aurorasoc.soar.automation import RuleDefinition
from aurorasoc.soar.models import AutomationRuleModel, PlaybookModel


class AutomationRuleService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, rule_id: uuid.UUID) -> AutomationRuleModel:
        found = await self.session.get(AutomationRuleModel, rule_id)
        if found is None:
            raise NotFound(f"automation rule {rule_id} does not exist", rule_id=str(rule_id))
        return found

    async def list(self, *, skip: int, limit: int) -> tuple[builtins.list[AutomationRuleModel], int]:
        total = await self.session.scalar(select(func.count()).select_from(AutomationRuleModel))
        stmt = select(AutomationRuleModel).order_by(AutomationRuleModel.priority, AutomationRuleModel.name)
        rows = (await self.session.scalars(stmt.offset(skip).limit(limit))).all()
        return builtins.list(rows), int(total or 0)

    async def create(self, definition: RuleDefinition, *, actor: str) -> AutomationRuleModel:
        await self._check_playbook(definition.playbook_id)
        rule = AutomationRuleModel(**_columns(definition), created_by=actor)
        self.session.add(rule)
        await self.session.flush()
        return rule

    async def update(self, rule: AutomationRuleModel, changes: dict[str, Any]) -> AutomationRuleModel:
        """Apply a partial change; the merged rule is re-validated as a whole."""
        current = RuleDefinition.model_validate({**_snapshot(rule), **changes})
        await self._check_playbook(current.playbook_id)
        for key, value in _columns(current).items():
            setattr(rule, key, value)
        await self.session.flush()
        return rule

    async def delete(self, rule: AutomationRuleModel) -> None:
        await self.session.delete(rule)
        await self.session.flush()

    async def add(self, definition: RuleDefinition, *, actor: Actor) -> AutomationRuleModel:
        """Store a new rule, audited and committed (the one way every caller creates a rule)."""
        rule = await self.create(definition, actor=actor.username)
        await _audit(self.session, actor, "automation_rule.create", rule)
        await self.session.commit()
        return rule

    async def change(
        self, rule_id: uuid.UUID, changes: dict[str, Any], *, actor: Actor
    ) -> AutomationRuleModel:
        """A partial change (e.g. enable/disable), re-validated as a whole, audited and committed."""
        rule = await self.get(rule_id)
        try:
            await self.update(rule, changes)
        except ValidationError as exc:
            raise InvalidInput(f"invalid rule: {exc.errors()[0]['msg']}", code="invalid_rule") from None
        await _audit(self.session, actor, "automation_rule.update", rule)
        await self.session.commit()
        return rule

    async def remove(self, rule_id: uuid.UUID, *, actor: Actor) -> None:
        """Delete a rule, audited and committed."""
        rule = await self.get(rule_id)
        await _audit(self.session, actor, "automation_rule.delete", rule)
        await self.delete(rule)
        await self.session.commit()

    async def _check_playbook(self, playbook_id: uuid.UUID | None) -> None:
        if playbook_id is not None and await self.session.get(PlaybookModel, playbook_id) is None:
            raise InvalidInput(f"playbook {playbook_id} does not exist", code="unknown_playbook")


async def _audit(session: AsyncSession, actor: Actor, action: str, rule: AutomationRuleModel) -> None:
    details = {"name": rule.name, "action": rule.action, "enabled": rule.enabled}
    await actor.audit(session, action, ("automation_rule", str(rule.id)), details)


def _columns(definition: RuleDefinition) -> dict[str, Any]:
    data = definition.model_dump(mode="json")
    data["playbook_id"] = definition.playbook_id
    data["conditions"] = definition.conditions.model_dump(mode="json", exclude_none=True)
    return data


def _snapshot(rule: AutomationRuleModel) -> dict[str, Any]:
    fields = RuleDefinition.model_fields
    return {name: getattr(rule, name) for name in fields}
