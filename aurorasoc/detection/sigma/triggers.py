"""Trigger atoms: string tests one of which must hold whenever a rule matches (the engine's prefilter).

The engine evaluates a rule only when one of its atoms holds, checking the atoms of all candidate rules
at once (dictionary lookups and one Aho-Corasick scan per field value). An atom is a *necessary*
condition on the lower-cased field value (``field=None``: the lower-cased message or raw text), so the
prefilter never changes what fires, only how many predicates run:

- plain values, prefixes, suffixes and substrings are atoms as they are;
- a value with inner wildcards (``whoami*>``) needs its longest literal run as a substring;
- a case-sensitive regular expression needs its longest unconditional ASCII literal run (ASCII text
  lower-cases character by character, so the run is also in the lower-cased value). Case-insensitive
  expressions get no atom: Unicode folding (U+017F LONG S matches ``s``) is not ``str.lower``.

Derived atoms shorter than ``_MIN_DERIVED`` are not used: a two-letter substring fires on nearly every
value and costs more in scan hits than running the rule.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import SigmaCasedString, SigmaExpansion, SigmaRegularExpression, SigmaString

from aurorasoc.detection.sigma.compile import StrTest, string_test

# The stdlib's own regex parser (the one ``re.compile`` uses); typeshed has no stubs for it.
_sre_parser: Any = importlib.import_module("re._parser")
_LITERAL: Any = importlib.import_module("re._constants").LITERAL
_STRONG_KINDS = frozenset({"eq", "prefix", "suffix", "contains"})
_MIN_DERIVED = 3
_SHORT = 8  # literals shorter than this are assumed to be common (".exe", "\\", "cmd")


def _longest(runs: list[str]) -> str:
    return max(runs, key=len, default="")


def _wildcard_literal(value: SigmaString) -> str:
    """Longest run of literal text between wildcards, lower-cased."""
    runs, current = [], ""
    for part in value.s:
        if isinstance(part, str):
            current += part
        else:
            runs.append(current)
            current = ""
    runs.append(current)
    return _longest(runs).lower()


def regex_literal(pattern: str, flags: int) -> str:
    """Longest ASCII literal every match of a case-sensitive ``pattern`` contains ("" when none)."""
    try:
        parsed = _sre_parser.parse(pattern, flags)
    except (re.error, RecursionError, OverflowError):
        return ""
    if (parsed.state.flags | flags) & re.IGNORECASE:
        return ""
    runs, current = [], ""
    for opcode, argument in parsed.data:
        if opcode is _LITERAL and argument < 128:
            current += chr(argument)
        else:
            runs.append(current)
            current = ""
    runs.append(current)
    return _longest(runs).lower()


def _value_atom(field: str | None, value: Any) -> StrTest | None:
    """The atom one value of a field (or keyword) comparison needs, or None when there is none."""
    if isinstance(value, SigmaRegularExpression):
        flags = 0
        for flag in value.flags:
            flags |= value.sigma_to_python_flags[flag]
        literal = regex_literal(str(value.regexp), flags)
        return StrTest(field, "contains", literal) if len(literal) >= _MIN_DERIVED else None
    if not isinstance(value, SigmaString) or isinstance(value, SigmaCasedString):
        return None
    atom = string_test(field, value)
    if atom.kind == "regex":
        literal = _wildcard_literal(value)
        return StrTest(field, "contains", literal) if len(literal) >= _MIN_DERIVED else None
    if atom.kind not in _STRONG_KINDS or not (atom.literal or atom.kind == "eq"):
        return None
    return atom


def trigger_atoms(node: Any) -> frozenset[StrTest] | None:
    """String tests at least one of which holds whenever ``node`` matches (None: no such set)."""
    if isinstance(node, (ConditionFieldEqualsValueExpression, ConditionValueExpression)):
        field = node.field if isinstance(node, ConditionFieldEqualsValueExpression) else None
        values = node.value.values if isinstance(node.value, SigmaExpansion) else [node.value]
        atoms: set[StrTest] = set()
        for value in values:
            atom = _value_atom(field, value)
            if atom is None:
                return None
            atoms.add(atom)
        return frozenset(atoms)
    if isinstance(node, ConditionOR):
        branches = [trigger_atoms(arg) for arg in node.args]
        if any(branch is None for branch in branches):
            return None
        return frozenset().union(*(b for b in branches if b is not None))
    if isinstance(node, ConditionAND):
        options = [t for t in (trigger_atoms(arg) for arg in node.args) if t is not None]
        return min(options, key=_weakness) if options else None
    return None


def _weakness(atoms: frozenset[StrTest]) -> int:
    """Lower is better: few, exact, long literals trigger few needless evaluations.

    ``Image|endswith: '.exe'`` beside ``Image|contains: '\\EDR-Freeze'`` must lose, or the rule runs on
    every process start: short literals cost more than long ones, exact values least.
    """
    return sum((1 if atom.kind == "eq" else 2) + 2 * max(0, _SHORT - len(atom.literal)) for atom in atoms)


__all__ = ["regex_literal", "trigger_atoms"]
