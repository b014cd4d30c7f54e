from cpython.ref cimport PyObject

from zigmund_fast._compiled.events cimport ObserverCore


cdef class TaskRing:
    cdef PyObject** _slots
    cdef Py_ssize_t _capacity
    cdef Py_ssize_t _max_capacity
    cdef Py_ssize_t _head
    cdef Py_ssize_t _count
    cdef Py_ssize_t _high_water

    cdef int _grow(self) except -1
    cpdef push(self, object item)
    cpdef object pop(self)


cdef class TaskRunnerCore:
    cdef readonly TaskRing ring
    cdef public object loop
    cdef public ObserverCore observer
    cdef public object on_pressure
    cdef public Py_ssize_t pending
    cdef public Py_ssize_t peak_pending
    cdef public Py_ssize_t queued_total
    cdef public Py_ssize_t succeeded
    cdef public Py_ssize_t failed
    cdef public Py_ssize_t skipped
    cdef public Py_ssize_t max_pending
    cdef public Py_ssize_t low_water
    cdef public bint under_pressure
    cdef public bint idle_waiting
    cdef bint scheduled
    cdef object drain_callback

    cpdef submit(self, object batch, double now=*)
    cdef int _run_batch_fast(self, object batch) except -1
    cdef int _finished(self, object batch) except -1
