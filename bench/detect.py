"""Sigma detection throughput: EVTX parsing + rule evaluation on one core (issues 4 and 16).

Loads every rule under ../shared/data/sigma/rules/windows, then replays parse + evaluate over all
EVTX files of ../shared/data/evtx-attack-samples until the run lasts at least --seconds (each pass
parses the files anew, so the figure includes EVTX parsing). Figures are events per CPU-second of this
process (``time.process_time``), so other load on a shared machine does not lower them. A second,
short measurement runs evaluation alone over pre-parsed events. The process pins itself to CPU 0.

``--zircolite PATH`` runs a Zircolite checkout (``zircolite.py`` with its requirements installed in the
interpreter given by ``--zircolite-python``) on the same EVTX and rules, interleaved with our passes,
pinned to CPU 0 with ``taskset``, and reports its CPU seconds (user + system of the child) beside ours.
Without it, our figure is printed beside the last recorded Zircolite figure (issue 16).
Target: >= 4x Zircolite's events per CPU-second.

Usage: .venv/bin/python bench/detect.py [--seconds 20] [--rules DIR] [--logs DIR] [--zircolite PATH]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.parsers import parse_file

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
TARGET = 10_000.0
EVAL_ONLY_SECONDS = 5.0
RECORDED_ZIRCOLITE = (2_500.0, 3_800.0)  # events per CPU-second, same EVTX and rules (issue 16)
ZIRCOLITE_FACTOR = 4.0


def pin_to_one_core() -> str:
    """Restrict this process to CPU 0 (Linux); returns a description for the report."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    try:
        os.sched_setaffinity(0, {0})
    except OSError as exc:
        return f"not pinned ({exc})"
    return "CPU 0"


def one_pass(files: list[Path], engine: SigmaEngine) -> tuple[int, int]:
    """Parse and evaluate every file once; returns (events, hits)."""
    events = hits = 0
    for path in files:
        for item in parse_file(path):
            if isinstance(item, NormalizedEvent):
                events += 1
                hits += len(engine.evaluate(item))
    return events, hits


def eval_only_rate(events: list[NormalizedEvent], engine: SigmaEngine, seconds: float) -> float:
    """Events/s of ``evaluate`` alone over already parsed events."""
    done, started = 0, time.perf_counter()
    while True:
        for event in events:
            engine.evaluate(event)
        done += len(events)
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done / elapsed


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def zircolite_pass(checkout: Path, python: str, logs: Path, rules: Path) -> float:
    """One Zircolite run over ``logs`` with ``rules``, pinned to CPU 0; returns its CPU seconds."""
    taskset = shutil.which("taskset")
    with tempfile.TemporaryDirectory() as out:
        command = [python, "zircolite.py", "--evtx", str(logs), "--ruleset", str(rules)]
        command += ["--outfile", str(Path(out) / "detected.json")]
        before = children_cpu()
        subprocess.run(([taskset, "-c", "0"] if taskset else []) + command, cwd=checkout, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        return children_cpu() - before


def require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        sys.exit(f"error: {what} directory not found: {path}")
    return path


def main(args: argparse.Namespace) -> None:
    pinned = pin_to_one_core()
    rules_dir = require_dir(Path(args.rules), "Sigma rules")
    logs_dir = require_dir(Path(args.logs), "EVTX samples")
    files = sorted(logs_dir.rglob("*.evtx"))
    if not files:
        sys.exit(f"error: no .evtx files under {logs_dir}")
    started = time.perf_counter()
    engine = SigmaEngine.from_paths([rules_dir])
    load_seconds = time.perf_counter() - started
    per_pass = sum(1 for path in files for item in parse_file(path) if isinstance(item, NormalizedEvent))

    passes = total = hits = 0
    ours_cpu = zircolite_cpu = 0.0
    started = time.perf_counter()
    while True:
        cpu_before = time.process_time()
        events, found = one_pass(files, engine)
        ours_cpu += time.process_time() - cpu_before
        passes, total, hits = passes + 1, total + events, hits + found
        if args.zircolite:  # interleaved: one Zircolite run after each of ours, same files and rules
            zircolite_cpu += zircolite_pass(Path(args.zircolite), args.zircolite_python, logs_dir, rules_dir)
        wall = time.perf_counter() - started
        if wall >= args.seconds:
            break
    rate = total / ours_cpu
    parsed = [item for path in files for item in parse_file(path) if isinstance(item, NormalizedEvent)]
    eval_rate = eval_only_rate(parsed, engine, min(EVAL_ONLY_SECONDS, args.seconds))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    table = Table(title=f"Sigma detection throughput (pinned: {pinned})")
    for column in ("metric", "value", "target"):
        table.add_column(column)
    report = engine.report
    table.add_row("rules loaded / compiled", f"{report.loaded:,} / {report.compiled:,}", "")
    table.add_row("rule load seconds", f"{load_seconds:.1f}", "")
    table.add_row("EVTX files", f"{len(files):,}", "")
    table.add_row("events per pass", f"{per_pass:,}", "")
    table.add_row("passes", f"{passes:,}", "")
    table.add_row("total events", f"{total:,}", "")
    table.add_row("wall seconds", f"{wall:.1f}", "")
    table.add_row("CPU seconds (ours)", f"{ours_cpu:.1f}", "")
    verdict = "ok" if rate >= TARGET else "MISSED"
    table.add_row("events/CPU-s (parse+evaluate)", f"{rate:,.0f}", f"≥ {TARGET:,.0f} {verdict}")
    if args.zircolite:
        theirs = per_pass * passes / zircolite_cpu
        table.add_row("CPU seconds (Zircolite, same passes)", f"{zircolite_cpu:.1f}", "measured now")
    else:
        theirs = sum(RECORDED_ZIRCOLITE) / 2
        low, high = RECORDED_ZIRCOLITE
        table.add_row("events/CPU-s (Zircolite, recorded)", f"{low:,.0f}-{high:,.0f}", "issue 16")
    factor = rate / theirs
    verdict = "ok" if factor >= ZIRCOLITE_FACTOR else "MISSED"
    table.add_row("Zircolite events/CPU-s", f"{theirs:,.0f}", "")
    table.add_row("ours / Zircolite", f"{factor:.2f}x", f"≥ {ZIRCOLITE_FACTOR:.0f}x {verdict}")
    table.add_row("events/s (evaluate only)", f"{eval_rate:,.0f}", "")
    table.add_row("hits per pass", f"{hits // passes:,}", "")
    table.add_row("peak RSS (MiB)", f"{peak_mib:,.0f}", "")
    Console().print(table)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="minimum parse+evaluate run time")
    parser.add_argument("--rules", default=str(DATA / "sigma" / "rules" / "windows"))
    parser.add_argument("--logs", default=str(DATA / "evtx-attack-samples"))
    parser.add_argument("--zircolite", help="path of a Zircolite checkout to measure side by side")
    parser.add_argument("--zircolite-python", default=sys.executable, help="Python with its requirements")
    return parser.parse_args()


if __name__ == "__main__":
    main(parse_args())
