# cython: language_level=3, cdivision=True, boundscheck=False, wraparound=False
"""Observability events encoded as JSON lines in C, and their fan-out to sinks.

Why this is compiled: the JSON-lines sink is meant to stay on in production at
full request rate. With one Python event object per step (request.start,
request.end, task.queued, task.start, task.end), the seed's POST route ran at
0.30x of its speed without a sink: about 13 us of Python per request (issue
#3's profile). Here each of those five events is written straight into a C
buffer as its JSON line when it happens, and the buffer is handed to the
sink's file in bulk. Rare events (task.error, tasks.discarded, shutdown.drain,
and any event given to a sink by hand) are Python ``Event`` objects, encoded
with msgspec into the same buffer, so the order holds.

Python sinks (``MemorySink``, metrics, user callables) still receive
``Event`` objects, built only while at least one such sink is attached.
"""

import asyncio
import functools
import os
import time

import msgspec

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.math cimport isfinite
from libc.stdint cimport uint64_t
from libc.string cimport memcmp, memcpy, strlen
from libc.errno cimport EINTR, errno
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec
from posix.unistd cimport write as c_write

from zigmund_fast._compiled.messages cimport RequestCore, TasksCore


cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object s, Py_ssize_t* size) except NULL
    bint PyUnicode_IS_COMPACT_ASCII(object s)
    void* PyUnicode_DATA(object s)
    Py_ssize_t PyUnicode_GET_LENGTH(object s)


cdef extern from *:
    """
    #include <fcntl.h>
    #include <unistd.h>
    /* Start writing [start, start+length) of fd to disk without waiting, and drop the
       already-written pages of [drop_from, drop_to) from the page cache. 0, or -1 when the
       file does not support it (a pipe, a terminal) or the system has no sync_file_range. */
    static int zf_stream_out(int fd, long long start, long long length, long long drop_from, long long drop_to) {
    #if defined(__linux__)
        if (sync_file_range(fd, (off_t)start, (off_t)length, SYNC_FILE_RANGE_WRITE) != 0) return -1;
        if (drop_to > drop_from &&
            posix_fadvise(fd, (off_t)drop_from, (off_t)(drop_to - drop_from), POSIX_FADV_DONTNEED) != 0)
            return -1;
        return 0;
    #else
        (void)fd; (void)start; (void)length; (void)drop_from; (void)drop_to;
        return -1;
    #endif
    }
    static long long zf_file_end(int fd) { return (long long)lseek(fd, 0, SEEK_CUR); }
    """
    int zf_stream_out(int fd, long long start, long long length, long long drop_from, long long drop_to) nogil
    long long zf_file_end(int fd) nogil


# A file sink hands each STREAM_WINDOW of lines to the disk as soon as it is full, and drops
# windows written out at least one window ago from the page cache (see ``EventLog.flush``).
cdef long long STREAM_WINDOW = 4 * 1024 * 1024


cdef enum:
    K_REQUEST_START = 1
    K_REQUEST_END = 2
    K_TASK_QUEUED = 3
    K_TASK_START = 4
    K_TASK_END = 5


cdef double monotonic_now() noexcept nogil:
    """``time.monotonic()`` without a Python call (CPython reads the same clock on Linux)."""
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9


# Wall-clock time of monotonic 0, so an event needs only one clock read.
cdef double WALL_OFFSET = time.time() - time.monotonic()
wall_offset = WALL_OFFSET

_encode_object = msgspec.json.Encoder(enc_hook=str).encode


cdef const char* HEX = b"0123456789abcdef"


# Task names

cdef dict _task_names = {}


def task_name(func):
    """The name a task is known by in logs and events: its qualified name, through ``functools.partial``."""
    while isinstance(func, functools.partial):
        func = func.func
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


cdef object cached_task_name(object func):
    try:
        return _task_names[func]
    except KeyError:
        pass
    except TypeError:  # unhashable callable
        return task_name(func)
    name = task_name(func)
    if len(_task_names) >= 4096:
        _task_names.clear()  # partials made per request would otherwise pile up
    _task_names[func] = name
    return name


