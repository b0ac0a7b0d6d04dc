"""SigmaHQ regression data: the rule named by each ``info.yml`` must fire on the log beside it.

Every case is checked on the ``.evtx`` (through ``parse_file``) and on its ``.json`` rendering. A case
without EVTX/JSON (SigmaHQ's ``.raw`` text samples) is checked on the raw lines, given the rule's own
logsource because plain text carries none. The data is read in place from ``../shared/data``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import SHARED_DATA, require_data

from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import CompiledRule, SigmaEngine
from aurorasoc.siem.parsers import parse_file

DATA = SHARED_DATA
REGRESSION = DATA / "sigma-regression" / "regression_data"
KINDS = ("evtx", "json", "raw")


def _cases() -> list[tuple[Path, str]]:
    """(log file, kind) for every info.yml; kinds absent beside an info.yml are not cases."""
    cases: list[tuple[Path, str]] = []
    for info in sorted(REGRESSION.rglob("info.yml")) if REGRESSION.is_dir() else []:
        for kind in KINDS:
            cases.extend((path, kind) for path in sorted(info.parent.glob(f"*.{kind}")))
    return cases


CASES = _cases()


def _case_id(case: tuple[Path, str]) -> str:
    return f"{case[0].parent.name}-{case[1]}"


def _rule_id(log: Path) -> str:
    meta = yaml.safe_load((log.parent / "info.yml").read_text(encoding="utf-8"))
    return str(meta["rule_metadata"][0]["id"])


def _events(log: Path, kind: str, rule: CompiledRule) -> list[NormalizedEvent]:
    events = [
        e
        for e in parse_file(log, format="line" if kind == "raw" else "auto")
        if isinstance(e, NormalizedEvent)
    ]
    if kind == "raw":
        product, category, service = rule.logsource
        update = {"product": product, "category": category, "service": service}
        events = [event.model_copy(update=update) for event in events]
    return events


@pytest.fixture(scope="module")
def engine() -> SigmaEngine:
    """The whole SigmaHQ corpus, loaded once for the module."""
    require_data(DATA / "sigma")
    return SigmaEngine.from_paths([DATA / "sigma"])


@pytest.fixture(scope="module")
def outcome(engine: SigmaEngine) -> Callable[[Path, str], tuple[int, int, str]]:
    """Cached per case: (events parsed, hits of the expected rule, rule id)."""
    cache: dict[tuple[Path, str], tuple[int, int, str]] = {}

    def run(log: Path, kind: str) -> tuple[int, int, str]:
        if (log, kind) not in cache:
            rule_id = _rule_id(log)
            rule = engine.rule(rule_id)
            assert rule is not None, f"rule {rule_id} is not in the corpus"
            assert rule.supported, f"rule {rule_id} unsupported: {rule.reason}"
            events = _events(log, kind, rule)
            hits = sum(1 for event in events for hit in engine.evaluate(event) if hit.rule.id == rule_id)
            cache[(log, kind)] = (len(events), hits, rule_id)
        return cache[(log, kind)]

    return run


def test_regression_data_present() -> None:
    require_data(REGRESSION)
    assert CASES, f"no regression cases found under {REGRESSION}"


class TestSigmaRegression:
    @pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
    def test_rule_fires(
        self, case: tuple[Path, str], outcome: Callable[[Path, str], tuple[int, int, str]]
    ) -> None:
        log, kind = case
        events, hits, rule_id = outcome(log, kind)
        assert events > 0, f"no events parsed from {log}"
        assert hits >= 1, f"rule {rule_id} did not fire on any of {events} events of {log}"

    def test_recall_per_source(self, outcome: Callable[[Path, str], tuple[int, int, str]]) -> None:
        """Recall per corpus folder (rules/, rules-emerging-threats/...) and log kind; all must fire."""
        totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        misses: list[str] = []
        for log, kind in CASES:
            source = log.relative_to(REGRESSION).parts[0]
            _, hits, rule_id = outcome(log, kind)
            totals[(source, kind)][0] += hits > 0
            totals[(source, kind)][1] += 1
            if not hits:
                misses.append(f"{kind} {log.relative_to(REGRESSION)} ({rule_id})")
        for (source, kind), (fired, total) in sorted(totals.items()):
            print(f"sigma regression recall {source} {kind}: {fired}/{total}")
        assert not misses, "rules that did not fire:\n" + "\n".join(misses)
