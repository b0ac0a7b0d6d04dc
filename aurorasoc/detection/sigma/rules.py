"""Turn Sigma YAML into :class:`CompiledRule` objects and account for every rule in a :class:`LoadReport`.

Parsing is pySigma's (``SigmaCollection.from_dicts`` over YAML read with the C loader when available);
compilation is :mod:`aurorasoc.detection.sigma.compile`. Nothing here raises for a bad rule: it is
returned with ``supported=False`` and a reason instead.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import yaml
from sigma.collection import SigmaCollection
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
)
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule
from sigma.types import SigmaExpansion, SigmaFieldReference, SigmaNumber, SigmaString

from aurorasoc.detection.sigma.compile import (
    EventView,
    Matcher,
    StrTest,
    Unsupported,
    compile_condition,
)
from aurorasoc.detection.sigma.correlation_spec import CorrelationSpec, correlation_spec, pysigma_view
from aurorasoc.detection.sigma.triggers import trigger_atoms

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Logsource = tuple[str | None, str | None, str | None]


def _never(view: EventView) -> bool:
    return False


@dataclass(eq=False)
class CompiledRule:
    """A Sigma rule's metadata plus its compiled predicate (``supported=False`` never matches)."""

    id: str
    title: str
    level: str | None
    tags: list[str]
    logsource: Logsource
    description: str | None = None
    status: str | None = None
    origin: str = "custom"
    supported: bool = True
    reason: str | None = None
    event_ids: frozenset[int] | None = None
    fields: frozenset[str] = frozenset()
    triggers: frozenset[StrTest] | None = None
    matcher: Matcher = field(default=_never, repr=False)
    name: str | None = None
    correlation: CorrelationSpec | None = None

    def matches(self, view: EventView) -> bool:
        return self.matcher(view)


@dataclass
class LoadReport:
    """Counts of rule documents seen and compiled, plus every unsupported one with its reason."""

    loaded: int = 0
    compiled: int = 0
    unsupported: list[tuple[str, str | None, str]] = field(default_factory=list)

    @property
    def compile_ratio(self) -> float:
        return self.compiled / self.loaded if self.loaded else 1.0

    def add(self, rule: CompiledRule, source: str) -> None:
        self.loaded += 1
        if rule.supported:
            self.compiled += 1
        else:
            self.unsupported.append((source, rule.id or None, rule.reason or "unsupported"))


def _logsource(rule: SigmaRule) -> Logsource:
    src = rule.logsource

    def low(value: str | None) -> str | None:
        return value.lower() if value else None

    return (low(src.product), low(src.category), low(src.service))


def _metadata(rule: SigmaRule | SigmaCorrelationRule, doc: Any, origin: str) -> dict[str, Any]:
    """Common CompiledRule keyword arguments; rules without an id get a content-derived one."""
    if rule.id is not None:
        rule_id = str(rule.id)
    else:
        digest = json.dumps([doc, rule.title], sort_keys=True, default=str)
        rule_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"aurorasoc-sigma:{digest}"))
    return {
        "id": rule_id,
        "title": rule.title or rule_id,
        "level": str(rule.level) if rule.level else None,
        "tags": [str(tag) for tag in rule.tags],
        "description": rule.description,
        "status": str(rule.status) if rule.status else None,
        "origin": origin,
        "name": rule.name,
    }


def referenced_fields(node: Any) -> set[str]:
    """Every field name a condition tree reads (used to report the matched fields of a hit)."""
    if isinstance(node, ConditionFieldEqualsValueExpression):
        found = {node.field}
        if isinstance(node.value, SigmaFieldReference):
            found.add(node.value.field)
        return found
    if isinstance(node, (ConditionAND, ConditionOR, ConditionNOT)):
        return set().union(*(referenced_fields(arg) for arg in node.args))
    return set()


def _eventid_literal(value: Any) -> int | None:
    if isinstance(value, SigmaNumber) and isinstance(value.number, int):
        return value.number
    if isinstance(value, SigmaString) and not value.contains_special():
        text = value.original.strip()
        return int(text) if text.isdigit() else None
    return None