# Request ids: a well-formed incoming X-Request-ID is kept, anything else is replaced.

cdef char _id_prefix[48]
cdef Py_ssize_t _id_prefix_size = 0
cdef unsigned long long _id_counter = 0


def reset_request_id_prefix():
    """Called at import and in a freshly forked worker, so that worker ids differ from their siblings'."""
    global _id_prefix_size
    prefix = f"{os.getpid():x}-{int(time.time()):x}-".encode("ascii")
    _id_prefix_size = len(prefix)
    memcpy(_id_prefix, <const char*>prefix, _id_prefix_size)


reset_request_id_prefix()


cdef inline bint _id_char(unsigned char c) noexcept nogil:
    return ((c >= c'a' and c <= c'z') or (c >= c'A' and c <= c'Z') or (c >= c'0' and c <= c'9')
            or c == c'.' or c == c'_' or c == c':' or c == c'@' or c == c'/' or c == c'+' or c == c'='
            or c == c'-')


cdef bint _well_formed_id(bytes value):
    cdef Py_ssize_t n = PyBytes_GET_SIZE(value), i
    cdef const unsigned char* data = <const unsigned char*>PyBytes_AS_STRING(value)
    if n < 1 or n > 128:
        return False
    for i in range(n):
        if not _id_char(data[i]):
            return False
    return True


cpdef str new_request_id():
    """``<pid>-<start time>-<counter>``, in hex."""
    global _id_counter
    cdef char text[72]
    cdef char digits[17]
    cdef int length = 0
    cdef unsigned long long rest
    _id_counter += 1
    rest = _id_counter
    while rest:
        digits[16 - length] = HEX[rest & 15]
        length += 1
        rest >>= 4
    memcpy(text, _id_prefix, _id_prefix_size)
    memcpy(text + _id_prefix_size, digits + 17 - length, length)
    return PyUnicode_DecodeASCII(text, _id_prefix_size + length, NULL)


cdef object header_value(object raw_headers, const char* name, Py_ssize_t size):
    """The first value of header ``name`` (lower-case, ``size`` bytes) in (lower-cased) raw headers, or None.

    PERF: names compared in C, without a rich comparison per header.
    """
    for header in raw_headers:
        key = (<tuple>header)[0]
        if type(key) is bytes and PyBytes_GET_SIZE(key) == size and memcmp(PyBytes_AS_STRING(key), name, size) == 0:
            return (<tuple>header)[1]
    return None


cpdef str request_id_for(list raw_headers):
    """The id for a request with these (lower-cased) raw headers."""
    value = header_value(raw_headers, b"x-request-id", 12)
    if type(value) is bytes and _well_formed_id(value):
        return value.decode("ascii")
    return new_request_id()


def request_id_from(header_value):
    """The id for a request whose ``X-Request-ID`` header is ``header_value`` (or None)."""
    if header_value is not None:
        try:
            raw = header_value.encode("ascii")
        except UnicodeEncodeError:
            raw = b""
        if _well_formed_id(raw):
            return header_value
    return new_request_id()


# A growable byte buffer and the JSON pieces written into it

cdef int reserve(Buffer* buffer, Py_ssize_t extra) except -1:
    cdef Py_ssize_t wanted = buffer.size + extra
    cdef Py_ssize_t capacity
    cdef char* data
    if wanted <= buffer.capacity:
        return 0
    capacity = buffer.capacity * 2 if buffer.capacity else 65536
    while capacity < wanted:
        capacity *= 2
    data = <char*>PyMem_Realloc(buffer.data, capacity)
    if data == NULL:
        raise MemoryError()
    buffer.data = data
    buffer.capacity = capacity
    return 0


cdef inline int put(Buffer* buffer, const char* text, Py_ssize_t size) except -1:
    if buffer.size + size > buffer.capacity:
        reserve(buffer, size)
    memcpy(buffer.data + buffer.size, text, size)
    buffer.size += size
    return 0


