# cython: language_level=3, boundscheck=False, wraparound=False
"""Matching a request path against the templated routes (``/items/{item_id}``).

Why this is compiled: static paths are one dict lookup in Python, but every
request to a templated route paid a Python ``lookup`` frame, a regex match and
``groupdict()``: about 0.5 us of the path+query benchmark's ~5.5 us in-process
(benchmarks/README.md, session 3). Templates whose placeholders each fill a
whole segment (the common case) are matched here segment by segment; any other
template (``/files/{name}.txt``, ``{rest:path}``) keeps its regex, behind the
same interface. ``RouteTable`` (routing.py) decides which, and keeps the order.
"""

from cpython.unicode cimport PyUnicode_Substring, PyUnicode_Tailmatch

from zigmund_fast._compiled.handlers cimport AsyncHandle
from zigmund_fast._compiled.messages cimport RequestCore


cdef extern from "Python.h":
    Py_ssize_t PyUnicode_FindChar(object text, Py_UCS4 ch, Py_ssize_t start, Py_ssize_t end,
                                  int direction) except -2


cdef Py_UCS4 SLASH = 47  # "/"


cdef class Matcher:
    """``match(path)``: the raw path parameters (a dict) when ``path`` matches the template, else None."""

    cpdef dict match(self, str path):
        return None


cdef class SegmentMatcher(Matcher):
    """A template whose placeholders each fill one whole segment: ``/items/{item_id}/notes/{n}``.

    ``parts``: per segment after the leading ``/``, the literal text, or None for a
    placeholder; ``names``: the placeholders' names in order. A placeholder
    matches one or more characters other than ``/`` (as the regex ``[^/]+``).
    """

    cdef tuple parts
    cdef tuple names
    cdef Py_ssize_t count

    def __init__(self, parts, names):
        self.parts = tuple(parts)
        self.names = tuple(names)
        self.count = len(self.parts)
        if sum(1 for part in self.parts if part is None) != len(self.names):
            raise ValueError("one name per placeholder segment")

    cpdef dict match(self, str path):
        cdef Py_ssize_t size = len(path)
        cdef Py_ssize_t start = 1
        cdef Py_ssize_t end
        cdef Py_ssize_t index = 0
        cdef Py_ssize_t name_index = 0
        cdef dict params = {}
        cdef object part
        if size == 0:
            return None
        while True:
            if index >= self.count:
                return None
            end = PyUnicode_FindChar(path, SLASH, start, size, 1)
            if end == -1:
                end = size
            part = self.parts[index]
            if part is None:
                if end == start:
                    return None
                params[self.names[name_index]] = PyUnicode_Substring(path, start, end)
                name_index += 1
            elif end - start != len(<str>part) or (
                end > start and not PyUnicode_Tailmatch(path, <str>part, start, end, -1)
            ):
                return None
            index += 1
            if end == size:
                break
            start = end + 1
        if index != self.count:
            return None
        return params


cdef class RegexMatcher(Matcher):
    """Any other template, by its compiled regex (named groups are the parameters)."""

    cdef object regex_match

    def __init__(self, regex):
        self.regex_match = regex.match

    cpdef dict match(self, str path):
        found = self.regex_match(path)
        return None if found is None else found.groupdict()


cdef class DynamicRoutes:
    """The templated routes, looked up by the path's first segment.

    ``by_segment`` maps a literal first segment to its ``(Matcher, methods
    table)`` entries in registration order; ``wildcard`` holds the entries
    whose first segment is a placeholder (they are also in every bucket).
    RouteTable owns and fills both; this reads them.
    """

    def __init__(self, dict by_segment, list wildcard):
        self.by_segment = by_segment
        self.wildcard = wildcard

    cpdef tuple lookup(self, str path):
        """``(methods table, raw params)`` of the first template ``path`` matches, else ``(None, None)``."""
        cdef Py_ssize_t size = len(path)
        cdef Py_ssize_t end = PyUnicode_FindChar(path, SLASH, 1, size, 1) if size > 1 else -1
        cdef str segment = PyUnicode_Substring(path, 1, end if end > 0 else size) if size > 1 else ""
        cdef list candidates = self.by_segment.get(segment, self.wildcard)
        cdef tuple entry
        cdef dict params
        for entry in candidates:
            params = (<Matcher>entry[0]).match(path)
            if params is not None:
                return entry[1], params
        return None, None


cdef class AppDispatch:
    """``App.dispatch`` without middleware: request -> its route's answer (a Response, or a Future of one).

    Why this is compiled: it runs once per request, and as a Python method it
    cost a frame, two ``dict.get`` calls and a dozen attribute reads (about 3%
    of the hello benchmark's server CPU). The App keeps ``observing`` and
    ``mounts`` up to date here; ``not_found(app, request)`` and
    ``method_not_allowed(app, request, table)`` answer unmatched requests.
    """

    def __init__(self, app, dict static, DynamicRoutes dynamic, ObserverCore observer, not_found,
                 method_not_allowed):
        self.app = app
        self.static = static
        self.dynamic = dynamic
        self.observer = observer
        self.not_found = not_found
        self.method_not_allowed = method_not_allowed
        self.observing = False
        self.mounts = None

    def __call__(self, request):
        return self.dispatch(request)

    cdef object dispatch(self, object request):
        """What ``__call__`` returns. PERF: the protocol calls this in C, and it calls a route's
        compiled ``AsyncHandle`` in C (a Python call of a compiled class builds an argument tuple)."""
        cdef RequestCore core = <RequestCore?>request
        cdef tuple found
        if self.observing:
            self.observer.start_request(request)
        table = self.static.get(core.path)
        raw_params = None
        if table is None:
            found = self.dynamic.lookup(core.path)
            table, raw_params = found[0], found[1]
            if table is None:
                if self.mounts is not None:
                    return self.mounts.dispatch(request)
                return self.not_found(self.app, request)
        route = (<dict>table).get(core.method)
        if route is None:
            if core.method == "HEAD":
                route = (<dict>table).get("GET")
            if route is None:
                return self.method_not_allowed(self.app, request, table)
        if raw_params is not None:
            core._path_params = raw_params
        core.route = route
        handle = route.handle
        if type(handle) is AsyncHandle:
            return (<AsyncHandle>handle).handle(request)
        return handle(request)
