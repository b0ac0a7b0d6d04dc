"""Compile pySigma's parsed condition trees into plain Python predicates.

Each rule is compiled once; evaluation then works on an :class:`EventView`, which caches the
lower-cased field values of one event so that many rules share the string normalisation work.
"""

from __future__ import annotations

import ipaddress
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import ahocorasick
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
)

from aurorasoc.core.vocabulary import NormalizedEvent

_MISSING: Any = object()
_SHAPES: dict[tuple[str, ...], dict[str, str]] = {}
_MAX_SHAPES = 4096
_SCAN_NEEDLES = 8  # more substrings than this: one automaton scan instead of a loop
Matcher = Callable[["EventView"], bool]


class Unsupported(Exception):
    """A rule uses a Sigma feature the in-process engine cannot evaluate."""


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _to_number(value: Any) -> float | None:
    """Numeric view of a field value (EventID 4688 and "4688" compare equal)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text, 16) if text[:2].lower() == "0x" else float(text)
        except ValueError:
            return None
    return None


def _lower_keys(fields: dict[str, Any]) -> dict[str, str]:
    """Lower-cased key -> first key of that spelling, shared by every event with the same key set.

    Events of one provider and EventID carry the same keys in the same order, so the map is built once
    per shape rather than once per event; the cache is bounded because shapes come from input.
    """
    shape = tuple(fields)
    keys = _SHAPES.get(shape)
    if keys is None:
        if len(_SHAPES) >= _MAX_SHAPES:
            _SHAPES.clear()
        keys = _SHAPES[shape] = {}
        for key in shape:
            keys.setdefault(key.lower(), key)
    return keys


class EventView:
    """One event's fields with lazy case-insensitive lookup and a lower-cased value cache."""

    __slots__ = ("_keys", "_lowered", "_texts", "event", "fields")

    def __init__(self, event: NormalizedEvent) -> None:
        self.event = event
        self.fields = event.fields
        self._keys: dict[str, str] | None = None
        self._lowered: dict[str, Any] = {}
        self._texts: tuple[str, ...] | None = None

    def value(self, name: str) -> Any:
        """Exact key first, then a case-insensitive match; ``_MISSING`` when absent."""
        fields = self.fields
        if name in fields:
            return fields[name]
        keys = self._keys
        if keys is None:
            keys = self._keys = _lower_keys(fields)
        found = keys.get(name.lower())
        return _MISSING if found is None else fields[found]

    def get(self, name: str) -> Any:
        """The field's value, or None when absent."""
        value = self.value(name)
        return None if value is _MISSING else value

    def lowered(self, name: str) -> Any:
        """Lower-cased text of a field: a str, a tuple of str for lists, or None when absent."""
        cache = self._lowered
        if name in cache:
            return cache[name]
        value = self.value(name)
        result: Any
        if value is _MISSING or value is None:
            result = None
        elif isinstance(value, (list, tuple)):
            result = tuple(_to_text(item).lower() for item in value if item is not None)
        else:
            result = _to_text(value).lower()
        cache[name] = result
        return result

    def texts(self) -> tuple[str, ...]:
        """Lower-cased message and raw text, the haystack of keyword detections."""
        if self._texts is None:
            parts = (self.event.message, self.event.raw)
            self._texts = tuple(part.lower() for part in parts if part)
        return self._texts


def _values(view: EventView, name: str) -> list[Any]:
    value = view.value(name)
    if value is _MISSING or value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


@dataclass(frozen=True)
class StrTest:
    """A case-insensitive string test on one field; OR-ed siblings merge into one check."""

    field: str | None  # None: keyword search over message/raw
    kind: str  # "eq" | "prefix" | "suffix" | "contains" | "any" | "regex"
    literal: str


def _parts(value: SigmaString) -> list[str | SpecialChars]:
    """The value's literal/wildcard parts with runs of ``*`` collapsed."""
    parts: list[str | SpecialChars] = []
    for part in value.s:
        if not isinstance(part, (str, SpecialChars)):
            name = getattr(part, "name", part)
            raise Unsupported(f"placeholder %{name}% needs a value from a processing pipeline")
        if part is SpecialChars.WILDCARD_MULTI and parts and parts[-1] is part:
            continue
        parts.append(part)
    return parts


def _pattern(parts: list[str | SpecialChars], lower: bool) -> str:
    return "".join(
        re.escape(p.lower() if lower else p)
        if isinstance(p, str)
        else (".*" if p is SpecialChars.WILDCARD_MULTI else ".")
        for p in parts
    )


