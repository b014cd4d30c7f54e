from cpython.ref cimport PyObject


cdef struct Record:
    int kind
    double timestamp
    double duration
    Py_ssize_t number       # request.end: status; task.queued: queue depth
    Py_ssize_t number2      # request.end: response size
    # Owned references to the event's values (str, bytes or None; a Python Event for K_OBJECT).
    # NOTE: values, not the request or batch: holding those would keep container objects
    # alive past their request, which the cyclic GC then keeps scanning.
    PyObject* refs[9]


cdef class EventLog:
    cdef Record* _records
    cdef Py_ssize_t _count
    cdef Py_ssize_t _capacity
    # PERF: the record array and the output buffer of the last flush are kept for the next one
    # (a fresh 256 KiB allocation per flush costs page faults).
    cdef Record* _spare
    cdef Py_ssize_t _spare_capacity
    cdef char* _out
    cdef Py_ssize_t _out_capacity
    cdef bint _encoding
    cdef readonly Py_ssize_t batch_size
    cdef readonly double flush_interval
    cdef object _write
    cdef object _timer
    cdef object _on_timer

    cdef Record* _next(self) except NULL
    cdef int _commit(self) except -1
    cdef int record_request_start(self, double now, object request) except -1
    cdef int record_request_end(self, double now, double duration, object request) except -1
    cdef int record_task(self, int kind, double now, object request_id, object route, object name,
                         Py_ssize_t depth, double duration) except -1
    cpdef add_event(self, object event)
    cpdef flush(self)


cdef class ObserverCore:
    cdef public list sinks
    cdef public list logs
    cdef public bint enabled

    cpdef str start_request(self, object request)
    cpdef requests_written(self, list requests)
    cpdef task_queued(self, object batch, Py_ssize_t depth)
    cpdef double task_start(self, object batch, Py_ssize_t index)
    cpdef task_end(self, object batch, Py_ssize_t index, double duration, double now=*)


cdef double monotonic_now() noexcept nogil
