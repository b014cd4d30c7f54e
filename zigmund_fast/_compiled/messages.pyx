# cython: language_level=3
"""The fields of ``Request``, ``Response`` and ``BackgroundTasks`` as C structs; the Python classes add the rest.

Why this is compiled: the protocol builds a request and reads a response for
every message, about twenty attribute stores and a dozen loads. On ``__slots__``
classes each is a Python attribute lookup (type lookup, descriptor, call); on
these bases the protocol and the task runner reach the fields directly, and a
request is made without running a Python ``__init__``. Python code sees the same
attributes as before (``request.method``, ``response.body``...). A request's
``BackgroundTasks`` is made the same way, and its ``add(fn, *args)`` (the call
every task-queueing handler makes) runs here without a Python frame.
"""

from cpython.ref cimport PyObject, Py_DECREF, Py_INCREF

cdef extern from "Python.h":
    ctypedef struct PyCodeObject:
        int co_flags
    bint PyFunction_Check(object op)
    PyObject* PyFunction_GET_CODE(object op)
    PyObject* PyType_GenericAlloc(type cls, Py_ssize_t items) except NULL
    void PyTuple_SET_ITEM(object p, Py_ssize_t pos, object o)


cdef class RequestCore:
    """Base of ``zigmund_fast.requests.Request``: one HTTP request's parsed parts and per-request state."""

    def __init__(self, str method, str path, bytes query_string, list raw_headers, bytes body, client,
                 str http_version="1.1", keep_alive=True):
        fill_request(self, method, path, query_string, raw_headers, body, client, http_version, keep_alive)

    @property
    def path_params(self):
        """The matched route's path parameters (raw strings), by name; empty for a static route."""
        if self._path_params is None:
            self._path_params = {}  # PERF: made on demand; most requests match a static route
        return self._path_params

    @path_params.setter
    def path_params(self, value):
        self._path_params = value


cdef inline void fill_request(RequestCore request, str method, str path, bytes query_string, list raw_headers,
                              bytes body, object client, str http_version, object keep_alive):
    request.method = method
    request.path = path
    request.query_string = query_string
    request.raw_headers = raw_headers
    request._body = body
    request.client = client
    request.http_version = http_version
    request.keep_alive = keep_alive
    request.started = 0.0
    request.status = 0
    request.response_size = 0
    request.scheme = "http"


cdef RequestCore new_request(type cls, str method, str path, bytes query_string, list raw_headers, bytes body,
                             object client, str http_version, bint keep_alive):
    """A ``cls`` (a ``RequestCore`` subclass without ``__init__`` of its own) made without a Python call."""
    cdef RequestCore request = RequestCore.__new__(cls)
    fill_request(request, method, path, query_string, raw_headers, body, client, http_version, keep_alive)
    return request


import msgspec

# The JSON encoder of Response.json and JSONResponse (responses.py uses this one too).
json_encode = msgspec.json.Encoder().encode
cdef object _json_encode = json_encode


cdef class ResponseCore:
    """Base of ``zigmund_fast.responses.Response``: status, body, media type, extra headers, tasks."""

    @staticmethod
    def json(content, status_code=200, headers=None):
        """A JSON response encoded with msgspec (dicts, lists, Structs, dataclasses, UUIDs, datetimes...).

        Always a plain ``Response``, whichever subclass it is called on. PERF: compiled, because
        handlers call it on every request (``return Response.json(...)``); with no headers and a
        valid status the response is made without running ``Response.__init__``.
        """
        body = _json_encode(content)
        if headers is None and type(status_code) is int and 100 <= <long>status_code <= 599:
            return new_response(_response_class, body, status_code, "application/json")
        return _response_class(body, status_code, headers, "application/json")


cpdef ResponseCore new_response(type cls, bytes body, int status_code, object media_type):
    """A ``cls`` response from already-checked parts, skipping its ``__init__`` validation."""
    cdef ResponseCore response = ResponseCore.__new__(cls)
    response.body = body
    response.status_code = status_code
    response.media_type = media_type
    return response


# zigmund_fast.responses.Response, registered by responses.py when it is defined (for ResponseCore.json).
cdef type _response_class = ResponseCore


def set_response_class(type cls):
    global _response_class
    _response_class = cls


cdef int CO_COROUTINE = 0x80  # inspect.CO_COROUTINE

# background.TaskItem, registered by background.py (what ``add`` makes); plain tuples until then.
cdef type _task_item_type = tuple


def set_task_item_type(type cls):
    global _task_item_type
    if not issubclass(cls, tuple):
        raise TypeError("a task item type is a tuple subclass")
    _task_item_type = cls


cdef object new_item(object func, tuple args, dict kwargs, bint is_async):
    """A ``TaskItem(func, args, kwargs, is_async, None, False)`` built in place.

    PERF: ``tuple.__new__(TaskItem, (...))`` builds the tuple twice (and an
    argument tuple); this allocates the subtype once and fills its six slots.
    """
    cdef type cls = _task_item_type
    cdef object item = <object>PyType_GenericAlloc(cls, 6)  # the tp_alloc of tuple and its subclasses
    Py_DECREF(item)  # the allocation's reference, now held by ``item``
    set_slot(item, 0, func)
    set_slot(item, 1, args)
    set_slot(item, 2, kwargs)
    set_slot(item, 3, True if is_async else False)
    set_slot(item, 4, None)  # timeout
    set_slot(item, 5, False)  # blocking
    return item


cdef inline void set_slot(object item, Py_ssize_t index, object value):
    """Fill an empty slot of a new tuple (PyTuple_SET_ITEM takes the reference it is given)."""
    Py_INCREF(value)
    PyTuple_SET_ITEM(item, index, value)


cdef class TasksCore:
    """Base of ``zigmund_fast.background.BackgroundTasks``: one request's queued tasks, in order.

    ``_items``: ``TaskItem`` tuples; ``route``, ``request_id`` and ``strategy``
    are set when the handler returns; ``_when_done``: callbacks for when the
    batch is over (or None).
    """

    def __init__(self):
        self._items = []

    def add(self, func, /, *args, **kwargs):
        """Queue ``func(*args, **kwargs)`` to run after the response is sent.

        Two keyword names are options, not arguments of ``func``:
        ``timeout`` (seconds; an async or ``blocking`` task past it is
        cancelled and reported as an error) and ``blocking`` (run a plain
        function on the task thread pool instead of inline on the loop).
        Use ``add_task`` to pass keywords of those names through to ``func``.
        """
        if not kwargs:
            # PERF: the common call, add(fn, *args), skips option parsing; a plain
            # function's flags are read from its code object in C.
            if PyFunction_Check(func):
                self._items.append(new_item(func, args, kwargs,
                                            ((<PyCodeObject*>PyFunction_GET_CODE(func)).co_flags & CO_COROUTINE) != 0))
                return
            code = getattr(func, "__code__", None)
            if code is not None:
                self._items.append(new_item(func, args, kwargs, (code.co_flags & CO_COROUTINE) != 0))
                return
        self._add_with_options(func, args, kwargs)


cpdef TasksCore new_tasks(type cls):
    """An empty ``cls`` (a TasksCore subclass) made without a Python ``__init__``."""
    cdef TasksCore tasks = TasksCore.__new__(cls)
    tasks._items = []
    return tasks
