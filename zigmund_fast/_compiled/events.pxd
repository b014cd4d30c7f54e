from cpython.ref cimport PyObject


cdef struct Record:
    int kind
    double timestamp
    PyObject* subject       # the Request, the task batch, or a Python Event (an owned reference)
    Py_ssize_t index        # the task's position in its batch
    Py_ssize_t number       # task.queued: the queue depth
    double duration


cdef class EventLog:
    cdef Record* _records
    cdef Py_ssize_t _count
    cdef Py_ssize_t _capacity
    cdef readonly Py_ssize_t batch_size
    cdef readonly double flush_interval
    cdef object _write
    cdef object _timer
    cdef object _on_timer

    cdef int append(self, int kind, double timestamp, object subject, Py_ssize_t index, Py_ssize_t number,
                    double duration) except -1
    cpdef add_event(self, object event)
    cpdef flush(self)


cdef class ObserverCore:
    cdef public list sinks
    cdef public list logs
    cdef public bint enabled

    cpdef str start_request(self, object request)
    cpdef requests_written(self, list requests)
    cpdef task_queued(self, object batch, Py_ssize_t depth)
    cpdef task_start(self, object batch, Py_ssize_t index)
    cpdef task_end(self, object batch, Py_ssize_t index, double duration)


cdef double monotonic_now() noexcept nogil