def string_test(field: str | None, value: SigmaString) -> StrTest:
    star = SpecialChars.WILDCARD_MULTI
    parts = _parts(value)
    if field is None:  # keywords are substring searches
        parts = [*([] if parts[:1] == [star] else [star]), *parts]
        parts = [*parts, *([] if parts[-1:] == [star] else [star])]
    texts = [p.lower() for p in parts if isinstance(p, str)]
    specials = [p for p in parts if not isinstance(p, str)]
    if not specials:
        return StrTest(field, "eq", "".join(texts))
    if parts == [star]:
        return StrTest(field, "any", "")
    if len(texts) == 1 and specials == [star] * len(specials):
        if parts[0] is star and len(parts) == 2:
            return StrTest(field, "suffix", texts[0])
        if parts[-1] is star and len(parts) == 2:
            return StrTest(field, "prefix", texts[0])
        if len(parts) == 3 and parts[1] is not star:
            return StrTest(field, "contains", texts[0])
    return StrTest(field, "regex", _pattern(parts, lower=True))


def _first_true(checks: list[Callable[[Any], bool]]) -> Callable[[Any], bool]:
    """OR of predicates as one plain loop: cheaper per call than ``any()`` over a generator."""
    if len(checks) == 1:
        return checks[0]
    items = tuple(checks)

    def check(arg: Any) -> bool:
        for item in items:  # noqa: SIM110 - no generator per call on the hot path
            if item(arg):
                return True
        return False

    return check


def _contains_any(needles: list[str]) -> Callable[[str], bool]:
    """Substring test for many needles: one Aho-Corasick scan past a handful, else ``in`` per needle."""
    if len(needles) > _SCAN_NEEDLES:
        automaton = ahocorasick.Automaton()
        for needle in needles:
            automaton.add_word(needle, needle)
        automaton.make_automaton()
        return lambda text: next(automaton.iter(text), None) is not None
    items = tuple(needles)

    def check(text: str) -> bool:
        for needle in items:  # noqa: SIM110 - no generator per call on the hot path
            if needle in text:
                return True
        return False

    return check


def _text_predicate(tests: list[StrTest]) -> Callable[[str], bool]:
    """One predicate over a lower-cased string for OR-ed tests of the same field."""
    by_kind: dict[str, list[str]] = {}
    for test in tests:
        by_kind.setdefault(test.kind, []).append(test.literal)
    checks: list[Callable[[str], bool]] = []
    if "any" in by_kind:
        return lambda text: True
    if "eq" in by_kind:
        checks.append(frozenset(by_kind["eq"]).__contains__)
    if "prefix" in by_kind:
        checks.append(operator.methodcaller("startswith", tuple(by_kind["prefix"])))
    if "suffix" in by_kind:
        checks.append(operator.methodcaller("endswith", tuple(by_kind["suffix"])))
    if "contains" in by_kind:
        checks.append(_contains_any(by_kind["contains"]))
    if "regex" in by_kind:
        compiled = re.compile("|".join(f"(?:{p})" for p in by_kind["regex"]), re.DOTALL)
        checks.append(lambda text: compiled.fullmatch(text) is not None)
    return _first_true(checks)


def _str_matcher(tests: list[StrTest]) -> Matcher:
    check = _text_predicate(tests)
    field = tests[0].field
    if field is None:
        return lambda view: any(check(text) for text in view.texts())

    def match(view: EventView) -> bool:
        text = view.lowered(field)
        if text is None:
            return False
        if type(text) is str:
            return check(text)
        return any(check(item) for item in text)

    return match


def _cased_matcher(field: str, value: SigmaCasedString) -> Matcher:
    compiled = re.compile(_pattern(_parts(value), lower=False), re.DOTALL)
    return lambda view: any(compiled.fullmatch(_to_text(v)) for v in _values(view, field))


def _number_matcher(field: str, number: float) -> Matcher:
    def match(view: EventView) -> bool:
        return any(_to_number(v) == number for v in _values(view, field))

    return match


def _regex_matcher(field: str | None, value: SigmaRegularExpression) -> Matcher:
    flag_map = value.sigma_to_python_flags
    flags = 0
    for flag in value.flags:
        flags |= flag_map[flag]
    try:
        compiled = re.compile(str(value.regexp), flags)
    except re.error as exc:
        raise Unsupported(f"invalid regular expression: {exc}") from exc
    if field is None:
        return lambda view: any(compiled.search(t) for t in (view.event.message, view.event.raw) if t)
    return lambda view: any(compiled.search(_to_text(v)) for v in _values(view, field))


def _cidr_matcher(field: str, value: SigmaCIDRExpression) -> Matcher:
    network = value.network

    def match(view: EventView) -> bool:
        for item in _values(view, field):
            try:
                if ipaddress.ip_address(_to_text(item).strip()) in network:
                    return True
            except ValueError:
                continue
        return False

    return match


_COMPARE: dict[CompareOperators, Callable[[Any, Any], bool]] = {
    CompareOperators.LT: operator.lt,
    CompareOperators.LTE: operator.le,
    CompareOperators.GT: operator.gt,
    CompareOperators.GTE: operator.ge,
    CompareOperators.NEQ: operator.ne,
}


