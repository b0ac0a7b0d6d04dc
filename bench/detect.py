"""Sigma detection throughput: EVTX parsing + rule evaluation on one core, beside Zircolite (issues 4, 16).

Loads every rule under ../shared/data/sigma/rules/windows (2,407 SigmaHQ rules), then replays parse +
evaluate over all EVTX files of ../shared/data/evtx-attack-samples until the run lasts at least
--seconds (each pass parses the files anew, so the figure includes EVTX parsing). Our figure is events
per CPU-second of this process (``time.process_time``), so other load on a shared machine does not lower
it. One untimed warm-up pass comes first (it builds the engine's candidate indexes, reported apart), as
rule loading does. A second, short measurement runs evaluation alone over pre-parsed events. The process
pins itself to CPU 0. ``AURORA_SHARED_DATA`` moves ../shared/data (as for the tests).

Side by side with Zircolite (``--zircolite PATH``), issue 16's target is >= 4x its events per CPU-second:

1. Get a checkout outside the repository (never commit it) and its requirements in its own venv::

       git clone https://github.com/wagga40/Zircolite /work/wt/zircolite
       python3.11 -m venv /work/wt/zircolite/.venv
       /work/wt/zircolite/.venv/bin/pip install -r /work/wt/zircolite/requirements.txt

2. Same rules: before timing anything, the bench has Zircolite convert the same Sigma directory to its
   JSON ruleset with its own tooling (``zircolite.py -r RULES -p sysmon -p windows-logsources
   --save-ruleset``, the pipelines its docs use for SigmaHQ Windows rules; pySigma's SQLite backend
   cannot convert a dozen of the 2,407 rules, the report shows how many it kept). ``--zircolite-ruleset
   FILE`` reuses a converted ruleset instead.
3. Interleaved: after each of our passes, one Zircolite run over the same EVTX directory with that
   ruleset (``-P``: its own worker processes off, ``-q``), under ``taskset -c 0``. Its CPU seconds are the
   child's user + system time (``RUSAGE_CHILDREN``), interpreter start and ruleset load included, as a
   user pays them; the same EVTX events per run as ours.

Without ``--zircolite`` our figure is printed beside the last recorded Zircolite figure.

Usage: .venv/bin/python bench/detect.py [--seconds 20] [--rules DIR] [--logs DIR]
           [--zircolite PATH [--zircolite-python PY] [--zircolite-ruleset FILE]]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.detection.sigma.engine import SigmaEngine
from aurorasoc.siem.parsers import parse_file

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("AURORA_SHARED_DATA") or ROOT.parent / "shared" / "data")
TARGET = 10_000.0
EVAL_ONLY_SECONDS = 5.0
# Last side-by-side run (2026-12-06, --seconds 150 --zircolite, Zircolite 3.7.0 b3724a0, 2,395 converted
# rules, 5 interleaved runs: 33.3 CPU-s for 5 x 8,255 events; ours 8,157 events/CPU-s, 6.59x):
RECORDED_ZIRCOLITE = 1_238.0  # events per CPU-second, same EVTX and rules (issue 16)
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
    """Events per CPU-second of ``evaluate`` alone over already parsed events."""
    done, started = 0, time.process_time()
    while True:
        for event in events:
            engine.evaluate(event)
        done += len(events)
        elapsed = time.process_time() - started
        if elapsed >= seconds:
            return done / elapsed


@dataclass
class Zircolite:
    """A Zircolite checkout run as a child process, pinned to CPU 0."""

    checkout: Path
    python: str
    workdir: Path
    ruleset: Path | None = None
    cpu: float = 0.0
    runs: int = 0
    detections: int = 0

    def command(self, *args: str) -> list[str]:
        taskset = shutil.which("taskset")
        return [*([taskset, "-c", "0"] if taskset else []), self.python, "zircolite.py", *args]

    def convert(self, rules: Path, sample: Path) -> int:
        """Convert ``rules`` with Zircolite's own tooling (untimed); returns the rules it kept."""
        before = set(self.checkout.glob("ruleset-*.json"))
        args = ["-e", str(sample), "-r", str(rules), "-p", "sysmon", "-p", "windows-logsources"]
        args += ["--save-ruleset", "-P", "-q", "-o", str(self.workdir / "convert.json")]
        subprocess.run(self.command(*args), cwd=self.checkout, check=True, capture_output=True)
        [saved] = set(self.checkout.glob("ruleset-*.json")) - before
        self.ruleset = Path(shutil.move(saved, self.workdir / "ruleset.json"))
        return self.rule_count()

    def rule_count(self) -> int:
        assert self.ruleset is not None
        return len(json.loads(self.ruleset.read_bytes()))

    def run(self, logs: Path) -> None:
        """One timed run over ``logs``: adds its CPU seconds and detections."""
        assert self.ruleset is not None
        out = self.workdir / "detected.json"
        args = ["-e", str(logs), "-r", str(self.ruleset), "-P", "-q", "-o", str(out)]
        before = children_cpu()
        subprocess.run(self.command(*args), cwd=self.checkout, check=True, capture_output=True)
        self.cpu += children_cpu() - before
        self.runs += 1
        self.detections += sum(int(rule.get("count", 0)) for rule in json.loads(out.read_bytes()))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        sys.exit(f"error: {what} directory not found: {path} (set AURORA_SHARED_DATA or pass a path)")
    return path


