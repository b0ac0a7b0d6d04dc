"""The action registry (spec §15.2): what a playbook step may do, and how it reaches a connector.

Handlers are ``async (params, ctx) -> dict``. Built-ins reach the outside world only through
:meth:`ActionContext.call`, which checks the runtime mode, calls the connector for the
capability and records the call in ``connector_actions`` and on the case timeline — also when
it fails. Third-party actions register through the entry point group ``aurorasoc.actions``
(each entry point is a ``register(registry)`` callable).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.errors import InvalidInput
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import ActionClass
from aurorasoc.soar.connectors.base import ConnectorError
from aurorasoc.soar.connectors.registry import ConnectorRegistry
from aurorasoc.soar.models import ConnectorActionModel
from aurorasoc.soar.timeline import add_case_entry

_last_stamp: datetime | None = None
Handler = Callable[[dict[str, Any], "ActionContext"], Awaitable[dict[str, Any]]]


@dataclass
class ActionContext:
    """Where an action runs: the session that records it and whom it runs for."""

    session: AsyncSession
    connectors: ConnectorRegistry
    actor: str
    execution_id: uuid.UUID | None = None
    approval_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None

    async def call(self, capability: str, method: str, target: str, **kwargs: Any) -> dict[str, Any]:
        """Call ``method`` on the capability's connector and record it, whatever the outcome."""
        runtime.assert_external_allowed()
        connector = self.connectors.get(capability)
        try:
            result: dict[str, Any] = await getattr(connector, method)(**kwargs)
        except ConnectorError as exc:
            self._record(connector, method, target, kwargs, "failed", {"error": str(exc), **exc.details})
            raise
        self._record(connector, method, target, kwargs, "completed", result)
        return result

    def _record(
        self,
        connector: Any,
        method: str,
        target: str,
        params: dict[str, Any],
        status: str,
        result: dict[str, Any],
    ) -> None:
        simulated = bool(getattr(connector, "simulated", False))
        name = str(getattr(connector, "name", type(connector).__name__))
        self.session.add(
            ConnectorActionModel(
                created_at=_monotonic_now(),
                connector=name, action=method, target=target, params=params, simulated=simulated,
                status=status, result=result, execution_id=self.execution_id,
                approval_id=self.approval_id, actor=self.actor,
            )
        )  # fmt: skip
        label = " (SIMULATED)" if simulated else ""
        add_case_entry(
            self.session, self.case_id, "connector_action", self.actor,
            f"{method} {target}: {status}{label}", {"connector": name, "action": method, "target": target},
        )  # fmt: skip


def _monotonic_now() -> datetime:
    """Strictly increasing timestamps, so the action log orders exactly like the calls."""
    global _last_stamp
    now = utcnow()
    if _last_stamp is not None and now <= _last_stamp:
        now = _last_stamp + timedelta(microseconds=1)
    _last_stamp = now
    return now


@dataclass(frozen=True)
class ActionSpec:
    name: str
    handler: Handler
    action_class: ActionClass
    reversible: bool
    rollback_action: str | None
    connector: str
    permission: str = "playbooks:execute"
    rollback_only: bool = False

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "action_class": self.action_class.value,
            "reversible": self.reversible,
            "rollback_action": self.rollback_action,
            "connector": self.connector,
            "permission": self.permission,
            "rollback_only": self.rollback_only,
        }


@dataclass
class ActionRegistry:
    _actions: dict[str, ActionSpec] = field(default_factory=dict)

    def register(
        self,
        name: str,
        handler: Handler,
        *,
        action_class: ActionClass | str,
        reversible: bool,
        rollback_action: str | None,
        connector: str,
        permission: str = "playbooks:execute",
        rollback_only: bool = False,
    ) -> None:
        self._actions[name] = ActionSpec(
            name, handler, ActionClass(action_class), reversible, rollback_action, connector, permission,
            rollback_only,
        )  # fmt: skip

    def get(self, name: str) -> ActionSpec:
        try:
            return self._actions[name]
        except KeyError:
            raise InvalidInput(f"unknown action {name!r}", code="unknown_action") from None

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def all(self) -> list[ActionSpec]:
        return sorted(self._actions.values(), key=lambda spec: spec.name)
