"""Tests for aurorasoc.intel.attack and scripts/build_attack_index.py."""

from __future__ import annotations

import gzip
import importlib.util
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import ROOT

from aurorasoc.intel import attack

SCRIPT = ROOT / "scripts" / "build_attack_index.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_attack_index", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = load_script()


def pattern(tid: str, name: str, *phases: str, chain: str = "mitre-attack", **extra: Any) -> dict[str, Any]:
    return {
        "type": "attack-pattern",
        "id": f"attack-pattern--{tid}-{extra.get('revoked', False)}",
        "name": name,
        "external_references": [
            {"source_name": "capec", "external_id": "CAPEC-1"},
            {"source_name": "mitre-attack", "external_id": tid, "url": f"https://example.test/{tid}"},
        ],
        "kill_chain_phases": [{"kill_chain_name": chain, "phase_name": p} for p in phases],
        **extra,
    }


def tactic(ref: str, shortname: str) -> dict[str, Any]:
    return {"type": "x-mitre-tactic", "id": ref, "x_mitre_shortname": shortname}


ENTERPRISE_BUNDLE = {
    "type": "bundle",
    "objects": [
        {"type": "x-mitre-collection", "x_mitre_version": "16.1"},
        tactic("x-mitre-tactic--exec", "execution"),
        tactic("x-mitre-tactic--cred", "credential-access"),
        {"type": "x-mitre-matrix", "tactic_refs": ["x-mitre-tactic--exec", "x-mitre-tactic--cred"]},
        pattern("T1059", "Command and Scripting Interpreter", "execution"),
        pattern("T1059.001", "PowerShell", "execution", x_mitre_is_subtechnique=True),
        pattern("T1003", "Old Dumping", "credential-access", revoked=True),
        pattern("T1003", "OS Credential Dumping", "credential-access"),
        pattern("T1064", "Scripting", "execution", x_mitre_deprecated=True),
        {"type": "malware", "name": "not a technique"},
    ],
}
ICS_BUNDLE = {
    "type": "bundle",
    "objects": [
        {"type": "x-mitre-collection", "x_mitre_version": "17.0"},
        pattern("T0807", "Command-Line Interface", "execution-ics", chain="mitre-ics-attack",
                x_mitre_domains=["ics-attack"]),
    ],
}  # fmt: skip


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def read_index(path: Path) -> dict[str, Any]:
    return json.loads(gzip.decompress(path.read_bytes()))


@pytest.fixture
def stix_files(tmp_path: Path) -> list[Path]:
    return [
        write_json(tmp_path / "enterprise-attack.json", ENTERPRISE_BUNDLE),
        write_json(tmp_path / "ics-attack.json", ICS_BUNDLE),
    ]


