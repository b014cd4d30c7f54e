from zigmund_fast._compiled.events cimport ObserverCore


cdef class DynamicRoutes:
    cdef dict by_segment
    cdef list wildcard

    cpdef tuple lookup(self, str path)


cdef class AppDispatch:
    cdef public bint observing
    cdef public object mounts
    cdef object app
    cdef dict static
    cdef DynamicRoutes dynamic
    cdef ObserverCore observer
    cdef object not_found
    cdef object method_not_allowed

    cdef object dispatch(self, object request)
