"""The compiled TaskRing: FIFO order, wrap-around, growth, bounds, references, a million entries."""

from __future__ import annotations

import gc
import sys
import tracemalloc
import weakref

import pytest

from zigmund_fast._compiled.errors import RingFull
from zigmund_fast._impl import TaskRing


class Token:
    def __init__(self, n: int) -> None:
        self.n = n


def test_fifo_order() -> None:
    ring = TaskRing(8)
    for i in range(5):
        ring.push(i)
    assert len(ring) == 5 and ring
    assert [ring.pop() for _ in range(5)] == [0, 1, 2, 3, 4]
    assert not ring and len(ring) == 0


def test_wrap_around_keeps_order_without_growing() -> None:
    ring = TaskRing(8)
    expected = 0
    pushed = 0
    for _ in range(1000):
        for _ in range(5):
            ring.push(pushed)
            pushed += 1
        for _ in range(5):
            assert ring.pop() == expected
            expected += 1
    assert ring.capacity == 8
    assert ring.high_water == 5


def test_growth_preserves_order_across_the_wrap_point() -> None:
    ring = TaskRing(8)
    for i in range(6):
        ring.push(i)
    for i in range(4):
        assert ring.pop() == i  # head is now in the middle of the array
    for i in range(6, 30):
        ring.push(i)  # wraps, then grows twice
    assert ring.capacity == 32
    assert [ring.pop() for _ in range(len(ring))] == list(range(4, 30))
    assert ring.high_water == 26


def test_max_capacity_raises_instead_of_dropping() -> None:
    ring = TaskRing(8, max_capacity=16)
    for i in range(16):
        ring.push(i)
    with pytest.raises(RingFull):
        ring.push(16)
    assert len(ring) == 16
    assert [ring.pop() for _ in range(16)] == list(range(16))
    with pytest.raises(ValueError):
        TaskRing(8, max_capacity=-1)


def test_pop_on_empty_raises_index_error() -> None:
    with pytest.raises(IndexError):
        TaskRing().pop()


def test_references_are_released() -> None:
    ring = TaskRing(8)
    token = Token(1)
    ref = weakref.ref(token)
    before = sys.getrefcount(token)
    ring.push(token)
    assert sys.getrefcount(token) == before + 1
    assert ring.pop() is token
    assert sys.getrefcount(token) == before
    leftover = Token(2)
    ring.push(leftover)
    leftover_ref = weakref.ref(leftover)
    del token, leftover, ring
    gc.collect()
    assert ref() is None and leftover_ref() is None


def test_a_million_entries_in_order_with_bounded_memory() -> None:
    count = 1_000_000
    tracemalloc.start()
    try:
        ring = TaskRing(1024)
        for i in range(count):
            ring.push(i)
        assert len(ring) == count
        assert ring.high_water == count
        _, peak = tracemalloc.get_traced_memory()
        for i in range(count):
            if ring.pop() != i:
                pytest.fail(f"entry {i} out of order")
        assert len(ring) == 0
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A slot is a pointer (8 bytes): a million of them in a doubled array is 16 MiB at most,
    # plus the ints themselves (~28 bytes each).
    assert peak < 80 * 1024 * 1024
    ring.push("still works")
    assert ring.pop() == "still works"
    del ring
    assert current < peak
