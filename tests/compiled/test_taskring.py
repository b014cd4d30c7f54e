"""The compiled TaskRing used directly: FIFO, wrap-around, growth, bounds, references, a million entries."""

from __future__ import annotations

import collections
import gc
import random
import sys
import tracemalloc
import weakref

import pytest

from zigmund_fast._compiled.errors import RingFull
from zigmund_fast._impl import TaskRing


class Item:
    def __init__(self, n: int) -> None:
        self.n = n

    def __repr__(self) -> str:
        return f"Item({self.n})"


def drain(ring: TaskRing) -> list[object]:
    return [ring.pop() for _ in range(len(ring))]


def test_fifo_order_for_any_objects() -> None:
    ring = TaskRing(8)
    assert len(ring) == 0 and not ring
    values: list[object] = [None, 0, "a", b"b", (1, 2), Item(5), 3.5, ring]
    for value in values:
        ring.push(value)
    assert len(ring) == len(values) and ring
    popped = drain(ring)
    assert all(got is want for got, want in zip(popped, values, strict=True))
    assert not ring


def test_wrap_around_many_times_without_growing() -> None:
    ring = TaskRing(8)
    model: collections.deque[int] = collections.deque()
    ring.push(-1)
    model.append(-1)
    pushed = 0
    for round_ in range(2000):
        step = (3, 5, 7)[round_ % 3]  # one entry stays behind; the head walks 3, 5 or 7 slots a round
        for _ in range(step):
            ring.push(pushed)
            model.append(pushed)
            pushed += 1
        assert len(ring) <= 8
        for _ in range(step):
            assert ring.pop() == model.popleft()
        assert len(ring) == len(model) == 1
    assert pushed > 8 * 1000  # the ring wrapped about a thousand times
    assert ring.capacity == 8, "an interleaving that never holds more than 8 entries must not grow the ring"
    assert ring.high_water == 8
    assert drain(ring) == list(model)


def test_random_interleaving_matches_a_deque() -> None:
    rng = random.Random(1234)
    ring = TaskRing(8)
    model: collections.deque[int] = collections.deque()
    high = 0
    for step in range(50_000):
        if model and rng.random() < 0.48:
            assert ring.pop() == model.popleft()
        else:
            ring.push(step)
            model.append(step)
        high = max(high, len(model))
        assert len(ring) == len(model)
    assert ring.high_water == high
    assert drain(ring) == list(model)


def test_growth_doubles_capacity_and_keeps_order_across_the_wrap() -> None:
    ring = TaskRing(8)
    assert ring.capacity == 8
    for i in range(5):
        ring.push(i)
    for i in range(3):
        assert ring.pop() == i  # head now at slot 3
    for i in range(5, 11):
        ring.push(i)  # fills slots 5..7 then wraps into 0..2: full, with the head mid-array
    assert len(ring) == 8 and ring.capacity == 8
    ring.push(11)  # grows while wrapped
    assert ring.capacity == 16
    for i in range(12, 40):
        ring.push(i)
    assert ring.capacity == 64  # 16 -> 32 -> 64, doubling each time
    assert drain(ring) == list(range(3, 40))
    assert ring.high_water == 37


def test_growth_repeatedly_while_wrapped() -> None:
    ring = TaskRing(8)
    expected: collections.deque[int] = collections.deque()
    n = 0
    capacities = []
    for _ in range(6):
        # Pop a few so the head is mid-array, then push past the capacity.
        for _ in range(min(3, len(expected))):
            assert ring.pop() == expected.popleft()
        target = ring.capacity + 1
        while len(expected) < target:
            ring.push(n)
            expected.append(n)
            n += 1
        capacities.append(ring.capacity)
    assert capacities == [16, 32, 64, 128, 256, 512]
    assert drain(ring) == list(expected)


def test_small_capacities_are_rounded_up() -> None:
    assert TaskRing(0).capacity == 8
    assert TaskRing(3).capacity == 8
    assert TaskRing().capacity == 1024
    assert TaskRing(100, max_capacity=10).capacity == 10


def test_max_capacity_raises_ring_full_and_loses_nothing() -> None:
    ring = TaskRing(8, max_capacity=20)
    assert ring.max_capacity == 20
    for i in range(20):
        ring.push(i)
    assert ring.capacity == 20  # 8 -> 16 -> 20 (clamped to the bound)
    rejected = Item(99)
    rejected_ref = weakref.ref(rejected)
    before = sys.getrefcount(rejected)
    with pytest.raises(RingFull):
        ring.push(rejected)
    assert sys.getrefcount(rejected) == before  # the ring kept no reference to what it refused
    del rejected
    gc.collect()
    assert rejected_ref() is None
    assert issubclass(RingFull, Exception)
    assert len(ring) == 20
    # Nothing was dropped or overwritten, and after making room the ring takes entries again.
    for i in range(5):
        assert ring.pop() == i
    for i in range(20, 25):
        ring.push(i)  # wraps inside the bounded array
    with pytest.raises(RingFull):
        ring.push(25)
    assert drain(ring) == list(range(5, 25))
    assert ring.capacity == 20