cdef inline int put_literal(Buffer* buffer, const char* text) except -1:
    return put(buffer, text, strlen(text))


# Bytes that JSON strings escape: 1 for '"', '\\' and controls; 2 for bytes >= 0x80, which only
# latin-1 input re-encodes (UTF-8 input copies them as they are).
cdef unsigned char ESCAPE_CLASS[256]
for _c in range(256):
    ESCAPE_CLASS[_c] = 1 if (_c < 0x20 or _c == 0x22 or _c == 0x5C) else (2 if _c >= 0x80 else 0)


cdef uint64_t ONES = 0x0101010101010101ULL
cdef uint64_t HIGHS = 0x8080808080808080ULL


cdef inline Py_ssize_t clean_run(const unsigned char* text, Py_ssize_t size, unsigned char limit) noexcept nogil:
    """How many leading bytes need no escaping (``limit`` as in put_escaped: 1 lets bytes >= 0x80 pass,
    2 does not).

    PERF: eight bytes per step (a "has a byte below / equal to" word test for controls,
    quote and backslash); a word with any hit is rescanned byte by byte, so the test only
    has to be right about words without one. Strings here are mostly 5-40 bytes of ASCII.
    """
    cdef Py_ssize_t i = 0
    cdef uint64_t word, hits, quote, backslash
    while i + 8 <= size:
        memcpy(&word, text + i, 8)
        quote = word ^ (ONES * 0x22)
        backslash = word ^ (ONES * 0x5C)
        hits = ((word - ONES * 0x20) & ~word) | ((quote - ONES) & ~quote) | ((backslash - ONES) & ~backslash)
        if limit == 2:
            hits |= word  # a byte >= 0x80 (latin-1 input re-encodes it)
        if hits & HIGHS:
            break
        i += 8
    while i < size and (ESCAPE_CLASS[text[i]] == 0 or ESCAPE_CLASS[text[i]] > limit):
        i += 1
    return i


cdef int put_escaped(Buffer* buffer, const unsigned char* text, Py_ssize_t size, bint latin1) except -1:
    """JSON string contents (no quotes) from UTF-8 bytes, or from latin-1 bytes re-encoded as UTF-8."""
    cdef Py_ssize_t i, run
    cdef unsigned char c, limit = 2 if latin1 else 1
    # PERF: most text (paths, ids, route templates, task names) needs no escaping: copy runs whole.
    run = clean_run(text, size, limit)
    if run == size:
        return put(buffer, <const char*>text, size)
    reserve(buffer, size * 6)
    cdef char* out = buffer.data + buffer.size
    memcpy(out, text, run)
    out += run
    for i in range(run, size):
        c = text[i]
        if ESCAPE_CLASS[c] == 0 or ESCAPE_CLASS[c] > limit:
            out[0] = c
            out += 1
        elif c == c'"' or c == c'\\':
            out[0] = c'\\'
            out[1] = c
            out += 2
        elif c < 0x20:
            out[0] = c'\\'
            out[1] = c'u'
            out[2] = c'0'
            out[3] = c'0'
            out[4] = HEX[c >> 4]
            out[5] = HEX[c & 15]
            out += 6
        else:  # latin-1 byte >= 0x80
            out[0] = <char>(0xC0 | (c >> 6))
            out[1] = <char>(0x80 | (c & 0x3F))
            out += 2
    buffer.size = out - buffer.data
    return 0


cdef int put_text(Buffer* buffer, str value) except -1:
    """The contents of a JSON string (no quotes) for a str."""
    cdef Py_ssize_t size
    cdef const char* text
    try:
        text = PyUnicode_AsUTF8AndSize(value, &size)
    except UnicodeEncodeError:  # lone surrogates
        encoded = value.encode("utf-8", "backslashreplace")
        return put_escaped(buffer, <const unsigned char*>PyBytes_AS_STRING(encoded), PyBytes_GET_SIZE(encoded), False)
    return put_escaped(buffer, <const unsigned char*>text, size, False)


