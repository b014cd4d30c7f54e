# cython: language_level=3, boundscheck=False, wraparound=False
"""Reading a handler's path and query parameters, and gathering its keyword arguments.

Why this is compiled: on the path+query benchmark (``/items/{item_id}?q=``)
the Python version spent about 1.2 us per request in seven frames (``collect``,
two extractor closures, their lookups, ``Request.query_params``,
``QueryParams.__init__``, ``parse_query``) and the ``int`` converter
(benchmarks/README.md, session 3). What each parameter means (its alias,
converter, default, constraints) is still decided once, in injection.py, when
the route is registered; these classes only carry it out per request.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeLatin1, PyUnicode_Substring
from libc.string cimport memchr, memcmp

from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM

from zigmund_fast._compiled.messages cimport RequestCore, new_tasks


cdef extern from "Python.h":
    bint PyUnicode_IS_COMPACT_ASCII(object text)
    void* PyUnicode_DATA(object text)
    Py_ssize_t PyUnicode_GET_LENGTH(object text)
    Py_ssize_t PyUnicode_FindChar(object text, Py_UCS4 ch, Py_ssize_t start, Py_ssize_t end,
                                  int direction) except -2

cdef Py_UCS4 AMPERSAND = 38  # "&"
cdef Py_UCS4 EQUALS = 61  # "="

from urllib.parse import unquote_plus

cdef object _unquote_plus = unquote_plus


cpdef list parse_query(str query):
    """``a=1&b=x+y&c`` -> [("a", "1"), ("b", "x y"), ("c", "")], keeping blank values."""
    cdef list items = []
    cdef Py_ssize_t size = len(query)
    cdef Py_ssize_t start = 0
    cdef Py_ssize_t end
    cdef Py_ssize_t equals
    cdef str name
    cdef str value
    while start < size:
        end = PyUnicode_FindChar(query, AMPERSAND, start, size, 1)
        if end == -1:
            end = size
        if end > start:
            equals = PyUnicode_FindChar(query, EQUALS, start, end, 1)
            if equals == -1:
                name = PyUnicode_Substring(query, start, end)
                value = ""
            else:
                name = PyUnicode_Substring(query, start, equals)
                value = PyUnicode_Substring(query, equals + 1, end)
            if (PyUnicode_FindChar(query, 37, start, end, 1) != -1     # "%"
                    or PyUnicode_FindChar(query, 43, start, end, 1) != -1):  # "+"
                name = _unquote_plus(name)
                value = _unquote_plus(value)
            items.append((name, value))
        start = end + 1
    return items


cpdef object query_value(bytes query_string, bytes alias_bytes, str alias):
    """The last value of ``alias`` in a raw query string, or None: ``dict(parse_query(...)).get(alias)``
    without building the list, the dict or any string but the value.

    Pieces without ``%`` or ``+`` are compared as bytes (the query is read as latin-1, so
    ``alias_bytes`` is the alias in latin-1, or None when it has no latin-1 spelling); the others
    are unquoted as ``parse_query`` does.
    """
    cdef const char* data = PyBytes_AS_STRING(query_string)
    cdef Py_ssize_t size = PyBytes_GET_SIZE(query_string)
    cdef Py_ssize_t start = 0, end, equals, name_end
    cdef const char* mark
    cdef Py_ssize_t alias_size = PyBytes_GET_SIZE(alias_bytes) if alias_bytes is not None else -1
    found = None
    while start < size:
        mark = <const char*>memchr(data + start, c'&', size - start)
        end = mark - data if mark != NULL else size
        if end > start:
            mark = <const char*>memchr(data + start, c'=', end - start)
            equals = mark - data if mark != NULL else -1
            name_end = equals if equals != -1 else end
            if (memchr(data + start, c'%', end - start) != NULL
                    or memchr(data + start, c'+', end - start) != NULL):
                name = _unquote_plus(PyUnicode_DecodeLatin1(data + start, name_end - start, NULL))
                if name == alias:
                    found = (_unquote_plus(PyUnicode_DecodeLatin1(data + equals + 1, end - equals - 1, NULL))
                             if equals != -1 else "")
            elif name_end - start == alias_size and memcmp(data + start, PyBytes_AS_STRING(alias_bytes),
                                                           alias_size) == 0:
                found = PyUnicode_DecodeLatin1(data + equals + 1, end - equals - 1, NULL) if equals != -1 else ""
        start = end + 1
    return found


cdef inline object query_params_of(RequestCore request, object query_params_class):
    """``request.query_params`` (made once per request, as the property does)."""
    query = request._query
    if query is None:
        query = request._query = query_params_class(request.query_string)
    return query


cdef inline long long ascii_digits_value(str text):
    """The value of 1 to 18 ASCII digits, else -1 (``int()`` then handles signs, spaces, other digits
    and errors). PERF: read in C instead of ``isascii()``, ``isdigit()`` and ``int()`` by name."""
    cdef Py_ssize_t size = PyUnicode_GET_LENGTH(text), i
    cdef const unsigned char* data
    cdef long long value = 0
    if not PyUnicode_IS_COMPACT_ASCII(text) or size == 0 or size > 18:
        return -1
    data = <const unsigned char*>PyUnicode_DATA(text)
    for i in range(size):
        if data[i] < 48 or data[i] > 57:
            return -1
        value = value * 10 + (data[i] - 48)
    return value


cdef class ScalarParam:
    """One path or query parameter: ``extract(request, errors)`` -> its value (or default), adding errors.

    ``converter(raw)`` raises ``invalid_type`` (injection's ``_Invalid``) for bad
    input; ``missing(loc)`` and ``invalid(exc, loc, raw)`` build the error dicts;
    ``query_params_class`` is requests.QueryParams (``request.query_params`` is made
    the same way the property makes it).
    """

    def __init__(self, str location, str alias, converter, bint keep_str, bint is_int, bint required, default,
                 invalid_type, missing, invalid, query_params_class):
        if location not in ("path", "query"):
            raise ValueError(f"ScalarParam reads path or query parameters, not {location!r}")
        self.from_path = location == "path"
        self.alias = alias
        self.converter = converter
        self.conversion = KEEP_STR if keep_str else (TO_INT if is_int else CALL)
        self.required = required
        self.default = default
        self.loc = (location, alias)
        self.invalid_type = invalid_type
        self.missing = missing
        self.invalid = invalid
        self.query_params_class = query_params_class
        try:
            self.alias_bytes = alias.encode("latin-1")
        except UnicodeEncodeError:
            self.alias_bytes = None  # only an escaped name can spell it

    def __call__(self, request, list errors):
        return self.extract(<RequestCore?>request, errors)

    cdef object extract(self, RequestCore core, list errors):
        """The parameter's value; errors are appended to ``errors``. PERF: Collect calls this in C."""
        cdef object raw
        if self.from_path:
            params = core._path_params  # None when routing set none
            raw = (<dict?>params).get(self.alias) if params is not None else None
        else:
            query = core._query
            if query is not None:
                raw = query._last.get(self.alias)  # PERF: its dict, no frame
            elif type(core.query_string) is bytes:
                # PERF: read straight from the raw query; request.query_params is made only if asked for.
                raw = query_value(<bytes>core.query_string, self.alias_bytes, self.alias)
            else:  # a query string someone replaced with a str
                raw = query_params_of(core, self.query_params_class)._last.get(self.alias)
        if raw is None:
            if self.required:
                errors.append(self.missing(list(self.loc)))
            return self.default
        if self.conversion == KEEP_STR:
            return raw
        if self.conversion == TO_INT and type(raw) is str:
            number = ascii_digits_value(<str>raw)
            if number >= 0:
                return number
        try:
            return self.converter(raw)
        except self.invalid_type as exc:
            errors.append(self.invalid(exc, list(self.loc), raw))
            return None


cdef class Collect:
    """``collect(request)``: the handler's keyword arguments, or the error to answer with.

    ``extractors``: ``(name, extract)`` pairs, each ``extract(request, errors)``.
    An ``http_exception_type`` raised by one (a body that can't be parsed at all)
    is returned; collected validation errors become ``validation_error(request, errors)``.
    With ``positional`` (the handler binds these names by position, in this
    order) the arguments come as a tuple instead of a dict: PERF, a call by
    position skips matching keywords to parameters.
    """

    def __init__(self, extractors, http_exception_type, validation_error, bint positional=False):
        self.extractors = tuple(extractors)
        self.http_exception_type = http_exception_type
        self.validation_error = validation_error
        self.positional = positional

    def __call__(self, request):
        return self.collect(request)

    cdef object collect(self, object request):
        """What ``__call__`` returns. PERF: AsyncHandle calls this in C, and ScalarParam extractors are
        called in C too (a Python call of a compiled class builds an argument tuple)."""
        cdef dict kwargs
        cdef list errors = []
        cdef tuple values
        cdef tuple pair
        cdef Py_ssize_t index
        cdef RequestCore core = <RequestCore?>request
        try:
            if self.positional:
                values = PyTuple_New(len(self.extractors))
                for index in range(len(self.extractors)):
                    value = _extracted(self.extractors[index], core, errors)
                    Py_INCREF(value)
                    PyTuple_SET_ITEM(values, index, value)
            else:
                kwargs = {}
                for pair in self.extractors:
                    kwargs[pair[0]] = _extracted(pair, core, errors)
        except self.http_exception_type as exc:
            return exc
        if errors:
            return self.validation_error(request, errors)
        return values if self.positional else kwargs


cdef inline object _extracted(tuple pair, RequestCore request, list errors):
    """``extract(request, errors)`` of a ``(name, extract)`` pair."""
    extract = pair[1]
    if type(extract) is ScalarParam:
        return (<ScalarParam>extract).extract(request, errors)
    return extract(request, errors)


cdef enum ArgumentKind:
    ARGUMENT_REQUEST = 0
    ARGUMENT_TASKS = 1
    ARGUMENT_OTHER = 2   # anything else that cannot fail: ``extract(request, None)``


cdef class DirectCall:
    """``call(request)``: the handler called straight away, for signatures whose arguments cannot fail.

    ``arguments``: ``(name, kind, extract)`` triples in signature order, kind
    0 for the Request, 1 for its BackgroundTasks (made here, in C, when the
    request has none: ``new_tasks(tasks_class)``), 2 for ``extract(request,
    None)``. ``positional``: pass them by position (every parameter is
    positional-or-keyword, in this order) instead of by keyword.

    Why this is compiled: the seed's POST route (``req: Request, tasks:
    BackgroundTasks``) paid a generated Python function and a Python
    ``_extract_tasks`` frame on every request before its handler ran.
    """

    def __init__(self, endpoint, arguments, bint positional, type tasks_class):
        self.endpoint = endpoint
        self.names = tuple(name for name, _, _ in arguments)
        self.kinds = tuple(int(kind) for _, kind, _ in arguments)
        self.extracts = tuple(extract for _, _, extract in arguments)
        self.positional = positional
        self.tasks_class = tasks_class
        self.count = len(self.names)
        if any(kind not in (ARGUMENT_REQUEST, ARGUMENT_TASKS, ARGUMENT_OTHER) for kind in self.kinds):
            raise ValueError(f"argument kinds are 0 (request), 1 (tasks) or 2 (other), got {self.kinds}")

    cdef object _argument(self, RequestCore request, Py_ssize_t index):
        cdef int kind = <int>self.kinds[index]
        if kind == ARGUMENT_REQUEST:
            return request
        if kind == ARGUMENT_TASKS:
            tasks = request.background
            if tasks is None:
                # NOTE: the finish sets route, request_id and strategy when the handler returns.
                tasks = request.background = new_tasks(self.tasks_class)
            return tasks
        return self.extracts[index](request, None)

    def __call__(self, request):
        return self.call(request)

    cdef object call(self, object request):
        """What ``__call__`` returns. PERF: AsyncHandle calls this in C."""
        cdef RequestCore core = <RequestCore?>request
        cdef Py_ssize_t index
        if self.positional:
            if self.count == 1:
                return self.endpoint(self._argument(core, 0))
            if self.count == 2:
                return self.endpoint(self._argument(core, 0), self._argument(core, 1))
            return self.endpoint(*[self._argument(core, index) for index in range(self.count)])
        kwargs = {}
        for index in range(self.count):
            kwargs[self.names[index]] = self._argument(core, index)
        return self.endpoint(**kwargs)
