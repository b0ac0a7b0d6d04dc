"""Playbook schema validation (spec §15.1) with errors that point at the field and YAML line.

Structure comes from the Pydantic models in :mod:`aurorasoc.core.vocabulary` (unknown keys
rejected); the rules that need the action registry, the ATT&CK index or several fields at once
are checked here. Every problem is reported, not just the first, as
``{"field": "steps[1].action", "line": 12, "message": ...}`` (``line`` when parsed from YAML).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from aurorasoc.core.errors import InvalidInput
from aurorasoc.core.vocabulary import ActionClass, PlaybookDefinition, PlaybookStep
from aurorasoc.intel import attack
from aurorasoc.soar import conditions
from aurorasoc.soar.actions import ActionRegistry
from aurorasoc.soar.conditions import ConditionError
from aurorasoc.soar.default_actions import default_registry
from aurorasoc.soar.templating import template_roots

Loc = tuple[str | int, ...]
NEEDS_ROLLBACK = frozenset({ActionClass.ACTUATE, ActionClass.DESTRUCTIVE, ActionClass.WRITE_EXTERNAL})
IRREVERSIBLE = "none"


class PlaybookValidationError(InvalidInput):
    code = "invalid_playbook"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        first = errors[0]
        where = f"{first['field']}" + (f" (line {first['line']})" if first.get("line") else "")
        super().__init__(
            f"{len(errors)} problem(s) in playbook; first: {where}: {first['message']}", errors=errors
        )
        self.errors = errors


def parse_playbook(text: str, registry: ActionRegistry | None = None) -> PlaybookDefinition:
    """Parse YAML (JSON is YAML too) and validate it; errors carry line numbers."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise PlaybookValidationError([{"field": "<document>", "line": line, "message": str(exc)}]) from None
    return validate_playbook(data, registry, node=node)


def validate_playbook(
    data: Any, registry: ActionRegistry | None = None, *, node: yaml.Node | None = None
) -> PlaybookDefinition:
    registry = registry or default_registry()
    if not isinstance(data, dict):
        raise PlaybookValidationError([_error((), "a playbook must be a mapping", node)])
    try:
        definition = PlaybookDefinition.model_validate(data)
    except ValidationError as exc:
        errors = [_error(tuple(e["loc"]), e["msg"], node) for e in exc.errors()]
        raise PlaybookValidationError(errors) from None
    problems = [_error(loc, message, node) for loc, message in _semantic_problems(definition, registry)]
    if problems:
        raise PlaybookValidationError(problems)
    return definition


def _semantic_problems(definition: PlaybookDefinition, registry: ActionRegistry) -> Iterator[tuple[Loc, str]]:
    for i, tid in enumerate(definition.mitre_techniques):
        if attack.lookup(tid) is None:
            yield ("mitre_techniques", i), f"unknown ATT&CK technique {tid!r}"
    seen: list[str] = []
    for i, step in enumerate(definition.steps):
        if step.name in seen:
            yield ("steps", i, "name"), f"duplicate step name {step.name!r}"
        yield from ((("steps", i, *loc), message) for loc, message in _step_problems(step, seen, registry))
        seen.append(step.name)


def _step_problems(
    step: PlaybookStep, earlier: Sequence[str], registry: ActionRegistry
) -> Iterator[tuple[Loc, str]]:
    if step.action not in registry or registry.get(step.action).rollback_only:
        yield ("action",), f"unknown action {step.action!r} (see GET /api/v1/actions)"
    elif registry.get(step.action).action_class is not step.action_class:
        expected = registry.get(step.action).action_class.value
        yield ("action_class",), f"{step.action} is registered as {expected}, not {step.action_class.value}"
    yield from _rollback_problems(step, registry)
    if step.condition is not None:
        try:
            unknown = [name for name in conditions.referenced_steps(step.condition) if name not in earlier]
        except ConditionError as exc:
            yield ("condition",), exc.message
        else:
            for name in unknown:
                yield ("condition",), f"condition reads previous.{name}, which is not an earlier step"
    for root in template_roots([step.parameters, step.rollback_params or {}]):
        if root not in conditions.ROOTS:
            yield (
                ("parameters",),
                f"template root .{root} is unknown (known: {', '.join(sorted(conditions.ROOTS))})",
            )


def _rollback_problems(step: PlaybookStep, registry: ActionRegistry) -> Iterator[tuple[Loc, str]]:
    if step.rollback_action is None:
        if step.action_class in NEEDS_ROLLBACK:
            yield (
                ("rollback_action",),
                (
                    f"required for {step.action_class.value} steps: "
                    "a registered action, or 'none' if irreversible"
                ),
            )
    elif step.rollback_action == IRREVERSIBLE:
        if not step.requires_approval:
            yield ("requires_approval",), "an irreversible step (rollback_action: none) must require approval"
    elif step.rollback_action not in registry:
        yield ("rollback_action",), f"unknown rollback action {step.rollback_action!r}"


def _error(loc: Loc, message: str, node: yaml.Node | None) -> dict[str, Any]:
    return {"field": _field(loc) or "<document>", "line": _line(node, loc), "message": message}


def _field(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line(node: yaml.Node | None, loc: Loc) -> int | None:
    """The 1-based line of the deepest YAML node ``loc`` reaches."""
    if node is None:
        return None
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node = child
    return node.start_mark.line + 1


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((value for key, value in node.value if key.value == part), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        child: yaml.Node = node.value[part]
        return child
    return None
