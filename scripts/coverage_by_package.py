"""Coverage per capability package, one line each: the end of ``make pytest``.

A per-file report of ~400 modules hides the question a reviewer asks ("how well is ``cases``
tested?"); this sums the statements of every module under each ``aurorasoc/<package>``, including
modules no test imported (coverage's ``source`` setting lists them as fully missed).

Usage: .venv/bin/python scripts/coverage_by_package.py [--data-file .coverage]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from pathlib import Path, PurePath

import coverage


def package_of(path: str) -> str:
    """``aurorasoc/cases/service.py`` → ``aurorasoc/cases``; top-level modules → ``aurorasoc``."""
    parts = PurePath(path).parts
    start = parts.index("aurorasoc") if "aurorasoc" in parts else 0
    return "/".join(parts[start : start + 2]) if len(parts) - start > 2 else "aurorasoc"


def totals_by_package(data_file: str) -> dict[str, tuple[int, int]]:
    """``{package: (statements, covered)}`` from a combined coverage data file."""
    cov = coverage.Coverage(data_file=data_file)
    cov.load()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "coverage.json"
        cov.json_report(outfile=str(report))
        files = json.loads(report.read_text())["files"]
    statements: Counter[str] = Counter()
    covered: Counter[str] = Counter()
    for path, measured in files.items():
        package = package_of(path)
        statements[package] += measured["summary"]["num_statements"]
        covered[package] += measured["summary"]["covered_lines"]
    return {package: (statements[package], covered[package]) for package in sorted(statements)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-file", default=".coverage")
    totals = totals_by_package(parser.parse_args().data_file)
    width = max(len(package) for package in totals)
    print(f"{'package':<{width}}  {'stmts':>6}  {'miss':>6}  cover")
    for package, (stmts, hit) in totals.items():
        print(f"{package:<{width}}  {stmts:>6}  {stmts - hit:>6}  {100 * hit / max(stmts, 1):5.1f}%")
    all_stmts = sum(s for s, _ in totals.values())
    all_hit = sum(h for _, h in totals.values())
    print(f"{'TOTAL':<{width}}  {all_stmts:>6}  {all_stmts - all_hit:>6}  {100 * all_hit / all_stmts:5.1f}%")


if __name__ == "__main__":
    main()
