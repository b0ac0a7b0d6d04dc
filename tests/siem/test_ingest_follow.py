"""``aurorasoc ingest --follow`` as a real process: lines appended later become events and alerts."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

SUDO = "<86>Nov 24 10:00:{s:02d} web01 sudo: alice : TTY=pts/0 ; USER=root ; COMMAND=/bin/bash\n"
CRON = "<78>Nov 24 10:00:{s:02d} web01 CRON[42]: (root) CMD (run-parts /etc/cron.hourly)\n"


def wait_for(query: str, db: Path, minimum: int, proc: subprocess.Popen[str]) -> int:
    deadline, value = time.monotonic() + 90, 0
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        if db.exists():
            with sqlite3.connect(db) as conn:
                try:
                    value = conn.execute(query).fetchone()[0]
                except sqlite3.OperationalError:  # tables not created yet
                    value = 0
            if value >= minimum:
                return value
        time.sleep(0.1)
    raise AssertionError(f"{query} stayed at {value} < {minimum}")


@pytest.mark.slow  # a real `aurorasoc ingest --follow` process: seconds
def test_follow_ingests_appended_lines_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    logs, data = tmp_path / "logs", tmp_path / "data"
    logs.mkdir()
    auth = logs / "auth.log"
    auth.write_text(CRON.format(s=1))
    env = {**os.environ, "AURORA_DATA_DIR": str(data), "AURORA_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aurorasoc.cli", "ingest", "--follow", str(logs)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    db = data / "aurorasoc.db"
    try:
        wait_for("select count(*) from siem_logs", db, 1, proc)
        with auth.open("a") as handle:
            handle.write(SUDO.format(s=2) + CRON.format(s=3))
        (logs / "late.log").write_text(SUDO.format(s=4))  # a file created while following
        wait_for("select count(*) from siem_logs", db, 4, proc)
        alerts = wait_for("select count(*) from alerts where title like 'Sudo%'", db, 1, proc)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    with sqlite3.connect(db) as conn:
        sources = dict(conn.execute("select name, events_total from log_sources").fetchall())
        occurrences = conn.execute("select occurrence_count from alerts where title like 'Sudo%'").fetchone()[
            0
        ]
    assert proc.returncode == 0, err
    assert alerts == 1 and occurrences == 2  # two sudo lines, one deduplicated alert
    assert sources == {"auth.log": 3, "late.log": 1}
    assert "following 1 file(s)" in out and "Ingest summary" in out