cdef int put_str(Buffer* buffer, object value) except -1:
    """A JSON string for a str (null for None); any other value through msgspec."""
    cdef const unsigned char* text
    cdef Py_ssize_t size, i
    cdef char* out
    if value is None:
        return put(buffer, b"null", 4)
    if type(value) is str and PyUnicode_IS_COMPACT_ASCII(value):
        # PERF: ids, methods, routes and task names: ASCII with nothing to escape, written with the
        # quotes in one copy (about 15 strings a request, so the per-call overhead is what counts).
        text = <const unsigned char*>PyUnicode_DATA(value)
        size = PyUnicode_GET_LENGTH(value)
        if clean_run(text, size, 1) == size:
            if buffer.size + size + 2 > buffer.capacity:
                reserve(buffer, size + 2)
            out = buffer.data + buffer.size
            out[0] = c'"'
            memcpy(out + 1, text, size)
            out[size + 1] = c'"'
            buffer.size += size + 2
            return 0
    if type(value) is str:
        put(buffer, b'"', 1)
        put_text(buffer, <str>value)
        return put(buffer, b'"', 1)
    encoded = _encode_object(value)
    return put(buffer, PyBytes_AS_STRING(encoded), PyBytes_GET_SIZE(encoded))


# "00" "01" ... "99": two decimal digits per division.
cdef char DIGIT_PAIRS[200]
for _c in range(100):
    DIGIT_PAIRS[2 * _c] = 48 + _c // 10
    DIGIT_PAIRS[2 * _c + 1] = 48 + _c % 10


cdef inline int put_unsigned(Buffer* buffer, unsigned long long rest) except -1:
    cdef char digits[24]
    cdef int at = 24
    cdef unsigned int pair
    while rest >= 100:
        pair = <unsigned int>(rest % 100)
        rest //= 100
        at -= 2
        digits[at] = DIGIT_PAIRS[2 * pair]
        digits[at + 1] = DIGIT_PAIRS[2 * pair + 1]
    if rest >= 10:
        at -= 2
        digits[at] = DIGIT_PAIRS[2 * rest]
        digits[at + 1] = DIGIT_PAIRS[2 * rest + 1]
    else:
        at -= 1
        digits[at] = <char>(48 + rest)
    return put(buffer, digits + at, 24 - at)


cdef int put_int(Buffer* buffer, long long value) except -1:
    if value < 0:
        put(buffer, b"-", 1)
        return put_unsigned(buffer, <unsigned long long>(-(value + 1)) + 1)
    return put_unsigned(buffer, <unsigned long long>value)


# The whole part of the last two timestamps written (wall clock and monotonic alternate in each
# line), so a line's two timestamps cost two small copies instead of two 10-digit conversions.
cdef unsigned long long _whole_seen[2]
cdef char _whole_text[2][24]
cdef int _whole_size[2]
cdef int _whole_next = 0
_whole_seen[0] = _whole_seen[1] = <unsigned long long>-1


cdef int put_whole(Buffer* buffer, unsigned long long whole) except -1:
    global _whole_next
    cdef Buffer scratch
    cdef int slot
    if whole < 100:
        return put_unsigned(buffer, whole)
    for slot in range(2):
        if _whole_seen[slot] == whole:
            return put(buffer, _whole_text[slot], _whole_size[slot])
    slot = _whole_next
    _whole_next ^= 1
    scratch.data = _whole_text[slot]
    scratch.size = 0
    scratch.capacity = 24
    put_unsigned(&scratch, whole)
    _whole_size[slot] = <int>scratch.size
    _whole_seen[slot] = whole
    return put(buffer, _whole_text[slot], _whole_size[slot])


