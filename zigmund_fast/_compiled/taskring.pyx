# cython: language_level=3, boundscheck=False, wraparound=False
"""A FIFO ring of Python objects in a C array: the queue of background-task batches.

Slots hold owned references. The ring doubles its array when full (up to an
optional ``max_capacity``, past which ``push`` raises ``RingFull``); it never
drops or overwrites an entry.
"""

from cpython.mem cimport PyMem_Malloc, PyMem_Free
from cpython.ref cimport PyObject, Py_INCREF, Py_DECREF, Py_XDECREF

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
