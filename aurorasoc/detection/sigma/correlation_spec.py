"""What a Sigma correlation rule counts (spec §13.7): its parsed, evaluable form.

Rule loading (``rules``) reads this; the sliding-window evaluation is in ``correlation``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sigma.correlations import SigmaCorrelationCondition, SigmaCorrelationRule

from aurorasoc.detection.sigma.compile import Unsupported

TYPES = ("event_count", "value_count", "temporal", "temporal_ordered")
_OPS: dict[str, Callable[[float, float], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "eq": operator.eq,
    "neq": operator.ne,
}
_GROWING = frozenset({"gt", "gte"})


@dataclass(frozen=True)
class CorrelationSpec:
    """What a correlation rule counts; ``bounds`` are (operator, count) pairs that must all hold."""

    type: str
    references: tuple[str, ...]
    group_by: tuple[str, ...]
    timespan: float
    bounds: tuple[tuple[str, float], ...]
    value_field: str | None = None
    generate: bool = False
    aliases: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def growing(self) -> bool:
        """True when more hits can only help, so the condition is decided on arrival."""
        return all(op in _GROWING for op, _ in self.bounds)

    def holds(self, measure: int) -> bool:
        return all(_OPS[op](measure, count) for op, count in self.bounds)


def _range_bounds(doc: Any) -> tuple[tuple[str, float], ...] | None:
    """Bounds of a two-operator (range) condition, which pySigma itself rejects; else None."""
    condition = doc.get("correlation", {}).get("condition") if isinstance(doc, dict) else None
    if not isinstance(condition, dict):
        return None
    ops = [(op, condition[op]) for op in _OPS if op in condition]
    if len(ops) != 2 or not all(isinstance(count, int | float) for _, count in ops):
        return None
    return tuple((op, float(count)) for op, count in ops)


def pysigma_view(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` as pySigma accepts it: a range condition keeps one bound (correlation_spec reads both)."""
    if _range_bounds(doc) is None:
        return doc
    condition = dict(doc["correlation"]["condition"])
    for op in [op for op in _OPS if op in condition][1:]:
        del condition[op]
    return {**doc, "correlation": {**doc["correlation"], "condition": condition}}


def correlation_spec(rule: SigmaCorrelationRule, doc: Any) -> CorrelationSpec:
    """The evaluable part of a parsed correlation rule; raises Unsupported with the reason."""
    kind = rule.type.name.lower()
    if kind not in TYPES:
        raise Unsupported(f"correlation type {kind} is not supported (only {', '.join(TYPES)})")
    if rule.errors:
        raise Unsupported(f"invalid correlation rule: {rule.errors[0]}")
    bounds = _range_bounds(doc)
    condition = rule.condition
    if not isinstance(condition, SigmaCorrelationCondition):
        raise Unsupported("extended (boolean) temporal conditions are not supported")
    if bounds is None:
        bounds = ((condition.op.name.lower(), float(condition.count)),)
    references = tuple(ref.reference for ref in rule.rules or ())
    if not references:
        raise Unsupported("correlation rule references no rules")
    if kind == "temporal_ordered" and bounds != (("gte", float(len(references))),):
        raise Unsupported("temporal_ordered supports only its default condition (all rules, in order)")
    field_ref = condition.fieldref
    if kind == "value_count" and not isinstance(field_ref, str):
        raise Unsupported("value_count needs exactly one condition field")
    return CorrelationSpec(
        type=kind,
        references=references,
        group_by=tuple(rule.group_by or ()),
        timespan=float(rule.timespan.seconds),
        bounds=bounds,
        value_field=field_ref if kind == "value_count" else None,  # type: ignore[arg-type]
        generate=bool(rule.generate),
        aliases=rule.aliases.to_dict(),
    )