cdef int put_fixed(Buffer* buffer, double value, int decimals) except -1:
    """A JSON number with 6 or 9 digits after the point (timestamps, durations)."""
    cdef unsigned long long scaled, whole, fraction
    cdef char digits[10]
    cdef int i
    if not isfinite(value):
        return put(buffer, b"null", 4)
    if value < 0:
        put(buffer, b"-", 1)
        value = -value
    if value >= (1e12 if decimals == 6 else 1e9):  # past what fits scaled in 64 bits: let Python spell it
        text = repr(value).encode("ascii")
        return put(buffer, PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text))
    if decimals == 6:
        scaled = <unsigned long long>(value * 1e6 + 0.5)
        whole = scaled // 1000000
        fraction = scaled % 1000000
    else:
        scaled = <unsigned long long>(value * 1e9 + 0.5)
        whole = scaled // 1000000000
        fraction = scaled % 1000000000
    put_whole(buffer, whole)
    digits[0] = c'.'
    i = decimals
    while i >= 2:
        digits[i - 1] = DIGIT_PAIRS[2 * (fraction % 100)]
        digits[i] = DIGIT_PAIRS[2 * (fraction % 100) + 1]
        fraction //= 100
        i -= 2
    if i == 1:
        digits[1] = <char>(48 + fraction)
    return put(buffer, digits, decimals + 1)


cdef int put_head(Buffer* buffer, const char* prefix, double timestamp, object request_id) except -1:
    """``prefix``: the line's start up to its time, e.g. ``{"kind":"task.end","time":``."""
    put_literal(buffer, prefix)
    put_fixed(buffer, timestamp + WALL_OFFSET, 6)  # the monotonic reading plus a fixed offset (see Event.to_dict)
    put_literal(buffer, b',"request_id":')
    return put_str(buffer, request_id)


cdef int put_latin1_string(Buffer* buffer, object value) except -1:
    """A JSON string for bytes read as latin-1 (request header values), or null."""
    if value is None:
        return put(buffer, b"null", 4)
    put(buffer, b'"', 1)
    put_escaped(buffer, <const unsigned char*>PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value), True)
    return put(buffer, b'"', 1)


# One line per event kind

cdef int put_request_start(Buffer* buffer, double now, RequestCore request) except -1:
    put_head(buffer, b'{"kind":"request.start","time":', now, request.request_id)
    put_literal(buffer, b',"method":')
    put_str(buffer, request.method)
    put_literal(buffer, b',"path":')
    put_str(buffer, request.path)
    return put(buffer, b"}\n", 2)


cdef int put_request_end(Buffer* buffer, double now, double duration, RequestCore request) except -1:
    cdef bytes query = request.query_string
    put_head(buffer, b'{"kind":"request.end","time":', now, request.request_id)
    put_literal(buffer, b',"method":')
    put_str(buffer, request.method)
    put_literal(buffer, b',"route":')
    route = request.route
    put_str(buffer, route.path if route is not None else None)
    put_literal(buffer, b',"status":')
    put_int(buffer, request.status)
    put_literal(buffer, b',"duration":')
    put_fixed(buffer, duration, 9)
    put_literal(buffer, b',"target":"')
    put_text(buffer, request.path)
    if query:
        put(buffer, b"?", 1)
        put_escaped(buffer, <const unsigned char*>PyBytes_AS_STRING(query), PyBytes_GET_SIZE(query), True)
    put_literal(buffer, b'","client":')
    client = request.client
    put_str(buffer, client[0] if client else None)
    put_literal(buffer, b',"http_version":')
    put_str(buffer, request.http_version)
    put_literal(buffer, b',"size":')
    put_int(buffer, request.response_size)
    put_literal(buffer, b',"user_agent":')
    put_latin1_string(buffer, header_value(request.raw_headers, b"user-agent", 10))
    put_literal(buffer, b',"referer":')
    put_latin1_string(buffer, header_value(request.raw_headers, b"referer", 7))
    return put(buffer, b"}\n", 2)


cdef class TaskLabel:
    """A task function on a route: its name, and the ``,"task":...,"route":...`` part of its lines, encoded once."""


# PERF: the labels seen last (a request's three task lines, and most apps' few task routes, hit
# here): matched by identity, so a line's task and route cost one copy instead of two encodings
# and a name lookup. Holds references to at most LABELS functions.
cdef enum:
    LABELS = 8
cdef list _labels = []
cdef int _labels_next = 0


