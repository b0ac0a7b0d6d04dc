"""In-process Sigma evaluation (spec §13.3): compiled rules, logsource/EventID prefilter, hits.

Usage::

    engine = SigmaEngine.from_paths(["../shared/data/sigma/rules/windows"])
    for hit in engine.evaluate(event):
        ...

Each event is tested only against rules whose logsource is compatible with it (a rule's ``None``
parts are wildcards; the event may carry several categories/services) and, for rules whose
detection pins ``EventID``, only when the event's EventID is one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aurorasoc.detection.logsource import categories_for, services_for
from aurorasoc.detection.sigma_compile import EventView, event_id_of
from aurorasoc.detection.sigma_rules import CompiledRule, LoadReport, compile_yaml
from aurorasoc.models.domain import NormalizedEvent

__all__ = ["CompiledRule", "LoadReport", "RuleHit", "SigmaEngine"]

_CandidateKey = tuple[str | None, frozenset[str], frozenset[str]]


@dataclass
class RuleHit:
    """A rule that matched an event, with the event's values of the fields the rule reads."""

    rule: CompiledRule
    matched_fields: dict[str, Any] = field(default_factory=dict)


_RuleIds = list[int]


class _FieldAtoms:
    """All trigger atoms of one field: exact values, prefixes/suffixes by length, substrings by trigram."""

    def __init__(self) -> None:
        self.eq: dict[str, _RuleIds] = {}
        self.prefix: dict[int, dict[str, _RuleIds]] = {}
        self.suffix: dict[int, dict[str, _RuleIds]] = {}
        self.trigrams: dict[str, dict[str, _RuleIds]] = {}
        self.short: dict[str, _RuleIds] = {}

    def add(self, kind: str, literal: str, index: int) -> None:
        if kind == "eq":
            self.eq.setdefault(literal, []).append(index)
        elif kind in ("prefix", "suffix"):
            table = self.prefix if kind == "prefix" else self.suffix
            table.setdefault(len(literal), {}).setdefault(literal, []).append(index)
        elif len(literal) < 3:
            self.short.setdefault(literal, []).append(index)
        else:  # index a substring under its least-used trigram
            grams = {literal[i : i + 3] for i in range(len(literal) - 2)}
            gram = min(sorted(grams), key=lambda g: len(self.trigrams.get(g, ())))
            self.trigrams.setdefault(gram, {}).setdefault(literal, []).append(index)

    def collect(self, text: str, found: set[int]) -> None:
        """Add to ``found`` every rule with an atom that holds for the lower-cased ``text``."""
        hit = self.eq.get(text)
        if hit:
            found.update(hit)
        size = len(text)
        for length, table in self.prefix.items():
            if length <= size and (hit := table.get(text[:length])):
                found.update(hit)
        for length, table in self.suffix.items():
            if length <= size and (hit := table.get(text[size - length :])):
                found.update(hit)
        for literal, ids in self.short.items():
            if literal in text:
                found.update(ids)
        if self.trigrams and size >= 3:
            grams = {text[i : i + 3] for i in range(size - 2)}
            for gram in grams.intersection(self.trigrams):
                for literal, ids in self.trigrams[gram].items():
                    if literal in text:
                        found.update(ids)


@dataclass
class _Candidates:
    """Rules for one event logsource, split into always-run, EventID-pinned and atom-triggered."""

    rules: list[CompiledRule] = field(default_factory=list)
    always: list[CompiledRule] = field(default_factory=list)
    by_event_id: dict[int, list[CompiledRule]] = field(default_factory=dict)
    atoms: dict[str, _FieldAtoms] = field(default_factory=dict)

    def add(self, rule: CompiledRule) -> None:
        self.rules.append(rule)
        if rule.triggers is not None:
            for atom in rule.triggers:
                assert atom.field is not None
                self.atoms.setdefault(atom.field, _FieldAtoms()).add(
                    atom.kind, atom.literal, len(self.rules) - 1
                )
        elif rule.event_ids is None:
            self.always.append(rule)
        else:
            for eid in rule.event_ids:
                self.by_event_id.setdefault(eid, []).append(rule)

    def select(self, view: EventView, eid: int | None) -> list[CompiledRule]:
        """Rules worth evaluating for this event."""
        found: set[int] = set()
        for name, atoms in self.atoms.items():
            text = view.lowered(name)
            if text is None:
                continue
            for item in (text,) if type(text) is str else text:
                atoms.collect(item, found)
        triggered = [self.rules[i] for i in sorted(found)]
        selected = self.always + [r for r in triggered if r.event_ids is None or eid in r.event_ids]
        if eid is not None:
            selected += self.by_event_id.get(eid, ())
        return selected


