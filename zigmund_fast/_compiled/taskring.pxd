from cpython.ref cimport PyObject


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