cdef TaskLabel task_label(object func, object route):
    global _labels_next
    cdef TaskLabel label
    cdef Buffer scratch
    for label in _labels:
        if label.func is func and label.route is route:
            return label
    label = TaskLabel.__new__(TaskLabel)
    label.func = func
    label.route = route
    label.name = cached_task_name(func)
    scratch.data = NULL
    scratch.size = scratch.capacity = 0
    try:
        put_literal(&scratch, b',"task":')
        put_str(&scratch, label.name)
        put_literal(&scratch, b',"route":')
        put_str(&scratch, route)
        label.middle = PyBytes_FromStringAndSize(scratch.data, scratch.size)
    finally:
        PyMem_Free(scratch.data)
    if len(_labels) < LABELS:
        _labels.append(label)
    else:
        _labels[_labels_next] = label
        _labels_next = (_labels_next + 1) % LABELS
    return label


cdef int put_task(Buffer* buffer, int kind, double now, object request_id, TaskLabel label,
                  Py_ssize_t depth, double duration) except -1:
    if kind == K_TASK_QUEUED:
        put_head(buffer, b'{"kind":"task.queued","time":', now, request_id)
    elif kind == K_TASK_START:
        put_head(buffer, b'{"kind":"task.start","time":', now, request_id)
    else:
        put_head(buffer, b'{"kind":"task.end","time":', now, request_id)
    put(buffer, PyBytes_AS_STRING(label.middle), PyBytes_GET_SIZE(label.middle))
    if kind == K_TASK_QUEUED:
        put_literal(buffer, b',"queue_depth":')
        put_int(buffer, depth)
    elif kind == K_TASK_END:
        put_literal(buffer, b',"duration":')
        put_fixed(buffer, duration, 9)
        put_literal(buffer, b',"outcome":"ok"')
    return put(buffer, b"}\n", 2)


# The line buffer of one JSON-lines sink

