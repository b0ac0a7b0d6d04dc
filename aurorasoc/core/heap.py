"""The cyclic garbage collector tuned for long-running processes that churn events and alerts.

Detection loads a few million long-lived objects (compiled Sigma rules, automata) and then creates
and drops short-lived ones by the hundred thousand (events, rows, alerts). With CPython's defaults
(700, 10, 10) an ingest of the EVTX samples spent ~9 % of its CPU in the collector: every full
collection re-traversed the rules, and a young collection ran every 700 allocations. Frozen rules
and a larger young generation cut that to ~1 % (bench/ingest.py); reference counting still frees
acyclic garbage at once, so memory only grows by the young cycles waiting for their collection.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000  # net allocations between young collections (CPython: 700)
MIDDLE_THRESHOLD = 20  # young collections between middle ones (CPython: 10)
OLD_THRESHOLD = 10


def keep_long_lived() -> None:
    """Move every object alive now out of the collector's reach, and collect young garbage less often.

    Call it once what lives until the next reload (rules, models) is built.
    """
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
