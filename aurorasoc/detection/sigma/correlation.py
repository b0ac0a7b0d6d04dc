"""Sigma correlation rules over sliding windows of rule hits (spec §13.7).

Supported types: ``event_count``, ``value_count`` (distinct values of ``condition.field``), ``temporal``
(distinct referenced rules) and ``temporal_ordered`` (the referenced rules in the listed order).

Stream semantics, per (correlation, group-by values):

* Windows use event timestamps. A hit more than ``TOLERANCE_SECONDS`` older than the newest hit of its
  group is dropped as too late; hits within that tolerance are inserted in time order.
* Conditions that only grow (``gt``/``gte``, the temporal default) fire as soon as some window of
  ``timespan`` holds enough; the group is then reset, so one burst gives one hit per window.
* Conditions with an upper bound (``lt``/``lte``/``eq``/``neq``, or a range such as ``{gte: 2, lte: 5}``)
  can only be judged once a window is complete: a window opens at a group's first hit, spans
  ``timespan`` and is evaluated when the clock (the newest event timestamp seen by :meth:`observe`)
  passes its end plus the tolerance. Groups never seen never open a window, so "fewer than N" means
  "at least one but fewer than N". A late historical file can close windows of its own early.
* A hit whose event lacks a group-by field (or has it empty / ``-``) is not counted.
* Per correlation at most ``MAX_GROUPS`` groups are kept (least recently touched evicted first) and
  at most ``MAX_ENTRIES`` hits per group.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right, insort
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.compile import EventView
from aurorasoc.detection.sigma.correlation_spec import CorrelationSpec
from aurorasoc.detection.sigma.rules import CompiledRule, RuleHit
from aurorasoc.intel.extraction import extract_iocs

TOLERANCE_SECONDS = 300.0
MAX_GROUPS = 100_000
MAX_ENTRIES = 10_000
_EMPTY_VALUES = frozenset({"", "-"})


@dataclass(frozen=True, slots=True)
class Contribution:
    """One base-rule hit as kept in a window (small: events themselves are not kept)."""

    ts: float
    log_id: str
    rule_id: str
    key: Hashable
    host: str | None
    user: str | None
    source: str
    iocs: tuple[str, ...]


def _time(entry: Contribution) -> float:
    return entry.ts


@dataclass
class CorrelationHit:
    """A correlation rule that fired for one group, with the hits that made it fire."""

    rule: CompiledRule
    bases: tuple[CompiledRule, ...]
    group: dict[str, str]
    count: int
    contributions: list[Contribution]

    @property
    def start(self) -> datetime:
        return datetime.fromtimestamp(self.contributions[0].ts, UTC)

    @property
    def end(self) -> datetime:
        return datetime.fromtimestamp(self.contributions[-1].ts, UTC)


@dataclass
class _Window:
    entries: list[Contribution] = field(default_factory=list)
    keys: Counter[Hashable] = field(default_factory=Counter)
    newest: float = float("-inf")
    closes_at: float | None = None

    def add(self, entry: Contribution, span: float) -> None:
        insort(self.entries, entry, key=_time)
        self.keys[entry.key] += 1
        self.newest = max(self.newest, entry.ts)
        stale = bisect_left(self.entries, self.newest - span - TOLERANCE_SECONDS, key=_time)
        self.remove(max(stale, len(self.entries) - MAX_ENTRIES))

    def remove(self, count: int) -> list[Contribution]:
        """Drop the ``count`` oldest entries and return them."""
        gone, self.entries = self.entries[:count], self.entries[count:]
        for entry in gone:
            self.keys[entry.key] -= 1
            if not self.keys[entry.key]:
                del self.keys[entry.key]
        return gone


def _text(value: Any) -> str | None:
    """A group-by or value_count value as text; None when absent or empty."""
    if value is None:
        return None
    text = ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    return None if text in _EMPTY_VALUES else text


def _densest(entries: list[Contribution], spec: CorrelationSpec) -> list[Contribution] | None:
    """The earliest run of entries within ``timespan`` whose measure meets the condition."""
    distinct = spec.type != "event_count"
    keys: Counter[Hashable] = Counter()
    left = 0
    for right, entry in enumerate(entries):
        keys[entry.key] += 1
        while entry.ts - entries[left].ts > spec.timespan:
            old = entries[left].key
            keys[old] -= 1
            if not keys[old]:
                del keys[old]
            left += 1
        if spec.holds(len(keys) if distinct else right - left + 1):
            return entries[left : right + 1]
    return None


def _ordered(entries: list[Contribution], spec: CorrelationSpec) -> list[Contribution] | None:
    """Entries of rules 0..n-1 in that order within ``timespan`` (latest-start chains), or None."""
    chains: list[list[Contribution] | None] = [None] * len(spec.references)
    for entry in entries:
        stage = entry.key
        assert isinstance(stage, int)
        if stage == 0:
            chains[0] = [entry]
        elif (prefix := chains[stage - 1]) is not None and entry.ts - prefix[0].ts <= spec.timespan:
            chains[stage] = [*prefix, entry]
        if chains[-1] is not None:
            return chains[-1]
    return None


@dataclass(frozen=True, slots=True)
class _EventRef:
    ts: float
    log_id: str
    host: str | None
    user: str | None
    source: str
    iocs: tuple[str, ...]


_Schedule = Callable[[float, "_Linked", tuple[str, ...]], None]


class _Linked:
    """One supported correlation rule with its resolved base rules and its per-group windows."""

    def __init__(self, rule: CompiledRule, bases: tuple[CompiledRule, ...], schedule: _Schedule) -> None:
        assert rule.correlation is not None
        self.rule, self.spec, self.bases, self._schedule = rule, rule.correlation, bases, schedule
        self.fields = [self._group_fields(index) for index in range(len(bases))]
        self.groups: OrderedDict[tuple[str, ...], _Window] = OrderedDict()

    def _group_fields(self, index: int) -> tuple[str, ...]:
        """Group-by names as read from base rule ``index`` (``aliases`` map a name per rule)."""
        names = {self.spec.references[index], self.bases[index].id, self.bases[index].name}
        return tuple(
            next((f for ref, f in self.spec.aliases.get(name, {}).items() if ref in names), name)
            for name in self.spec.group_by
        )

    def _window(self, group: tuple[str, ...]) -> _Window:
        window = self.groups.get(group)
        if window is None:
            window = self.groups[group] = _Window()
            if len(self.groups) > MAX_GROUPS:
                self.groups.popitem(last=False)
        else:
            self.groups.move_to_end(group)
        return window

    def observe(self, view: EventView, ref: _EventRef, rule_id: str, index: int) -> CorrelationHit | None:
        group = tuple(_text(view.get(name)) for name in self.fields[index])
        key: Hashable = index
        if self.spec.type == "event_count":
            key = None
        elif self.spec.type == "value_count":
            key = _text(view.get(self.spec.value_field or ""))
        if None in group or (key is None and self.spec.type == "value_count"):
            return None
        window = self._window(group)  # type: ignore[arg-type]
        if ref.ts < window.newest - TOLERANCE_SECONDS:
            return None
        entry = Contribution(ref.ts, ref.log_id, rule_id, key, ref.host, ref.user, ref.source, ref.iocs)
        window.add(entry, self.spec.timespan)
        if not self.spec.growing:
            if window.closes_at is None:
                window.closes_at = window.entries[0].ts + self.spec.timespan
                self._schedule(window.closes_at, self, group)  # type: ignore[arg-type]
            return None
        return self._fire(group, window)  # type: ignore[arg-type]

    def _fire(self, group: tuple[str, ...], window: _Window) -> CorrelationHit | None:
        """Check a growing condition; on success reset the group (one hit per burst)."""
        measure = len(window.entries) if self.spec.type == "event_count" else len(window.keys)
        if not self.spec.holds(measure):
            return None  # not even the whole window is enough: skip the scan
        search = _ordered if self.spec.type == "temporal_ordered" else _densest
        if (found := search(window.entries, self.spec)) is None:
            return None
        window.remove(len(window.entries))
        return self._hit(group, found)

    def close(self, group: tuple[str, ...], closes_at: float) -> CorrelationHit | None:
        """Judge the window of ``group`` ending at ``closes_at`` (bounded conditions)."""
        window = self.groups.get(group)
        if window is None or window.closes_at != closes_at:
            return None  # evicted, or already closed
        taken = window.remove(bisect_right(window.entries, closes_at, key=_time))
        window.closes_at = None
        if window.entries:
            window.closes_at = window.entries[0].ts + self.spec.timespan
            self._schedule(window.closes_at, self, group)
        else:
            del self.groups[group]
        measure = len(taken) if self.spec.type == "event_count" else len({e.key for e in taken})
        return self._hit(group, taken) if taken and self.spec.holds(measure) else None

    def _hit(self, group: tuple[str, ...], found: list[Contribution]) -> CorrelationHit:
        count = len(found) if self.spec.type == "event_count" else len({e.key for e in found})
        named = dict(zip(self.spec.group_by, group, strict=True))
        return CorrelationHit(self.rule, self.bases, named, count, found)


class CorrelationEngine:
    """Feeds rule hits into the linked correlation rules; owned by a SigmaEngine."""

    def __init__(self) -> None:
        self._linked: dict[str, _Linked] = {}
        self._by_base: dict[str, list[tuple[_Linked, int]]] = {}
        self._silenced: frozenset[str] = frozenset()
        self._closing: list[tuple[float, int, str, tuple[str, ...]]] = []
        self._bounded = False
        self._clock = float("-inf")
        self._seq = 0

    def link(self, rules: Mapping[str, CompiledRule]) -> dict[str, str]:
        """Index every correlation among ``rules`` by its base rules (resolved by id or name).

        Returns ``{correlation id: reason}`` for those that cannot run. Windows of correlations that
        are unchanged (same rule object and bases) are kept.
        """
        known: dict[str, CompiledRule] = {}
        for rule in rules.values():
            known[rule.id] = rule
            if rule.name:
                known.setdefault(rule.name, rule)
        failed: dict[str, str] = {}
        linked: dict[str, _Linked] = {}
        for rule in rules.values():
            if rule.correlation is None:
                continue
            found = [known.get(ref) for ref in rule.correlation.references]
            reason = _link_problem(rule.correlation.references, found)
            if reason:
                failed[rule.id] = reason
                continue
            bases = tuple(b for b in found if b is not None)
            old = self._linked.get(rule.id)
            keep = old is not None and old.rule is rule and old.bases == bases
            linked[rule.id] = old if keep and old is not None else _Linked(rule, bases, self._schedule)
        self._install(linked)
        return failed

    def _install(self, linked: dict[str, _Linked]) -> None:
        self._linked = linked
        self._by_base = {}
        loud: set[str] = set()
        for item in linked.values():
            for index, base in enumerate(item.bases):
                self._by_base.setdefault(base.id, []).append((item, index))
                if item.spec.generate:
                    loud.add(base.id)
        self._silenced = frozenset(self._by_base) - loud
        self._bounded = any(not item.spec.growing for item in linked.values())

    def silences(self, rule_id: str) -> bool:
        """True when ``rule_id`` only feeds correlations (none of them sets ``generate: true``)."""
        return rule_id in self._silenced

    def _schedule(self, closes_at: float, item: _Linked, group: tuple[str, ...]) -> None:
        self._seq += 1
        heapq.heappush(self._closing, (closes_at, self._seq, item.rule.id, group))

    def advance(self, ts: float) -> list[CorrelationHit]:
        """Move the clock to ``ts`` (never back) and judge every window that is now complete."""
        self._clock = max(self._clock, ts)
        fired: list[CorrelationHit] = []
        while self._closing and self._closing[0][0] + TOLERANCE_SECONDS < self._clock:
            closes_at, _, rule_id, group = heapq.heappop(self._closing)
            item = self._linked.get(rule_id)
            hit = item.close(group, closes_at) if item is not None else None
            if hit is not None:
                fired.append(hit)
        return fired

    def observe(self, event: NormalizedEvent, hits: Sequence[RuleHit], log_id: str) -> list[CorrelationHit]:
        """Correlation hits caused by ``event`` (with its rule ``hits``) or by the time it carries."""
        fired = self.advance(event.timestamp.timestamp()) if self._bounded else []
        ref: _EventRef | None = None
        view: EventView | None = None
        for hit in hits:
            for item, index in self._by_base.get(hit.rule.id, ()):
                if ref is None or view is None:
                    ref, view = _event_ref(event, log_id), EventView(event)
                if (found := item.observe(view, ref, hit.rule.id, index)) is not None:
                    fired.append(found)
        return fired


def _link_problem(references: tuple[str, ...], found: list[CompiledRule | None]) -> str | None:
    missing = [ref for ref, rule in zip(references, found, strict=True) if rule is None]
    if missing:
        return f"references unknown rule(s): {', '.join(missing)}"
    chained = [rule.title for rule in found if rule is not None and rule.correlation is not None]
    if chained:
        return f"references correlation rule(s), chaining is not supported: {', '.join(chained)}"
    broken = [rule.title for rule in found if rule is not None and not rule.supported]
    return f"references unsupported rule(s): {', '.join(broken)}" if broken else None


def _event_ref(event: NormalizedEvent, log_id: str) -> _EventRef:
    source = event.product or event.source
    iocs = tuple(extract_iocs(event))
    return _EventRef(event.timestamp.timestamp(), log_id, event.host, event.user_name, source, iocs)