cdef class EventLog:
    """Encodes the events of one JSON-lines sink as they happen, and hands them over in bulk.

    Each event becomes its JSON line in a C buffer the moment it is recorded
    (while the request's strings are still in the CPU's cache, and without
    holding references to them). ``write(data: bytes)`` is called with whole
    lines when ``batch_size`` events have gathered, ``flush_interval`` seconds
    after the first event of a batch (a timer on the running loop), and on
    ``flush()``. With ``fd`` (a file descriptor open for appending) the lines
    are written to it directly, and ``write`` only gets what could not be
    written there (it reports the error). Set ``fd`` to -1 before closing the
    file. Events are recorded on the event loop's thread.

    ``drop_cache`` (with ``fd``): stream the lines to disk instead of leaving
    them in the page cache until the kernel's writeback comes round. Each
    ``STREAM_WINDOW`` (4 MiB) of the file is handed to the disk as soon as it
    is full (``sync_file_range``, without waiting), and windows handed over at
    least one window earlier are dropped from the page cache
    (``POSIX_FADV_DONTNEED`` only drops pages already on disk). A busy sink
    then holds a few MiB of cache instead of gigabytes of dirty pages, and the
    kernel does not stall the server in writeback storms. Measured on the
    benchmark VM: the kernel's cost of a 1.1 KB request's lines fell from
    2.4-2.8 us to 0.3-0.5 us once gigabytes were dirty. Turned off by itself
    when the file does not support it (a pipe, a terminal).
    """

    def __cinit__(self):
        self._buffer.data = NULL
        self._buffer.size = 0
        self._buffer.capacity = 0
        self._count = 0
        self._window_start = -1
        self._window_bytes = 0

    def __init__(self, write, double flush_interval=0.5, Py_ssize_t batch_size=1024, int fd=-1,
                 bint drop_cache=False):
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if flush_interval <= 0:
            raise ValueError("flush_interval must be > 0")
        self._write = write
        self.fd = fd
        self.drop_cache = drop_cache
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self._timer = None
        self._on_timer = self._timer_fired

    def __dealloc__(self):
        PyMem_Free(self._buffer.data)

    def __len__(self):
        return self._count

    cdef int _commit(self) except -1:
        self._count += 1
        if self._count >= self.batch_size:
            self.flush()
        elif self._count == 1 and self._timer is None:
            self._arm_timer()
        return 0

    cdef int record_request_start(self, double now, object request) except -1:
        cdef Py_ssize_t start = self._buffer.size
        try:
            put_request_start(&self._buffer, now, <RequestCore?>request)
        except BaseException:
            self._buffer.size = start  # no half line
            raise
        return self._commit()

    cdef int record_request_end(self, double now, double duration, object request) except -1:
        cdef Py_ssize_t start = self._buffer.size
        try:
            put_request_end(&self._buffer, now, duration, <RequestCore?>request)
        except BaseException:
            self._buffer.size = start
            raise
        return self._commit()

    cdef int record_task(self, int kind, double now, object request_id, TaskLabel label,
                         Py_ssize_t depth, double duration) except -1:
        cdef Py_ssize_t start = self._buffer.size
        try:
            put_task(&self._buffer, kind, now, request_id, label, depth, duration)
        except BaseException:
            self._buffer.size = start
            raise
        return self._commit()

    def _arm_timer(self):
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not on a loop: flushed by size, by hand, or at exit
        self._timer = loop.call_later(self.flush_interval, self._on_timer)

    def _timer_fired(self):
        self._timer = None
        self.flush()

    cpdef add_event(self, object event):
        """Record a Python ``Event`` (anything with ``to_dict()``), encoded with msgspec."""
        line = _encode_object(event.to_dict())  # Python code first; the buffer is touched only after
        put(&self._buffer, PyBytes_AS_STRING(line), PyBytes_GET_SIZE(line))
        put(&self._buffer, b"\n", 1)
        self._commit()

    cpdef flush(self):
        """Write the lines gathered so far: to ``fd`` when it is set, else through ``write``."""
        cdef Py_ssize_t size = self._buffer.size
        cdef Py_ssize_t written = 0
        cdef ssize_t count
        cdef int error
        if self._count == 0:
            return
        self._count = 0
        if self.fd >= 0:
            # PERF: straight from the buffer to the file, without a bytes copy or Python's file
            # layer (the GIL is held throughout, so the lines land whole and in order).
            while written < size:
                count = c_write(self.fd, self._buffer.data + written, size - written)
                if count >= 0:
                    written += count
                    continue
                error = errno
                if error == EINTR:
                    continue
                # NOTE: whatever is left goes through ``write``, which reports the failure.
                break
            if written:
                self._stream_out(written)
            if written == size:
                self._buffer.size = 0
                return
        data = PyBytes_FromStringAndSize(self._buffer.data + written, size - written)
        self._buffer.size = 0
        self._write(data)

    cdef void _stream_out(self, Py_ssize_t written) noexcept:
        """After ``written`` more bytes went to ``fd``: hand a full window to the disk (see the class)."""
        cdef long long end, start
        if not self.drop_cache:
            return
        self._window_bytes += written
        if self._window_bytes < STREAM_WINDOW:
            return
        end = zf_file_end(self.fd)  # with O_APPEND, the end of the file (other writers included)
        if end < 0:
            self.drop_cache = False
            return
        if self._window_start < 0:
            self._window_start = max(0, end - self._window_bytes)
        start = self._window_start
        self._window_start = end
        self._window_bytes = 0
        if end <= start:
            return  # the file was truncated (logrotate's copytruncate): start over from its end
        if zf_stream_out(self.fd, start, end - start,
                         max(0, start - 4 * STREAM_WINDOW), start - STREAM_WINDOW) != 0:
            self.drop_cache = False

    def encode_pending(self):
        """The lines ``flush`` would write now, without writing them (for tests)."""
        return PyBytes_FromStringAndSize(self._buffer.data, self._buffer.size)


# Fan-out

