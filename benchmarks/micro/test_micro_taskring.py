"""The compiled TaskRing: one push + pop (the per-request cost), and a burst of 64 pushed then drained."""

from __future__ import annotations

from typing import Any

import pytest

from zigmund_fast._impl import TaskRing

pytest.importorskip("pytest_benchmark")

ITEM = ("task", (), {})


def test_push_pop(benchmark: Any) -> None:
    ring = TaskRing(1024)
    push, pop = ring.push, ring.pop

    def push_pop() -> Any:
        push(ITEM)
        return pop()

    assert push_pop() is ITEM and len(ring) == 0
    benchmark(push_pop)
    assert len(ring) == 0


def test_burst_of_64(benchmark: Any) -> None:
    ring = TaskRing(1024)
    push, pop = ring.push, ring.pop
    items = [(index, (), {}) for index in range(64)]

    def burst() -> list[Any]:
        for item in items:
            push(item)
        return [pop() for _ in range(64)]

    assert burst() == items  # FIFO
    benchmark(burst)
    assert len(ring) == 0
