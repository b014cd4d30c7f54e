cdef struct Buffer:
    char* data
    Py_ssize_t size
    Py_ssize_t capacity


cdef class TaskLabel:
    cdef readonly object func
    cdef readonly object route
    cdef readonly object name
    cdef bytes middle


cdef class EventLog:
    # The JSON lines encoded since the last flush (kept allocated between flushes: a fresh
    # 256 KiB allocation per flush costs page faults).
    cdef Buffer _buffer
    cdef Py_ssize_t _count
    cdef public int fd
    # Streaming writeback of a regular file (see the class docstring): on or off (it turns itself
    # off when the file does not support it), the file offset where the current window starts
    # (-1 until the first full window), and how many bytes this log wrote since.
    cdef public bint drop_cache
    cdef long long _window_start
    cdef long long _window_bytes
    cdef readonly Py_ssize_t batch_size
    cdef readonly double flush_interval
    cdef object _write
    cdef object _timer
    cdef object _on_timer

    cdef int _commit(self) except -1
    cdef void _stream_out(self, Py_ssize_t written) noexcept
    cdef int record_request_start(self, double now, object request) except -1
    cdef int record_request_end(self, double now, double duration, object request) except -1
    cdef int record_task(self, int kind, double now, object request_id, TaskLabel label,
                         Py_ssize_t depth, double duration) except -1
    cpdef add_event(self, object event)
    cpdef flush(self)


cdef class ObserverCore:
    cdef public list sinks
    cdef public list logs
    cdef public bint enabled

    cpdef str start_request(self, object request)
    cpdef requests_written(self, list requests, double now=*)
    cpdef task_queued(self, object batch, Py_ssize_t depth, double now=*)
    cpdef double task_start(self, object batch, Py_ssize_t index)
    cpdef task_end(self, object batch, Py_ssize_t index, double duration, double now=*)


cdef double monotonic_now() noexcept nogil
