# cython: language_level=3, boundscheck=False, wraparound=False
"""A FIFO ring of Python objects in a C array: the queue of background-task batches.

Slots hold owned references. The ring doubles its array when full (up to an
optional ``max_capacity``, past which ``push`` raises ``RingFull``); it never
drops or overwrites an entry.
"""

from cpython.mem cimport PyMem_Malloc, PyMem_Free
from cpython.ref cimport PyObject, Py_INCREF, Py_DECREF, Py_XDECREF

from zigmund_fast._compiled.events cimport ObserverCore, monotonic_now
from zigmund_fast._compiled.messages cimport TasksCore

from zigmund_fast._compiled.errors import RingFull


cdef class TaskRing:
    """FIFO of Python objects.

    Parameters:
        capacity: initial number of slots (rounded up to at least 8).
        max_capacity: 0 for no limit; otherwise ``push`` raises ``RingFull``
            instead of growing past it.
    """

    def __cinit__(self, Py_ssize_t capacity=1024, Py_ssize_t max_capacity=0):
        if capacity < 8:
            capacity = 8
        if max_capacity < 0:
            raise ValueError("max_capacity must be >= 0")
        if max_capacity and capacity > max_capacity:
            capacity = max_capacity
        self._slots = <PyObject**>PyMem_Malloc(capacity * sizeof(PyObject*))
        if self._slots is NULL:
            raise MemoryError()
        self._capacity = capacity
        self._max_capacity = max_capacity
        self._head = 0
        self._count = 0
        self._high_water = 0

    def __dealloc__(self):
        cdef Py_ssize_t i
        if self._slots is not NULL:
            for i in range(self._count):
                Py_XDECREF(self._slots[(self._head + i) % self._capacity])
            PyMem_Free(self._slots)
            self._slots = NULL

    cdef int _grow(self) except -1:
        cdef Py_ssize_t new_capacity = self._capacity * 2
        cdef Py_ssize_t i
        cdef PyObject** slots
        if self._max_capacity:
            if self._capacity >= self._max_capacity:
                raise RingFull(f"task ring is full ({self._capacity} entries)")
            if new_capacity > self._max_capacity:
                new_capacity = self._max_capacity
        slots = <PyObject**>PyMem_Malloc(new_capacity * sizeof(PyObject*))
        if slots is NULL:
            raise MemoryError()
        # NOTE: unwrap into the new array so head is 0 again.
        for i in range(self._count):
            slots[i] = self._slots[(self._head + i) % self._capacity]
        PyMem_Free(self._slots)
        self._slots = slots
        self._capacity = new_capacity
        self._head = 0
        return 0

    cpdef push(self, object item):
        """Append ``item`` at the tail; grows the array when it is full."""
        if self._count == self._capacity:
            self._grow()
        Py_INCREF(item)
        self._slots[(self._head + self._count) % self._capacity] = <PyObject*>item
        self._count += 1
        if self._count > self._high_water:
            self._high_water = self._count

    cpdef object pop(self):
        """Remove and return the oldest entry; ``IndexError`` when empty."""
        if self._count == 0:
            raise IndexError("pop from an empty TaskRing")
        cdef PyObject* slot = self._slots[self._head]
        self._slots[self._head] = NULL
        self._head = (self._head + 1) % self._capacity
        self._count -= 1
        item = <object>slot
        Py_DECREF(item)  # the ring's reference; ``item`` holds its own
        return item

    def __len__(self):
        return self._count

    def __bool__(self):
        return self._count != 0

    @property
    def capacity(self) -> int:
        """Slots currently allocated."""
        return self._capacity

    @property
    def max_capacity(self) -> int:
        return self._max_capacity

    @property
    def high_water(self) -> int:
        """The largest number of entries held at once since creation."""
        return self._high_water


# PERF: tasks run per loop iteration before the loop gets back to I/O.
cdef Py_ssize_t BATCHES_PER_TICK = 512


cdef class TaskRunnerCore:
    """The mechanism of the background-task runner: queue, counters, and the drain loop.

    Batches (objects with an ``_items`` list of
    ``(func, args, kwargs, is_async, timeout, blocking)`` tuples) are pushed on
    the ring by ``submit`` and drained on the loop, a bounded number per
    iteration. Plain tasks without options run right here; everything that is
    policy (async and blocking tasks, timeouts, failures, events, backpressure
    callbacks, idleness) is delegated to methods of the Python subclass:
    ``_start_async``, ``_record_failure``, ``_batch_done``, ``_maybe_idle``,
    ``_check_pressure``. Events go to the typed ``observer`` (C calls).
    """

    def __init__(self, loop, Py_ssize_t max_pending=0):
        self.ring = TaskRing(1024)
        self.loop = loop
        self.max_pending = max_pending
        self.low_water = max_pending // 2
        self.drain_callback = self._drain

    cpdef submit(self, object batch, double now=0.0):
        """Queue a request's tasks (a ``BackgroundTasks``). Called after its response was written to the transport.

        ``now``: the monotonic time of that write, if the caller read it (the ``task.queued`` time).
        """
        cdef list items = (<TasksCore?>batch)._items
        cdef Py_ssize_t count = len(items)
        if count == 0:
            self._finished(batch)
            return
        self.ring.push(batch)
        self.pending += count
        self.queued_total += count
        if self.pending > self.peak_pending:
            self.peak_pending = self.pending
        if self.observer is not None:
            self.observer.task_queued(batch, self.pending, now)
        if self.max_pending and self.pending >= self.max_pending and not self.under_pressure:
            self.under_pressure = True
            if self.on_pressure is not None:
                self.on_pressure(True)
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.drain_callback)

    def _drain(self):
        """Called by the loop: run queued batches, a bounded number per iteration."""
        cdef Py_ssize_t budget = BATCHES_PER_TICK
        self.scheduled = False
        while self.ring._count and budget:
            budget -= 1
            self._run_batch_fast(self.ring.pop())
        if self.ring._count:
            self.scheduled = True
            self.loop.call_soon(self.drain_callback)
        elif self.idle_waiting:
            self._maybe_idle()
        if self.under_pressure:
            self._check_pressure()

    cdef int _run_batch_fast(self, object batch) except -1:
        cdef list items = (<TasksCore>batch)._items  # only TasksCore objects get past submit
        cdef Py_ssize_t index
        cdef tuple item
        cdef ObserverCore observer = self.observer
        cdef double started = 0.0
        cdef double ended
        for index in range(len(items)):
            item = <tuple>items[index]
            # item[3:6]: is_async, timeout, blocking
            if item[3] or item[5] or item[4] is not None:
                self._start_async(batch, index)
                return 0
            if observer is not None:
                started = observer.task_start(batch, index)  # PERF: the event's clock read is the start time
            try:
                if item[2]:
                    item[0](*item[1], **item[2])
                else:
                    item[0](*<tuple>item[1])  # PERF: no copy of an empty kwargs dict
            except Exception as exc:
                if not self._record_failure(batch, index, exc, monotonic_now() - started if started else 0.0):
                    break
            else:
                self.succeeded += 1
                self.pending -= 1
                if observer is not None:
                    ended = monotonic_now()
                    observer.task_end(batch, index, ended - started, ended)
        self._finished(batch)
        return 0

    cdef int _finished(self, object batch) except -1:
        """A batch's last task has run or been skipped: run its ``call_when_done`` callbacks, if any."""
        if (<TasksCore>batch)._when_done is not None:
            self._batch_done(batch)
        return 0
