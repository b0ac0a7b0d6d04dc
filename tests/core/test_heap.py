"""The collector settings of processes that hold rules (``aurorasoc.core.heap``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from aurorasoc.core.heap import YOUNG_THRESHOLD, keep_long_lived


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def test_objects_alive_now_leave_the_collectors_reach(restored_gc: None) -> None:
    rules = [{"rule": n} for n in range(1000)]
    gc.unfreeze()
    keep_long_lived()
    assert gc.get_freeze_count() >= len(rules)
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD > 700


def test_young_cycles_are_still_collected(restored_gc: None) -> None:
    keep_long_lived()
    collected: list[int] = []

    class Node:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            collected.append(1)

    for _ in range(10):
        Node()  # a cycle: only the collector frees it
    kept = [[] for _ in range(YOUNG_THRESHOLD * 2)]  # net allocations past the threshold: a collection
    assert len(collected) == 10 and len(kept) == YOUNG_THRESHOLD * 2
