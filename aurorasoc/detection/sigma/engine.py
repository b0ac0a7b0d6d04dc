"""In-process Sigma evaluation (spec §13.3): compiled rules, logsource/EventID prefilter, hits.

Usage::

    engine = SigmaEngine.from_paths(["../shared/data/sigma/rules/windows"])
    for hit in engine.evaluate(event):
        ...

Each event is tested only against rules whose logsource is compatible with it (a rule's ``None``
parts are wildcards; the event may carry several categories/services) and, for rules whose
detection pins ``EventID``, only when the event's EventID is one of them. Those rules are indexed once
per (logsource, EventID) and cached; within that bucket a rule whose detection implies string "trigger
atoms" runs only when one of them holds, found for all rules at once by dictionary lookups and one
Aho-Corasick scan per field value (issue 4: ≥ 10,000 events/s with parsing, see bench/detect.py).

Correlation rules are never run per event: ``engine.correlation`` (a CorrelationEngine) links them to
their base rules, by id or name across every file and text loaded into the engine, and is fed the hits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

import ahocorasick

from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.compile import EventView, event_id_of
from aurorasoc.detection.sigma.correlation import CorrelationEngine
from aurorasoc.detection.sigma.exceptions import RuleExceptionSpec
from aurorasoc.detection.sigma.logsource import WINDOWS_FORMATS, categories_for, services_for
from aurorasoc.detection.sigma.rules import CompiledRule, LoadReport, Logsource, RuleHit, compile_yaml

__all__ = ["CompiledRule", "LoadReport", "RuleHit", "SigmaEngine"]

_CandidateKey = tuple[str | None, frozenset[str], frozenset[str]]


_RuleIds = list[int]
_MAX_CACHED_BUCKETS = 4096


_KIND_SLOT = {"contains": 0, "prefix": 1, "suffix": 2}
_HASHABLE = (str, int, type(None))


class _FieldAtoms:
    """All trigger atoms of one field: exact values in a dict, everything else in one automaton.

    Substrings, prefixes and suffixes go into one Aho-Corasick automaton, so a value is scanned once
    in C however many rules (thousands for ``CommandLine``) contribute literals; a prefix counts only
    when it matches at the start, a suffix only at the end.
    """

    def __init__(self) -> None:
        self.eq: dict[str, _RuleIds] = {}
        self.literals: dict[str, tuple[_RuleIds, _RuleIds, _RuleIds]] = {}
        self.automaton: ahocorasick.Automaton | None = None

    def add(self, kind: str, literal: str, index: int) -> None:
        if kind == "eq":
            self.eq.setdefault(literal, []).append(index)
        else:
            slots = self.literals.get(literal)
            if slots is None:
                slots = self.literals[literal] = ([], [], [])
            slots[_KIND_SLOT[kind]].append(index)

    def build(self) -> None:
        """Compile the automaton once every rule of the bucket has been added."""
        if not self.literals:
            return
        automaton = ahocorasick.Automaton()
        for literal, (anywhere, prefix, suffix) in self.literals.items():
            automaton.add_word(literal, (len(literal), tuple(anywhere), tuple(prefix), tuple(suffix)))
        automaton.make_automaton()
        self.automaton = automaton

    def collect(self, text: str, found: set[int]) -> None:
        """Add to ``found`` every rule with an atom that holds for the lower-cased ``text``."""
        hit = self.eq.get(text)
        if hit:
            found.update(hit)
        if self.automaton is None:
            return
        last = len(text) - 1
        for end, (length, anywhere, prefix, suffix) in self.automaton.iter(text):
            if anywhere:
                found.update(anywhere)
            if prefix and end + 1 == length:
                found.update(prefix)
            if suffix and end == last:
                found.update(suffix)


@dataclass
class _Candidates:
    """Rules for one event logsource and EventID in load order; those with trigger atoms run only
    when an atom holds, the others (``always``) on every event of the bucket. Hits come in load order.
    """

    rules: list[CompiledRule] = field(default_factory=list)
    always: list[int] = field(default_factory=list)
    atoms: dict[str | None, _FieldAtoms] = field(default_factory=dict)  # None: keyword haystack

    @classmethod
    def of(cls, rules: Iterable[CompiledRule]) -> _Candidates:
        """The index of ``rules`` with every field's automaton compiled."""
        found = cls()
        for rule in rules:
            found.add(rule)
        for atoms in found.atoms.values():
            atoms.build()
        return found

    def add(self, rule: CompiledRule) -> None:
        index = len(self.rules)
        self.rules.append(rule)
        if rule.triggers is None:
            self.always.append(index)
            return
        for atom in rule.triggers:
            atoms = self.atoms.get(atom.field)
            if atoms is None:
                atoms = self.atoms[atom.field] = _FieldAtoms()
            atoms.add(atom.kind, atom.literal, index)

    def select(self, view: EventView) -> list[CompiledRule]:
        """Rules worth evaluating for this event."""
        if not self.atoms:
            return self.rules.copy()
        found = set(self.always)
        for name, atoms in self.atoms.items():
            text = view.texts() if name is None else view.lowered(name)
            if text is None:
                continue
            if type(text) is str:
                atoms.collect(text, found)
            else:
                for item in text:
                    atoms.collect(item, found)
        rules = self.rules
        return [rules[i] for i in sorted(found)]


