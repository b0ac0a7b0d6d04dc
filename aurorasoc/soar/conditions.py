"""Step guard expressions (spec §15.3), parsed with ``ast`` against a whitelist — never ``eval``.

Allowed: literals (incl. lists/tuples), names, attribute and subscript access, comparisons
(``== != < <= > >= in not in is is not``) and ``and``/``or``/``not``. Attribute names starting
with ``_`` are refused, so dunder escapes such as ``().__class__`` cannot even be written.
Evaluation walks the tree over plain dicts: ``previous.isolate.status`` reads
``ctx["previous"]["isolate"]["status"]``; a missing key evaluates to ``None``.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from aurorasoc.core.errors import InvalidInput

ROOTS = frozenset({"alert", "case", "asset", "device", "previous", "time", "params"})
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: b is not None and a in b,
    ast.NotIn: lambda a, b: b is None or a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_ALLOWED = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.Compare, ast.Name,
    ast.Attribute, ast.Subscript, ast.Constant, ast.List, ast.Tuple, ast.Load, *_COMPARE,
)  # fmt: skip


class ConditionError(InvalidInput):
    code = "invalid_condition"


@lru_cache(maxsize=1024)
def parse_condition(source: str) -> ast.Expression:
    """Parse and whitelist-check ``source``; raises :class:`ConditionError` naming the offence."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConditionError(f"condition is not a valid expression: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ConditionError(f"condition may not use {type(node).__name__}: {source!r}")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ConditionError(f"condition may not access private attribute {node.attr!r}")
        if isinstance(node, ast.Name) and node.id not in ROOTS and node.id not in {"True", "False", "None"}:
            raise ConditionError(f"unknown name {node.id!r} in condition (known: {', '.join(sorted(ROOTS))})")
    return tree


def referenced_steps(source: str) -> Iterator[str]:
    """The step names a condition reads through ``previous.<step>``."""
    for node in ast.walk(parse_condition(source)):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "previous"
        ):
            yield node.attr


def evaluate(source: str, context: dict[str, Any]) -> bool:
    return bool(_eval(parse_condition(source).body, context))


def _get(container: Any, key: Any) -> Any:
    if isinstance(container, dict):
        return container.get(key)
    if (
        isinstance(container, list | tuple)
        and isinstance(key, int)
        and -len(container) <= key < len(container)
    ):
        return container[key]
    return None


def _eval(node: ast.expr, ctx: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return ctx.get(node.id)
    if isinstance(node, ast.Attribute):
        return _get(_eval(node.value, ctx), node.attr)
    if isinstance(node, ast.Subscript):
        return _get(_eval(node.value, ctx), _eval(node.slice, ctx))
    if isinstance(node, ast.List | ast.Tuple):
        return [_eval(e, ctx) for e in node.elts]
    if isinstance(node, ast.UnaryOp):
        return not _eval(node.operand, ctx)
    if isinstance(node, ast.BoolOp):
        values = (_eval(v, ctx) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare):
        return _compare(node, ctx)
    raise ConditionError(f"unsupported expression {type(node).__name__}")  # unreachable after parse


def _compare(node: ast.Compare, ctx: dict[str, Any]) -> bool:
    left = _eval(node.left, ctx)
    for op, comparator in zip(node.ops, node.comparators, strict=True):
        right = _eval(comparator, ctx)
        try:
            if not _COMPARE[type(op)](left, right):
                return False
        except TypeError:  # e.g. None < 3: an absent value never satisfies an ordering
            return False
        left = right
    return True