def test_negative_max_capacity_is_refused() -> None:
    with pytest.raises(ValueError):
        TaskRing(8, max_capacity=-1)


def test_high_water_is_the_largest_count_ever_held() -> None:
    ring = TaskRing(8)
    assert ring.high_water == 0
    for i in range(6):
        ring.push(i)
    drain(ring)
    assert ring.high_water == 6
    for i in range(4):
        ring.push(i)
    assert ring.high_water == 6  # not reset by popping, not raised by a smaller fill
    for i in range(10):
        ring.push(i)
    assert ring.high_water == 14


def test_pop_on_empty_raises_index_error_and_the_ring_stays_usable() -> None:
    ring = TaskRing(8)
    with pytest.raises(IndexError):
        ring.pop()
    ring.push("x")
    assert ring.pop() == "x"
    with pytest.raises(IndexError):
        ring.pop()
    assert len(ring) == 0
    ring.push("y")
    assert ring.pop() == "y"


def test_references_are_taken_on_push_and_released_on_pop() -> None:
    ring = TaskRing(8)
    item = Item(1)
    ref = weakref.ref(item)
    base = sys.getrefcount(item)
    ring.push(item)
    ring.push(item)
    assert sys.getrefcount(item) == base + 2
    assert ring.pop() is item
    assert sys.getrefcount(item) == base + 1
    assert ring.pop() is item
    assert sys.getrefcount(item) == base
    del item
    gc.collect()
    assert ref() is None


def test_the_only_reference_survives_in_the_ring_until_popped() -> None:
    ring = TaskRing(8)
    ring.push(Item(7))
    gc.collect()
    popped = ring.pop()
    assert isinstance(popped, Item) and popped.n == 7
    ref = weakref.ref(popped)
    del popped
    gc.collect()
    assert ref() is None


def test_deleting_a_ring_releases_what_it_still_holds_even_when_wrapped() -> None:
    ring = TaskRing(8)
    for i in range(6):
        ring.push(Item(i))
    for _ in range(5):
        ring.pop()
    refs = []
    for i in range(7):  # head at slot 5; these wrap round to the start of the array
        item = Item(100 + i)
        refs.append(weakref.ref(item))
        ring.push(item)
    del item
    assert ring.capacity == 8 and len(ring) == 8
    held = [r() for r in refs]
    assert all(h is not None for h in held)
    del held
    del ring
    gc.collect()
    assert [r() for r in refs] == [None] * 7


def test_a_million_entries_in_order_and_the_memory_comes_back() -> None:
    count = 1_000_000
    entries = list(range(10_000, 10_000 + count))  # made before tracing: what is traced is the ring's own memory
    probe = entries[count // 2]
    probe_refs = sys.getrefcount(probe)
    gc.collect()
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        ring = TaskRing(1024)
        for entry in entries:
            ring.push(entry)
        assert len(ring) == count and ring.high_water == count
        assert ring.capacity == 1024 * 1024  # doubled ten times
        assert sys.getrefcount(probe) == probe_refs + 1
        full, peak = tracemalloc.get_traced_memory()
        # NOTE: no int is created inside the traced loops, so tracing stays cheap.
        out_of_order = [expected for expected in entries if ring.pop() is not expected]
        assert not out_of_order, f"{len(out_of_order)} entries came out of order"
        assert len(ring) == 0 and not ring
        assert sys.getrefcount(probe) == probe_refs
        emptied, _ = tracemalloc.get_traced_memory()
        ring.push("still works")
        assert ring.pop() == "still works"
        del ring
        gc.collect()
        released, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    mib = 1024 * 1024
    # 2**20 slots of 8 bytes is 8 MiB; growing briefly holds the old array (4 MiB) as well.
    assert full - baseline >= 8 * mib, "the slot array is not where tracemalloc can see it"
    assert peak - baseline < 200 * mib, f"peak {(peak - baseline) / mib:.0f} MiB"
    assert peak - baseline < 16 * mib, f"peak {(peak - baseline) / mib:.1f} MiB for 2**20 pointers"
    assert emptied - baseline < 9 * mib  # the (empty) slot array: the ring holds nothing else
    assert released - baseline < 1 * mib, f"{(released - baseline) / mib:.1f} MiB still held after deleting the ring"
    del entries
