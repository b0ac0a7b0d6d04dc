"""Helpers shared by the SOAR tests: real alerts through AlertService, stored playbooks, the action log."""

from __future__ import annotations

import uuid
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.service import AlertService
from aurorasoc.core.models import AlertModel, ConnectorActionModel, PlaybookModel
from aurorasoc.core.vocabulary import AlertCreate
from aurorasoc.soar.actions import ActionRegistry
from aurorasoc.soar.default_actions import default_registry
from aurorasoc.soar.playbook import validate_playbook
from aurorasoc.soar.playbooks import PlaybookService


async def make_alert(session: AsyncSession, **fields: Any) -> AlertModel:
    body = {"title": "Suspicious activity", "source": "edr", "severity": "high", **fields}
    alert, _ = await AlertService(session).create(AlertCreate(**body))
    await session.commit()
    return alert


async def store_playbook(
    session: AsyncSession, definition: dict[str, Any] | str, registry: ActionRegistry | None = None
) -> PlaybookModel:
    data = yaml.safe_load(definition) if isinstance(definition, str) else definition
    validated = validate_playbook(data, registry or default_registry())
    playbook = await PlaybookService(session).create(validated, source_yaml=None, actor="tester")
    await session.commit()
    return playbook


async def action_log(
    session: AsyncSession, execution_id: uuid.UUID | None = None
) -> list[tuple[str, str | None]]:
    """(action, target) of every recorded connector call, oldest first."""
    stmt = select(ConnectorActionModel).order_by(ConnectorActionModel.created_at)
    if execution_id is not None:
        stmt = stmt.where(ConnectorActionModel.execution_id == execution_id)
    return [(row.action, row.target) for row in (await session.scalars(stmt)).all()]


def step(name: str, action: str, action_class: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "action": action,
        "action_class": action_class,
        "parameters": {},
        "timeout": 5,
        **extra,
    }


def block(name: str, ip: str) -> dict[str, Any]:
    """A reversible block_ip step (no approval unless the asset is critical)."""
    return step(name, "block_ip", "write_external", rollback_action="unblock_ip", parameters={"ip": ip})


def playbook(name: str, *steps: dict[str, Any], requires_approval: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"test playbook {name}",
        "severity_filter": "low",
        "enabled": True,
        "requires_approval": requires_approval,
        "steps": list(steps),
    }
