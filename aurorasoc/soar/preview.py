"""Playbook previews (spec §6, §15.3): every step's effect, without calling a single handler."""

from __future__ import annotations

from typing import Any

from aurorasoc.core.errors import InvalidInput
from aurorasoc.core.vocabulary import PlaybookDefinition, PlaybookStep
from aurorasoc.soar import conditions, policy
from aurorasoc.soar.actions import ActionRegistry
from aurorasoc.soar.connectors.registry import ConnectorRegistry
from aurorasoc.soar.context import is_critical_asset
from aurorasoc.soar.templating import render


def preview_effects(
    definition: PlaybookDefinition,
    ctx: dict[str, Any],
    registry: ActionRegistry,
    connectors: ConnectorRegistry,
) -> list[dict[str, Any]]:
    """Walk the steps in order; later conditions see earlier steps as ``completed``/``skipped``."""
    effects = []
    for step in definition.steps:
        effect = _effect(step, ctx, registry, connectors, playbook_gate=definition.requires_approval)
        ctx["previous"][step.name] = {"status": effect["would"], "output": {}}
        effects.append(effect)
    return effects


def _effect(
    step: PlaybookStep, ctx: dict[str, Any], registry: ActionRegistry, connectors: ConnectorRegistry, *,
    playbook_gate: bool,
) -> dict[str, Any]:  # fmt: skip
    spec = registry.get(step.action)
    verdict = policy.evaluate(step.action, spec.action_class, critical_asset=is_critical_asset(ctx))
    connector = None if spec.connector == "internal" else connectors.get(spec.connector)
    effect: dict[str, Any] = {
        "step": step.name,
        "action": step.action,
        "action_class": spec.action_class.value,
        "connector": spec.connector,
        "simulated": bool(getattr(connector, "simulated", False)),
        "condition": step.condition,
        "would": "completed",
        "requires_approval": policy.step_needs_approval(step, verdict) or playbook_gate,
        "risk_level": verdict.risk_level.value,
        "rollback_action": step.rollback_action or spec.rollback_action,
    }
    try:
        if step.condition and not conditions.evaluate(step.condition, ctx):
            effect["would"] = "skipped"
        effect["parameters"] = render(step.parameters, ctx)
    except InvalidInput as exc:  # a preview reports what would fail instead of failing itself
        effect.update(would="failed", error=exc.message)
    return effect
