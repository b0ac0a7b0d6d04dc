"""The hard end of a shutdown (spec §28): from the first SIGTERM/SIGINT, a process is gone within
``AURORA_SHUTDOWN_TIMEOUT_SECONDS``, even if a library swallowed a cancellation or a thread is stuck.

The orderly path finishes first (in-flight work gets ``AURORA_SHUTDOWN_GRACE_SECONDS``, then is
cancelled); this deadline is the backstop, and exits with status 1 so a supervisor can tell.
"""

from __future__ import annotations

import gc
import os
import sys
import threading

import structlog

log = structlog.get_logger(__name__)
FORCED_EXIT_STATUS = 1
_deadline: threading.Timer | None = None


def arm_exit_deadline(seconds: float) -> None:
    """Exit the process ``seconds`` from now unless it has exited by itself (armed once)."""
    global _deadline
    if _deadline is not None:
        return
    _deadline = threading.Timer(seconds, _expire, args=(seconds,))
    _deadline.daemon = True
    _deadline.start()


def _expire(seconds: float) -> None:
    log.error("shutdown_deadline_exceeded", seconds=seconds, note="in-flight work abandoned")
    sys.stderr.flush()
    sys.stdout.flush()
    os._exit(FORCED_EXIT_STATUS)


def skip_final_collection() -> None:
    """Leave the heap to the OS at exit: the interpreter's last garbage collection over the
    process's objects (rules, models, routes) took 3-4 s of the 10 s a shutdown may take."""
    gc.freeze()
