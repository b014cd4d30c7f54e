from zigmund_fast._compiled.messages cimport RequestCore


# What a scalar parameter's raw string becomes.
cdef enum Conversion:
    KEEP_STR = 0   # str parameters: the raw text
    TO_INT = 1     # int: plain ASCII digits here, anything else through the converter (signs, errors)
    CALL = 2       # everything else: the converter


cdef class ScalarParam:
    cdef bint from_path
    cdef str alias
    cdef object converter
    cdef Conversion conversion
    cdef bint required
    cdef object default
    cdef tuple loc
    cdef object invalid_type
    cdef object missing
    cdef object invalid
    cdef object query_params_class
    cdef bytes alias_bytes

    cdef object extract(self, RequestCore core, list errors)


cdef class Collect:
    cdef tuple extractors
    cdef object http_exception_type
    cdef object validation_error
    cdef bint positional

    cdef object collect(self, object request)


cdef class DirectCall:
    cdef object endpoint
    cdef tuple names
    cdef tuple kinds
    cdef tuple extracts
    cdef bint positional
    cdef type tasks_class
    cdef Py_ssize_t count

    cdef object _argument(self, RequestCore request, Py_ssize_t index)
    cdef object call(self, object request)
