cdef class RequestCore:
    cdef public object method
    cdef public object path
    cdef public object query_string
    cdef public object raw_headers
    cdef public object _body
    cdef public object client
    cdef public object http_version
    cdef public object keep_alive
    cdef public object _path_params  # None until set by routing or asked for (path_params)
    cdef public object route
    cdef public object _state
    cdef public object _root_path
    cdef public object background
    cdef public object _headers
    cdef public object _query
    cdef public object request_id
    cdef public object started
    cdef public object status
    cdef public object response_size
    cdef public object scheme


cdef class ResponseCore:
    cdef public object body
    cdef public object status_code
    cdef public object media_type
    cdef public object _headers
    cdef public object background


cdef RequestCore new_request(type cls, str method, str path, bytes query_string, list raw_headers, bytes body,
                             object client, str http_version, bint keep_alive)
cpdef ResponseCore new_response(type cls, bytes body, int status_code, object media_type)


cdef class TasksCore:
    cdef public list _items
    cdef public object route
    cdef public object request_id
    cdef public object strategy
    cdef public object _when_done


cpdef TasksCore new_tasks(type cls)
