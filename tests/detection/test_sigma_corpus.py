"""The whole SigmaHQ corpus loads without aborting and at least 98 % of its rules compile."""

from __future__ import annotations

import pytest
from conftest import SHARED_DATA, require_data

from aurorasoc.detection.sigma.engine import SigmaEngine

DATA = SHARED_DATA
FOLDERS = ("rules", "rules-emerging-threats", "rules-threat-hunting")


@pytest.fixture(scope="module")
def engine() -> SigmaEngine:
    require_data(*(DATA / "sigma" / name for name in FOLDERS))
    return SigmaEngine.from_paths([DATA / "sigma" / name for name in FOLDERS])


class TestSigmaCorpus:
    def test_at_least_98_percent_compile(self, engine: SigmaEngine) -> None:
        report = engine.report
        listing = "\n".join(f"{path} [{rule_id}]: {reason}" for path, rule_id, reason in report.unsupported)
        print(f"sigma corpus: {report.compiled}/{report.loaded} compiled ({report.compile_ratio:.2%})")
        assert report.loaded >= 3000
        assert report.compile_ratio >= 0.98, f"unsupported rules:\n{listing}"

    def test_every_rule_is_accounted_for(self, engine: SigmaEngine) -> None:
        report = engine.report
        assert report.compiled + len(report.unsupported) == report.loaded
        assert all(reason for _, _, reason in report.unsupported)
        supported = sum(1 for rule in engine.rules.values() if rule.supported)
        assert supported == report.compiled

    def test_windows_rules_are_indexed_by_logsource(self, engine: SigmaEngine) -> None:
        pinned = [r for r in engine.rules.values() if r.supported and r.event_ids]
        proc = [r for r in engine.rules.values() if r.logsource[1] == "process_creation"]
        assert len(pinned) > 100
        assert len(proc) > 1000