def _compare_matcher(field: str, value: SigmaCompareExpression) -> Matcher:
    compare, bound = _COMPARE[value.op], value.number.number

    def match(view: EventView) -> bool:
        numbers = [_to_number(v) for v in _values(view, field)]
        return any(n is not None and compare(n, bound) for n in numbers)

    return match


def _fieldref_matcher(field: str, value: SigmaFieldReference) -> Matcher:
    other, starts, ends = value.field, value.starts_with, value.ends_with

    def match(view: EventView) -> bool:
        left, right = view.lowered(field), view.lowered(other)
        if not isinstance(left, str) or not isinstance(right, str):
            return False
        if starts or ends:
            return (not starts or left.startswith(right)) and (not ends or left.endswith(right))
        return left == right

    return match


def _null_matcher(field: str) -> Matcher:
    return lambda view: view.lowered(field) in (None, "", ())


def _exists_matcher(field: str, exists: bool) -> Matcher:
    return lambda view: (view.lowered(field) is not None) == exists


def _bool_matcher(field: str, expected: bool) -> Matcher:
    text = _to_text(expected)
    return lambda view: any(_to_text(v).lower() == text for v in _values(view, field))


def _leaf(field: str | None, value: Any) -> Matcher | StrTest:
    """Compile one field/value (or keyword) comparison."""
    if isinstance(value, SigmaExpansion):
        return _or([_leaf(field, item) for item in value.values])
    if isinstance(value, SigmaCasedString):
        if field is None:
            raise Unsupported("case-sensitive keyword")
        return _cased_matcher(field, value)
    if isinstance(value, SigmaString):
        return string_test(field, value)
    if isinstance(value, SigmaRegularExpression):
        return _regex_matcher(field, value)
    if field is None and isinstance(value, SigmaNumber):
        return string_test(None, SigmaString(str(value.number)))
    if field is None:
        raise Unsupported(f"keyword value of type {type(value).__name__}")
    if isinstance(value, SigmaTimestampPart):
        raise Unsupported("timestamp modifiers (minute/hour/day/...)")
    if isinstance(value, SigmaNumber):
        return _number_matcher(field, value.number)
    if isinstance(value, SigmaBool):
        return _bool_matcher(field, value.boolean)
    if isinstance(value, SigmaNull):
        return _null_matcher(field)
    if isinstance(value, SigmaExists):
        return _exists_matcher(field, value.exists)
    if isinstance(value, SigmaCIDRExpression):
        return _cidr_matcher(field, value)
    if isinstance(value, SigmaCompareExpression):
        return _compare_matcher(field, value)
    if isinstance(value, SigmaFieldReference):
        return _fieldref_matcher(field, value)
    raise Unsupported(f"value type {type(value).__name__}")


def _as_matcher(node: Matcher | StrTest) -> Matcher:
    return _str_matcher([node]) if isinstance(node, StrTest) else node


def _or(nodes: list[Matcher | StrTest]) -> Matcher:
    """OR with same-field string tests merged into one check (set lookup, tuple endswith...)."""
    groups: dict[str | None, list[StrTest]] = {}
    matchers: list[Matcher] = []
    for node in nodes:
        if isinstance(node, StrTest):
            groups.setdefault(node.field, []).append(node)
        else:
            matchers.append(node)
    return _first_true([_str_matcher(tests) for tests in groups.values()] + matchers)


def _and(nodes: list[Matcher | StrTest]) -> Matcher:
    items = tuple(_as_matcher(node) for node in nodes)
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        first, second = items
        return lambda view: first(view) and second(view)

    def match(view: EventView) -> bool:
        for item in items:  # noqa: SIM110 - no generator per call on the hot path
            if not item(view):
                return False
        return True

    return match


def _compile(node: Any) -> Matcher | StrTest:
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _leaf(node.field, node.value)
    if isinstance(node, ConditionValueExpression):
        return _leaf(None, node.value)
    if isinstance(node, ConditionOR):
        return _or([_compile(arg) for arg in node.args])
    if isinstance(node, ConditionAND):
        return _and([_compile(arg) for arg in node.args])
    if isinstance(node, ConditionNOT):
        inner = _as_matcher(_compile(node.args[0]))
        return lambda view: not inner(view)
    raise Unsupported(f"condition element {type(node).__name__}")


def compile_condition(trees: Iterable[Any]) -> Matcher:
    """Compile the parsed condition(s) of a rule; several conditions are OR-ed (legacy lists)."""
    return _or([_as_matcher(_compile(tree)) for tree in trees])


def event_id_of(view: EventView) -> int | None:
    """The event's EventID as an int (fields carry it as int or numeric string)."""
    value = view.value("EventID")
    number = _to_number(value) if value is not _MISSING else None
    return int(number) if number is not None and number == int(number) else None


__all__ = [
    "EventView",
    "Matcher",
    "StrTest",
    "Unsupported",
    "compile_condition",
    "event_id_of",
    "string_test",
]
