"""Sigma detection throughput: EVTX parsing + rule evaluation on one core (issue 4).

Loads every rule under ../shared/data/sigma/rules/windows, then replays parse + evaluate over all
EVTX files of ../shared/data/evtx-attack-samples until the run lasts at least --seconds (each pass
parses the files anew, so the figure includes EVTX parsing). A second, short measurement runs
evaluation alone over pre-parsed events. The process pins itself to CPU 0 when it can.
Target: >= 10,000 events/s parse + evaluate.

Usage: .venv/bin/python bench/detect.py [--seconds 20] [--rules DIR] [--logs DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
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
    started = time.perf_counter()
    while True:
        events, found = one_pass(files, engine)
        passes, total, hits = passes + 1, total + events, hits + found
        wall = time.perf_counter() - started
        if wall >= args.seconds:
            break
    rate = total / wall
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
    verdict = "ok" if rate >= TARGET else "MISSED"
    table.add_row("events/s (parse+evaluate)", f"{rate:,.0f}", f"≥ {TARGET:,.0f} {verdict}")
    table.add_row("events/s (evaluate only)", f"{eval_rate:,.0f}", "")
    table.add_row("hits per pass", f"{hits // passes:,}", "")
    table.add_row("peak RSS (MiB)", f"{peak_mib:,.0f}", "")
    Console().print(table)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="minimum parse+evaluate run time")
    parser.add_argument("--rules", default=str(DATA / "sigma" / "rules" / "windows"))
    parser.add_argument("--logs", default=str(DATA / "evtx-attack-samples"))
    return parser.parse_args()


if __name__ == "__main__":
    main(parse_args())