def _logsources(key: _CandidateKey) -> set[Logsource]:
    """Every rule logsource compatible with an event's: each part the event's value or a wildcard."""
    product, categories, services = key
    return {(p, c, s) for p in {None, product} for c in (None, *categories) for s in (None, *services)}


class SigmaEngine:
    """A set of compiled Sigma rules evaluated against normalised events."""

    def __init__(self) -> None:
        self.rules: dict[str, CompiledRule] = {}
        self.report = LoadReport()
        self._cache: dict[tuple[_CandidateKey, int | None], _Candidates] = {}
        # Buckets with the same rules share one index (Sysmon 1 and Security 4688 differ by a few
        # rules; most EventIDs of a channel pin no rule of their own): built once, not per bucket.
        self._shared: dict[tuple[int, ...], _Candidates] = {}
        self._keys: dict[tuple[object, ...], _CandidateKey] = {}
        self._by_logsource: dict[Logsource, list[tuple[int, CompiledRule]]] | None = None
        self.correlation = CorrelationEngine()
        self.exceptions: dict[str, list[RuleExceptionSpec]] = {}

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path], *, origin: str = "sigma") -> SigmaEngine:
        """Load every ``*.yml`` under the given files/directories; bad rules are only reported."""
        engine = cls()
        engine.add_paths(paths, origin=origin)
        return engine

    def add_paths(self, paths: Iterable[str | Path], *, origin: str = "sigma") -> None:
        """Add every ``*.yml`` under the given files/directories; bad rules are only reported."""
        loaded: list[tuple[CompiledRule, str]] = []
        for base in paths:
            root = Path(base)
            files = sorted(root.rglob("*.yml")) if root.is_dir() else [root]
            for path in files:
                loaded.extend(self._load_file(path, origin))
        self._link(loaded)

    def _load_file(self, path: Path, origin: str) -> list[tuple[CompiledRule, str]]:
        try:
            rules = compile_yaml(path.read_text(encoding="utf-8"), origin)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            self.report.loaded += 1
            self.report.unsupported.append((str(path), None, str(exc)))
            return []
        for rule in rules:
            self._register(rule)
        return [(rule, str(path)) for rule in rules]

    def _link(self, loaded: list[tuple[CompiledRule, str]]) -> None:
        """Resolve correlation references across everything registered, then report ``loaded``.

        A correlation that cannot be linked (unknown or unsupported base rule) is unsupported with the
        reason; one registered before its base rules becomes runnable once they are added.
        """
        failed = self.correlation.link(self.rules)
        for rule in self.rules.values():
            if rule.correlation is not None:
                rule.supported = rule.id not in failed
                rule.reason = failed.get(rule.id)
        for rule, source in loaded:
            self.report.add(rule, source)

    def add_yaml(self, text: str, *, origin: str = "custom") -> list[CompiledRule]:
        """Compile and register the rules in ``text`` (unsupported ones are kept, never run).

        Raises ValueError with the reason when the text is not parseable Sigma YAML.
        """
        rules = compile_yaml(text, origin)
        for rule in rules:
            self._register(rule)
        self._link([(rule, origin) for rule in rules])
        return rules

    def _register(self, rule: CompiledRule) -> None:
        self.rules[rule.id] = rule
        self._cache.clear()
        self._shared.clear()
        self._by_logsource = None

    def rule(self, rule_id: str) -> CompiledRule | None:
        return self.rules.get(rule_id)

    def _candidates(self, key: _CandidateKey, eid: int | None) -> _Candidates:
        """The rules for one (logsource, EventID), indexed once and cached (bounded: ids are input)."""
        found = self._cache.get((key, eid))
        if found is None:
            if len(self._cache) >= _MAX_CACHED_BUCKETS:
                self._cache.clear()
                self._shared.clear()
            index = self._logsource_index()
            compatible = sorted(
                (item for ls in _logsources(key) for item in index.get(ls, ())), key=itemgetter(0)
            )
            chosen = [(n, r) for n, r in compatible if r.event_ids is None or eid in r.event_ids]
            signature = tuple(n for n, _ in chosen)
            found = self._shared.get(signature)
            if found is None:
                found = self._shared[signature] = _Candidates.of(rule for _, rule in chosen)
            self._cache[key, eid] = found
        return found

    def _logsource_index(self) -> dict[Logsource, list[tuple[int, CompiledRule]]]:
        """Runnable rules by their logsource triple, with their load position (built once per rule set)."""
        if self._by_logsource is None:
            index: dict[Logsource, list[tuple[int, CompiledRule]]] = {}
            for position, rule in enumerate(self.rules.values()):
                if rule.supported and rule.correlation is None:
                    index.setdefault(rule.logsource, []).append((position, rule))
            self._by_logsource = index
        return self._by_logsource

    def _event_key(self, event: NormalizedEvent) -> _CandidateKey:
        """The event's logsource names; a Windows event's depend on a handful of values, so cached."""
        fields = event.fields
        channel, eid, kind = fields.get("Channel"), fields.get("EventID"), fields.get("EventType")
        if (
            event.format not in WINDOWS_FORMATS
            or type(channel) is not str
            or not channel
            or type(eid) not in _HASHABLE
            or type(kind) not in _HASHABLE
        ):
            return self._derive_key(event)
        marker = (event.format, channel, eid, kind, event.product, event.category, event.service)
        found = self._keys.get(marker)
        if found is None:
            if len(self._keys) >= _MAX_CACHED_BUCKETS:
                self._keys.clear()
            found = self._keys[marker] = self._derive_key(event)
        return found

    @staticmethod
    def _derive_key(event: NormalizedEvent) -> _CandidateKey:
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
        return self._candidates(self._event_key(event), event_id_of(view)).select(view)

    def add_exceptions(self, specs: Iterable[RuleExceptionSpec]) -> None:
        """Tuning: hits of a rule on events one of its exceptions matches are dropped by ``evaluate``."""
        for spec in specs:
            self.exceptions.setdefault(spec.rule_uid, []).append(spec)

    def evaluate(self, event: NormalizedEvent) -> list[RuleHit]:
        """Every rule that matches ``event`` and no exception of that rule excuses."""
        view = EventView(event)
        bucket = self._candidates(self._event_key(event), event_id_of(view))
        hits = [self._hit(rule, view) for rule in bucket.select(view) if rule.matcher(view)]
        if hits and self.exceptions:
            hits = [hit for hit in hits if not self._excepted(hit.rule.id, view)]
        return hits

    def _excepted(self, rule_id: str, view: EventView) -> bool:
        return any(spec.matches(view) for spec in self.exceptions.get(rule_id, ()))

    @staticmethod
    def _hit(rule: CompiledRule, view: EventView) -> RuleHit:
        values = {name: view.get(name) for name in sorted(rule.fields)}
        return RuleHit(rule=rule, matched_fields={k: v for k, v in values.items() if v is not None})
