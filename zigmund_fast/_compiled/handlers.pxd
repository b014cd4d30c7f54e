cdef class PlainFinish:
    cdef object encode
    cdef int status_code
    cdef object on_error
    cdef object route_path
    cdef object strategy
    cdef type response_type

    cdef object finish(self, object request, object value)


cdef class AsyncHandle:
    cdef object call
    cdef object collect
    cdef object endpoint
    cdef bint has_extractors
    cdef bint eager
    cdef object finish
    cdef object on_error
    cdef object resume
    cdef object run_in_task
    cdef object name

    cdef object handle(self, object request)
