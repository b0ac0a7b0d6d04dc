"""Operator console: first-page render of /alerts with 100,000 alerts, in the real browser.

Seeds the alerts in bulk into a fresh data dir, starts `aurorasoc serve` (serving the built console
from aurorasoc/web; `make bench` builds it first), then has the system Chromium open /alerts in a
fresh signed-in browser context ("cold": empty cache) and reload it ("warm": cached assets). Render
time is from navigation start until the first alert row is in the DOM. Prints a table.

Usage: .venv/bin/python bench/console_alerts.py [--alerts 100000] [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench")]
from api_latency import seed  # noqa: E402
from live_server import ADMIN_PASSWORD, live_server  # noqa: E402

DRIVER = ROOT / "dashboard" / "bench" / "render-alerts.mjs"


def _percentile(samples: list[float], pct: int) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _browser_runs(base: str, runs: int) -> dict[str, list[dict[str, float]]]:
    result = subprocess.run(
        ["node", str(DRIVER), base, "admin", ADMIN_PASSWORD, str(runs)],
        cwd=DRIVER.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        sys.exit(f"the browser driver failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _report(alerts: int, seed_seconds: float, runs: dict[str, list[dict[str, float]]]) -> None:
    table = Table(title=f"/alerts first-page render, {alerts:,} alerts (SQLite, system Chromium, 1366x768)")
    for column in ("load", "runs", "p50 ms", "p95 ms", "min ms", "max ms", "API p50 ms", "rows"):
        table.add_column(column, justify="left" if column == "load" else "right")
    for label, samples in runs.items():
        render = [s["render"] for s in samples]
        api = [s["api"] for s in samples if s["api"] is not None]
        table.add_row(
            label,
            str(len(render)),
            f"{_percentile(render, 50):.0f}",
            f"{_percentile(render, 95):.0f}",
            f"{min(render):.0f}",
            f"{max(render):.0f}",
            f"{statistics.median(api):.0f}" if api else "—",
            str(int(samples[0]["rows"])),
        )
    console = Console()
    console.print(table)
    console.print(f"seeded {alerts:,} alerts in {seed_seconds:.1f} s")


async def _seed(data_dir: Path, alerts: int) -> float:
    os.environ.update({"AURORA_DATA_DIR": str(data_dir), "AURORA_MODE": "real"})
    from aurorasoc.core.migrate import upgrade_async

    await upgrade_async()
    return await seed(alerts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if not (ROOT / "aurorasoc" / "web" / "index.html").exists():
        sys.exit("the console is not built: run `make dashboard` first")
    data_dir = Path(tempfile.mkdtemp(prefix="aurora-console-bench-"))
    try:
        seed_seconds = asyncio.run(_seed(data_dir, args.alerts))
        with live_server(data_dir) as base:
            runs = _browser_runs(base, args.runs)
        _report(args.alerts, seed_seconds, runs)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