def _compatible(rule: CompiledRule, key: _CandidateKey) -> bool:
    product, categories, services = key
    rp, rc, rs = rule.logsource
    return (
        (rp is None or rp == product) and (rc is None or rc in categories) and (rs is None or rs in services)
    )


class SigmaEngine:
    """A set of compiled Sigma rules evaluated against normalised events."""

    def __init__(self) -> None:
        self.rules: dict[str, CompiledRule] = {}
        self.report = LoadReport()
        self._cache: dict[_CandidateKey, _Candidates] = {}

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path], *, origin: str = "sigma") -> SigmaEngine:
        """Load every ``*.yml`` under the given files/directories; bad rules are only reported."""
        engine = cls()
        for base in paths:
            root = Path(base)
            files = sorted(root.rglob("*.yml")) if root.is_dir() else [root]
            for path in files:
                engine._load_file(path, origin)
        return engine

    def _load_file(self, path: Path, origin: str) -> None:
        try:
            rules = compile_yaml(path.read_text(encoding="utf-8"), origin)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            self.report.loaded += 1
            self.report.unsupported.append((str(path), None, str(exc)))
            return
        for rule in rules:
            self.report.add(rule, str(path))
            self._register(rule)

    def add_yaml(self, text: str, *, origin: str = "custom") -> list[CompiledRule]:
        """Compile and register the rules in ``text`` (unsupported ones are kept, never run).

        Raises ValueError with the reason when the text is not parseable Sigma YAML.
        """
        rules = compile_yaml(text, origin)
        for rule in rules:
            self.report.add(rule, origin)
            self._register(rule)
        return rules

    def _register(self, rule: CompiledRule) -> None:
        self.rules[rule.id] = rule
        self._cache.clear()

    def rule(self, rule_id: str) -> CompiledRule | None:
        return self.rules.get(rule_id)

    def _candidates(self, key: _CandidateKey) -> _Candidates:
        found = self._cache.get(key)
        if found is None:
            found = _Candidates()
            for rule in self.rules.values():
                if rule.supported and _compatible(rule, key):
                    found.add(rule)
            self._cache[key] = found
        return found

    @staticmethod
    def _event_key(event: NormalizedEvent) -> _CandidateKey:
        categories = categories_for(event.fields, event.format)
        services = services_for(event.fields, event.format)
        if event.category:
            categories.add(event.category)
        if event.service:
            services.add(event.service)
        product = event.product.lower() if event.product else None
        return (
            product,
            frozenset(c.lower() for c in categories),
            frozenset(s.lower() for s in services),
        )

    def candidates(self, event: NormalizedEvent) -> list[CompiledRule]:
        """The rules ``evaluate`` tests against ``event`` after the logsource/EventID/atom prefilter."""
        view = EventView(event)
        return self._candidates(self._event_key(event)).select(view, event_id_of(view))

    def evaluate(self, event: NormalizedEvent) -> list[RuleHit]:
        """Every rule that matches ``event``."""
        view = EventView(event)
        bucket = self._candidates(self._event_key(event))
        return [
            self._hit(rule, view) for rule in bucket.select(view, event_id_of(view)) if rule.matcher(view)
        ]

    @staticmethod
    def _hit(rule: CompiledRule, view: EventView) -> RuleHit:
        values = {name: view.get(name) for name in sorted(rule.fields)}
        return RuleHit(rule=rule, matched_fields={k: v for k, v in values.items() if v is not None})