def required_event_ids(node: Any) -> frozenset[int] | None:
    """EventIDs one of which every match needs, or None when the condition does not pin them."""
    if isinstance(node, ConditionFieldEqualsValueExpression):
        if node.field.lower() != "eventid":
            return None
        values = node.value.values if isinstance(node.value, SigmaExpansion) else [node.value]
        literals = [_eventid_literal(v) for v in values]
        return None if None in literals else frozenset(v for v in literals if v is not None)
    if isinstance(node, ConditionOR):
        branches = [required_event_ids(arg) for arg in node.args]
        if any(branch is None for branch in branches):
            return None
        return frozenset().union(*(b for b in branches if b is not None))
    if isinstance(node, ConditionAND):
        pinned = [p for p in (required_event_ids(arg) for arg in node.args) if p is not None]
        if not pinned:
            return None
        return frozenset.intersection(*pinned)
    return None


def compile_rule(rule: SigmaRule, doc: Any, origin: str) -> CompiledRule:
    """Compile one parsed pySigma rule; any failure becomes ``supported=False`` with a reason."""
    meta = _metadata(rule, doc, origin)
    try:
        logsource = _logsource(rule)
        if rule.errors:
            raise Unsupported(f"invalid rule: {rule.errors[0]}")
        trees = [condition.parsed for condition in rule.detection.parsed_condition]
        matcher = compile_condition(trees)
        pins = [required_event_ids(tree) for tree in trees]
        event_ids = None if any(p is None for p in pins) else frozenset().union(*pins)  # type: ignore[arg-type]
        fields = frozenset().union(*(referenced_fields(tree) for tree in trees))
        triggers = trigger_atoms(ConditionOR(trees)) if len(trees) > 1 else trigger_atoms(trees[0])
    except (Unsupported, SigmaError) as exc:
        return CompiledRule(**meta, logsource=(None, None, None), supported=False, reason=str(exc))
    except Exception as exc:
        reason = f"compile error: {type(exc).__name__}: {exc}"
        return CompiledRule(**meta, logsource=(None, None, None), supported=False, reason=reason)
    return CompiledRule(
        **meta,
        logsource=logsource,
        event_ids=event_ids,
        fields=fields,
        triggers=triggers,
        matcher=matcher,
    )


def compile_yaml(text: str, origin: str) -> list[CompiledRule]:
    """Compile every rule document in ``text``; raises ValueError when the YAML itself is unusable."""
    try:
        docs = [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.YAMLError as exc:
        raise ValueError(f"invalid YAML: {exc}") from exc
    if not docs or not all(isinstance(doc, dict) for doc in docs):
        raise ValueError("not a Sigma rule: expected one or more YAML mappings")
    try:
        # References are resolved by the engine, which also sees rules from other files and texts.
        collection = SigmaCollection.from_dicts(
            [pysigma_view(doc) for doc in docs], collect_errors=True, resolve_references=False
        )
    except SigmaError as exc:
        raise ValueError(f"invalid Sigma collection: {exc}") from exc
    if collection.errors and not collection.rules:
        raise ValueError(f"invalid Sigma collection: {collection.errors[0]}")
    plain_docs = [doc for doc in docs if "action" not in doc]
    result: list[CompiledRule] = []
    for index, item in enumerate(collection.rules):
        doc = plain_docs[index] if index < len(plain_docs) else None
        if isinstance(item, SigmaRule):
            result.append(compile_rule(item, doc, origin))
        elif isinstance(item, SigmaCorrelationRule):
            result.append(compile_correlation(item, doc, origin))
    return result


def compile_correlation(rule: SigmaCorrelationRule, doc: Any, origin: str) -> CompiledRule:
    """A correlation rule: never matches an event itself; the engine links it to its base rules."""
    meta = _metadata(rule, doc, origin)
    try:
        spec = correlation_spec(rule, doc)
    except (Unsupported, SigmaError) as exc:
        return CompiledRule(**meta, logsource=(None, None, None), supported=False, reason=str(exc))
    return CompiledRule(**meta, logsource=(None, None, None), correlation=spec)


@dataclass
class RuleHit:
    """A rule that matched an event, with the event's values of the fields the rule reads."""

    rule: CompiledRule
    matched_fields: dict[str, Any] = field(default_factory=dict)