@pytest.fixture
def synthetic_index(
    tmp_path: Path, stix_files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    out = tmp_path / "index.json.gz"
    assert build.main([*map(str, stix_files), "-o", str(out)]) == 0
    monkeypatch.setattr(attack, "INDEX_PATH", out)
    attack._index.cache_clear()
    yield
    attack._index.cache_clear()


class TestCommittedIndex:
    def test_has_enterprise_v17_with_powershell(self) -> None:
        raw = read_index(attack.INDEX_PATH)
        assert len(raw["techniques"]) > 600
        assert attack.attack_version() == "17.0" and raw["domains"] == ["enterprise-attack"]
        found = attack.lookup("T1059.001")
        assert found is not None and found.name == "PowerShell" and found.tactics == ("execution",)
        assert (found.parent, found.is_subtechnique) == ("T1059", True)
        assert found.url == "https://attack.mitre.org/techniques/T1059/001/"

    def test_every_technique_has_a_known_tactic(self) -> None:
        raw = read_index(attack.INDEX_PATH)
        order = set(raw["tactic_order"])
        assert len(order) == 14
        assert all(r["tactics"] and set(r["tactics"]) <= order for r in raw["techniques"].values())


class TestLookup:
    @pytest.mark.parametrize("tid", ["t1059.001", " T1059.001 ", "T1059.001"])
    def test_lookup_is_case_and_space_insensitive(self, tid: str) -> None:
        found = attack.lookup(tid)
        assert found is not None and found.id == "T1059.001"

    @pytest.mark.parametrize("tid", ["T9999", "T1059.999", "TA0002", "1059", "", "T1059.1"])
    def test_unknown_or_malformed_is_none(self, tid: str) -> None:
        assert attack.lookup(tid) is None

    def test_tactics_of_multi_tactic_technique(self) -> None:
        assert attack.tactics_for("T1078") == [
            "defense-evasion",
            "persistence",
            "privilege-escalation",
            "initial-access",
        ]

    def test_unknown_subtechnique_falls_back_to_parent(self) -> None:
        assert attack.tactics_for("t1003.999") == ["credential-access"]
        assert attack.tactics_for("T9999.001") == [] and attack.tactics_for("junk") == []

    def test_kill_chain_order_sorts_by_matrix_column(self) -> None:
        tactics = ["impact", "credential-access", "execution", "execution", "made-up"]
        assert attack.kill_chain_order(tactics) == ["execution", "credential-access", "impact", "made-up"]


class TestSearch:
    def test_id_prefix_comes_first_and_in_id_order(self) -> None:
        ids = [t.id for t in attack.search("t1059", limit=3)]
        assert ids == ["T1059", "T1059.001", "T1059.002"]

    def test_name_substring_is_case_insensitive(self) -> None:
        names = [t.name for t in attack.search("POWERSHELL")]
        assert names[0] == "PowerShell" and "PowerShell Profile" in names

    def test_exact_name_beats_names_containing_it(self) -> None:
        assert attack.search("lsass memory")[0].id == "T1003.001"

    def test_limit_blank_and_no_match(self) -> None:
        assert len(attack.search("a", limit=5)) == 5
        assert len(attack.search("a", limit=None)) > 100
        assert attack.search("zzzqqq") == []
        assert [t.id for t in attack.search("  ", limit=2)] == ["T1001", "T1001.001"]


class TestBuildFromStix:
    def test_records_all_fields_and_prefers_current_objects(
        self, tmp_path: Path, stix_files: list[Path]
    ) -> None:
        out = tmp_path / "out" / "index.json.gz"
        assert build.main([*map(str, stix_files), "--output", str(out)]) == 0
        index = read_index(out)
        assert index["attack_version"] == "17.0"
        assert index["source"] == "STIX 2.1 bundles: enterprise-attack.json, ics-attack.json"
        assert index["domains"] == ["enterprise-attack", "ics-attack"]
        assert index["tactic_order"] == ["execution", "credential-access", "execution-ics"]
        techniques = index["techniques"]
        assert set(techniques) == {"T1059", "T1059.001", "T1003", "T1064", "T0807"}
        assert techniques["T1059.001"] == {
            "name": "PowerShell",
            "tactics": ["execution"],
            "parent": "T1059",
            "is_subtechnique": True,
            "deprecated": False,
            "revoked": False,
            "domain": "enterprise-attack",
            "url": "https://example.test/T1059.001",
        }
        assert techniques["T1003"]["name"] == "OS Credential Dumping" and not techniques["T1003"]["revoked"]
        assert techniques["T1064"]["deprecated"] is True
        assert techniques["T0807"]["domain"] == "ics-attack"

    def test_output_is_byte_for_byte_reproducible(self, tmp_path: Path, stix_files: list[Path]) -> None:
        first, second = tmp_path / "a.gz", tmp_path / "b.gz"
        for out in (first, second):
            assert build.main([*map(str, stix_files), "-o", str(out)]) == 0
        assert first.read_bytes() == second.read_bytes()
        assert first.read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime

    def test_synthetic_index_drives_the_lookup_api(self, synthetic_index: None) -> None:
        assert attack.attack_version() == "17.0"
        # a name starting with the query beats one where it starts a later word
        assert [t.id for t in attack.search("script")] == ["T1064", "T1059"]
        assert attack.tactics_for("T1059.002") == ["execution"]
        assert attack.lookup("T0807") is not None

    def test_not_a_bundle_is_a_clear_error(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        bad = write_json(tmp_path / "x.json", {"type": "collection"})
        assert build.main([str(bad), "-o", str(tmp_path / "o.gz")]) == 1
        assert "is not a STIX bundle" in capsys.readouterr().err
        assert not (tmp_path / "o.gz").exists()

    def test_needs_exactly_one_source(self, tmp_path: Path) -> None:
        with pytest.raises(SystemExit) as raised:
            build.main(["-o", str(tmp_path / "o.gz")])
        assert raised.value.code == 2


WHEEL_MODULE = """from typing import Dict, List

mitre_attack_version: str = "15.1"
mitre_attack_tactics: Dict[str, str] = {"TA0002": "execution", "TA0006": "credential-access"}
mitre_attack_techniques: Dict[str, str] = {
    "T1059": "Command and Scripting Interpreter",
    "T1059.001": "PowerShell",
}
mitre_attack_techniques_tactics_mapping: Dict[str, List[str]] = {
    "T1059": ["execution"],
    "T1059.001": ["execution"],
}
mitre_attack_software: Dict[str, str] = {"S0001": "x"}
"""


class TestBuildFromPysigmaWheel:
    def test_reads_the_embedded_module_without_importing_it(self, tmp_path: Path) -> None:
        wheel = tmp_path / "pysigma-9.9-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr("sigma/data/mitre_attack.py", WHEEL_MODULE)
        out = tmp_path / "index.json.gz"
        assert build.main(["--pysigma-wheel", str(wheel), "-o", str(out)]) == 0
        index = read_index(out)
        assert (index["attack_version"], index["tactic_order"]) == ("15.1", ["execution"])
        assert index["source"] == "pysigma-9.9-py3-none-any.whl: sigma/data/mitre_attack.py"
        assert index["techniques"]["T1059.001"]["url"] == "https://attack.mitre.org/techniques/T1059/001/"
        assert index["techniques"]["T1059"]["parent"] is None

    def test_wheel_without_the_module_is_a_clear_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        wheel = tmp_path / "other.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr("sigma/__init__.py", "")
        assert build.main(["--pysigma-wheel", str(wheel), "-o", str(tmp_path / "o.gz")]) == 1
        assert "cannot read sigma/data/mitre_attack.py" in capsys.readouterr().err