cdef class ObserverCore:
    """Sends each event to the JSON-lines sinks' logs (as C records) and to the Python sinks.

    ``sinks`` are Python callables taking an ``Event``; the subclass builds
    events in ``_publish(kind, timestamp, request_id, data)``. ``logs`` are
    ``EventLog`` instances. ``enabled`` is True while there is either.
    """

    def __init__(self):
        self.sinks = []
        self.logs = []
        self.enabled = False

    cpdef str start_request(self, object request):
        """Give ``request`` its id and start time, and record ``request.start``."""
        cdef double now = monotonic_now()
        cdef RequestCore core = <RequestCore?>request
        request_id = request_id_for(core.raw_headers)
        core.request_id = request_id
        core.started = now
        for log in self.logs:
            (<EventLog>log).record_request_start(now, request)
        if self.sinks:
            self._publish("request.start", now, request_id, {"method": request.method, "path": request.path})
        return request_id

    cpdef requests_written(self, list requests, double now=0.0):
        """Record ``request.end`` for requests whose responses were just written.

        ``now``: the time of the write, when the caller has just read the clock (0: read it here).
        """
        if now == 0.0:
            now = monotonic_now()
        cdef double started, duration
        cdef RequestCore core
        for request in requests:
            core = <RequestCore?>request
            started = core.started
            duration = now - started if started else 0.0
            for log in self.logs:
                (<EventLog>log).record_request_end(now, duration, request)
            if self.sinks:
                route = request.route
                query = request.query_string
                headers = request.headers
                client = request.client
                self._publish("request.end", now, request.request_id, {
                    "method": request.method, "route": route.path if route is not None else None,
                    "status": request.status, "duration": duration,
                    "target": request.path + "?" + query.decode("latin-1") if query else request.path,
                    "client": client[0] if client else None, "http_version": request.http_version,
                    "size": request.response_size, "user_agent": headers.get("user-agent"),
                    "referer": headers.get("referer"),
                })

    cpdef task_queued(self, object batch, Py_ssize_t depth, double now=0.0):
        """Record ``task.queued`` for each task of a batch just handed to the runner (``now``: as above)."""
        if now == 0.0:
            now = monotonic_now()
        cdef TasksCore tasks = <TasksCore?>batch
        cdef list items = tasks._items
        cdef Py_ssize_t index
        cdef TaskLabel label
        request_id = tasks.request_id
        route = tasks.route
        for index in range(len(items)):
            label = task_label((<tuple>items[index])[0], route)
            for log in self.logs:
                (<EventLog>log).record_task(K_TASK_QUEUED, now, request_id, label, depth, 0.0)
            if self.sinks:
                self._publish("task.queued", now, request_id,
                              {"task": label.name, "route": route, "queue_depth": depth})

    cpdef double task_start(self, object batch, Py_ssize_t index):
        """Record ``task.start``; returns its timestamp, which the runner uses as the task's start time."""
        cdef double now = monotonic_now()
        cdef TasksCore tasks = <TasksCore?>batch
        cdef TaskLabel label = task_label((<tuple>tasks._items[index])[0], tasks.route)
        for log in self.logs:
            (<EventLog>log).record_task(K_TASK_START, now, tasks.request_id, label, 0, 0.0)
        if self.sinks:
            self._publish("task.start", now, batch.request_id, {"task": label.name, "route": batch.route})
        return now

    cpdef task_end(self, object batch, Py_ssize_t index, double duration, double now=0.0):
        """Record ``task.end`` with outcome ``ok`` (failures and skips go through ``emit``).

        ``now``: the end time, when the caller has just read the clock (0: read it here).
        """
        if now == 0.0:
            now = monotonic_now()
        cdef TasksCore tasks = <TasksCore?>batch
        cdef TaskLabel label = task_label((<tuple>tasks._items[index])[0], tasks.route)
        for log in self.logs:
            (<EventLog>log).record_task(K_TASK_END, now, tasks.request_id, label, 0, duration)
        if self.sinks:
            self._publish("task.end", now, batch.request_id, {
                "task": label.name, "route": batch.route, "duration": duration, "outcome": "ok",
            })