def setup_zircolite(args: argparse.Namespace, workdir: Path, rules: Path, files: list[Path]) -> Zircolite:
    checkout = require_dir(Path(args.zircolite).resolve(), "Zircolite checkout")
    venv_python = checkout / ".venv" / "bin" / "python"
    python = args.zircolite_python or (str(venv_python) if venv_python.exists() else sys.executable)
    zircolite = Zircolite(checkout, python, workdir)
    if args.zircolite_ruleset:
        zircolite.ruleset = Path(args.zircolite_ruleset).resolve()
    else:
        zircolite.convert(rules, min(files, key=lambda path: path.stat().st_size))
    return zircolite


@dataclass
class Ours:
    passes: int = 0
    events: int = 0
    hits: int = 0
    cpu: float = 0.0


def measure(
    args: argparse.Namespace, files: list[Path], engine: SigmaEngine, zircolite: Zircolite | None
) -> tuple[Ours, float]:
    """Our passes, each followed by one Zircolite run when given, until ``--seconds`` have passed."""
    ours, started = Ours(), time.perf_counter()
    while True:
        cpu_before = time.process_time()
        events, hits = one_pass(files, engine)
        ours.cpu += time.process_time() - cpu_before
        ours.passes, ours.events, ours.hits = ours.passes + 1, ours.events + events, ours.hits + hits
        if zircolite is not None:
            zircolite.run(Path(args.logs))
        wall = time.perf_counter() - started
        if wall >= args.seconds:
            return ours, wall


def report(pinned: str, engine: SigmaEngine, rows: list[tuple[str, str, str]]) -> None:
    table = Table(title=f"Sigma detection throughput (pinned: {pinned})")
    for column in ("metric", "value", "target"):
        table.add_column(column)
    loaded = engine.report
    table.add_row("rules loaded / compiled (ours)", f"{loaded.loaded:,} / {loaded.compiled:,}", "")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def zircolite_rows(zircolite: Zircolite | None, per_pass: int) -> tuple[float, list[tuple[str, str, str]]]:
    if zircolite is None:
        return RECORDED_ZIRCOLITE, [("events/CPU-s (Zircolite)", f"{RECORDED_ZIRCOLITE:,.0f}", "recorded")]
    rate = per_pass * zircolite.runs / zircolite.cpu
    return rate, [
        ("Zircolite rules (converted)", f"{zircolite.rule_count():,}", str(zircolite.ruleset)),
        ("Zircolite runs", f"{zircolite.runs:,}", "interleaved"),
        ("CPU seconds (Zircolite)", f"{zircolite.cpu:.1f}", "user+sys of the child"),
        ("detections per run (Zircolite)", f"{zircolite.detections // zircolite.runs:,}", ""),
        ("events/CPU-s (Zircolite)", f"{rate:,.0f}", "measured now"),
    ]


def main(args: argparse.Namespace) -> None:
    pinned = pin_to_one_core()
    rules_dir = require_dir(Path(args.rules), "Sigma rules")
    files = sorted(require_dir(Path(args.logs), "EVTX samples").rglob("*.evtx"))
    if not files:
        sys.exit(f"error: no .evtx files under {args.logs}")
    started = time.process_time()
    engine = SigmaEngine.from_paths([rules_dir])
    load_seconds = time.process_time() - started
    parsed = [item for path in files for item in parse_file(path) if isinstance(item, NormalizedEvent)]
    started = time.process_time()
    one_pass(files, engine)  # warm-up: builds the candidate indexes, as the first events of a stream do
    warm_up = time.process_time() - started
    with tempfile.TemporaryDirectory() as workdir:
        zircolite = setup_zircolite(args, Path(workdir), rules_dir, files) if args.zircolite else None
        ours, wall = measure(args, files, engine, zircolite)
        theirs, rows = zircolite_rows(zircolite, len(parsed))
    rate = ours.events / ours.cpu
    factor = rate / theirs
    meets = f"≥ {ZIRCOLITE_FACTOR:.0f}x {verdict(factor >= ZIRCOLITE_FACTOR)}"
    eval_rate = eval_only_rate(parsed, engine, min(EVAL_ONLY_SECONDS, args.seconds))
    rows = [
        ("rule load CPU seconds (ours)", f"{load_seconds:.1f}", ""),
        ("first pass CPU seconds (ours, untimed warm-up)", f"{warm_up:.2f}", "builds candidate indexes"),
        ("EVTX files / events per pass", f"{len(files):,} / {len(parsed):,}", ""),
        ("passes (ours)", f"{ours.passes:,}", ""),
        ("wall seconds (all)", f"{wall:.1f}", ""),
        ("CPU seconds (ours)", f"{ours.cpu:.1f}", ""),
        ("hits per pass (ours)", f"{ours.hits // ours.passes:,}", ""),
        ("events/CPU-s (ours, parse+evaluate)", f"{rate:,.0f}", f"≥ {TARGET:,.0f} {verdict(rate >= TARGET)}"),
        *rows,
        ("ours / Zircolite", f"{factor:.2f}x", meets),
        ("events/CPU-s (ours, evaluate only)", f"{eval_rate:,.0f}", ""),
        ("peak RSS (MiB, ours)", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f}", ""),
    ]
    report(pinned, engine, rows)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="minimum run time (wall)")
    parser.add_argument("--rules", default=str(DATA / "sigma" / "rules" / "windows"))
    parser.add_argument("--logs", default=str(DATA / "evtx-attack-samples"))
    parser.add_argument("--zircolite", help="path of a Zircolite checkout to measure side by side")
    parser.add_argument("--zircolite-python", help="Python with its requirements (default: its .venv)")
    parser.add_argument("--zircolite-ruleset", help="an already converted Zircolite JSON ruleset")
    return parser.parse_args()


if __name__ == "__main__":
    main(parse_args())
