"""The hard end of a shutdown (spec §28): a process whose orderly stop hangs exits by the deadline."""

from __future__ import annotations

import subprocess
import sys
import time

from conftest import ROOT

HANGS_AFTER_ARMING = """
import threading
from aurorasoc.cli.shutdown import arm_exit_deadline
arm_exit_deadline(0.5)
arm_exit_deadline(60)  # armed once: a second signal does not push the deadline back
threading.Event().wait()  # a shutdown stuck for good
"""


def test_a_stuck_shutdown_exits_with_status_1_at_the_deadline() -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", HANGS_AFTER_ARMING], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1, result.stderr
    assert time.monotonic() - started < 30  # generous: the point is that it ends, not how fast
    assert "shutdown_deadline_exceeded" in result.stdout + result.stderr
