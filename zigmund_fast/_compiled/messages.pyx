# cython: language_level=3
"""The fields of ``Request`` and ``Response`` as C structs; the Python classes add the methods.

Why this is compiled: the protocol builds a request and reads a response for
every message, about twenty attribute stores and a dozen loads. On ``__slots__``
classes each is a Python attribute lookup (type lookup, descriptor, call); on
these bases the protocol and the task runner reach the fields directly, and a
request is made without running a Python ``__init__``. Python code sees the same
attributes as before (``request.method``, ``response.body``...).
"""


cdef class RequestCore:
    """Base of ``zigmund_fast.requests.Request``: one HTTP request's parsed parts and per-request state."""

    def __init__(self, str method, str path, bytes query_string, list raw_headers, bytes body, client,
                 str http_version="1.1", keep_alive=True):
        self.method = method
        self.path = path
        self.query_string = query_string
        self.raw_headers = raw_headers
        self._body = body
        self.client = client
        self.http_version = http_version
        self.keep_alive = keep_alive
        self.path_params = {}
        self.started = 0.0
        self.status = 0
        self.response_size = 0
        self.scheme = "http"


cdef RequestCore new_request(type cls, str method, str path, bytes query_string, list raw_headers, bytes body,
                             object client, str http_version, bint keep_alive):
    """A ``cls`` (a ``RequestCore`` subclass without ``__init__`` of its own) made without a Python call."""
    cdef RequestCore request = RequestCore.__new__(cls)
    request.method = method
    request.path = path
    request.query_string = query_string
    request.raw_headers = raw_headers
    request._body = body
    request.client = client
    request.http_version = http_version
    request.keep_alive = keep_alive
    request.path_params = {}
    request.started = 0.0
    request.status = 0
    request.response_size = 0
    request.scheme = "http"
    return request


cdef class ResponseCore:
    """Base of ``zigmund_fast.responses.Response``: status, body, media type, extra headers, tasks."""


cpdef ResponseCore new_response(type cls, bytes body, int status_code, object media_type):
    """A ``cls`` response from already-checked parts, skipping its ``__init__`` validation."""
    cdef ResponseCore response = ResponseCore.__new__(cls)
    response.body = body
    response.status_code = status_code
    response.media_type = media_type
    return response
