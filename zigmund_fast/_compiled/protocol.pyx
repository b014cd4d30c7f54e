# cython: language_level=3
"""The HTTP/1.1 connection: bytes in through httptools, one Python call per request into the app, bytes out.

Mechanism only: routing, injection and task policy live in Python. The
protocol guarantees response order on pipelined connections, answers every
request that was complete before a parse error, writes each response in one
piece, and hands a request's background tasks to the runner only after the
response was written to the transport.
"""

import asyncio
import logging
from collections import deque
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import unquote

import httptools

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeLatin1
from libc.string cimport memchr, memcmp, memcpy
from libc.time cimport time, time_t

from zigmund_fast._compiled.events cimport monotonic_now
from zigmund_fast._compiled.messages cimport RequestCore, ResponseCore, TasksCore, new_request
from zigmund_fast._compiled.routematch cimport AppDispatch

from zigmund_fast.requests import Request
from zigmund_fast.responses import Response, _MEDIA_TYPE_HEADERS
from zigmund_fast.streaming import StreamingResponse


cdef extern from "Python.h":
    bint PyUnicode_IS_COMPACT_ASCII(object s)
    void* PyUnicode_DATA(object s)
    Py_ssize_t PyUnicode_GET_LENGTH(object s)


cdef dict MEDIA_TYPE_LINES = _MEDIA_TYPE_HEADERS
cdef object ResponseType = Response
cdef type RequestType = Request
cdef object StreamingResponseType = StreamingResponse

logger = logging.getLogger("zigmund_fast.server")

cdef object HttpRequestParser = httptools.HttpRequestParser
cdef object HttpParserError = httptools.HttpParserError
cdef object HttpParserCallbackError = httptools.HttpParserCallbackError
cdef object HttpParserUpgrade = httptools.HttpParserUpgrade
cdef object FutureType = asyncio.Future
cdef object CancelledError = asyncio.CancelledError

# Precomputed bytes
cdef list STATUS_LINES = [None] * 600
for _status in HTTPStatus:
    STATUS_LINES[_status.value] = b"HTTP/1.1 %d %s\r\n" % (_status.value, _status.phrase.encode("ascii"))

cdef bytes SERVER_HEADER = b"server: zigmund_fast\r\n"
cdef bytes CLOSE_HEADER = b"connection: close\r\n"
cdef bytes KEEP_ALIVE_HEADER = b"connection: keep-alive\r\n"
cdef bytes CONTINUE_RESPONSE = b"HTTP/1.1 100 Continue\r\n\r\n"
cdef bytes OVERLOADED_BODY = b'{"detail":"Service Unavailable"}'
cdef bytes REQUEST_ID_HEADER = b"x-request-id: "

cdef bytes OVERLOADED_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\nserver: zigmund_fast\r\ncontent-type: application/json\r\n"
    b"retry-after: 1\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(OVERLOADED_BODY), OVERLOADED_BODY)
)
cdef bytes CRLF = b"\r\n"
cdef bytes CHUNKED_HEADER = b"transfer-encoding: chunked\r\n"
cdef bytes LAST_CHUNK = b"0\r\n\r\n"
# Pending response bytes past which they are written before the next request is dispatched.
cdef Py_ssize_t HIGH_WATER_LIMIT = 65536
# PERF: "content-length: N\r\n" for small bodies, built on first use.
cdef Py_ssize_t CL_CACHE_SIZE = 16384
cdef list CL_CACHE = [None] * CL_CACHE_SIZE
cdef dict METHODS = {m: m.decode("ascii") for m in (b"GET", b"HEAD", b"POST", b"PUT", b"PATCH", b"DELETE", b"OPTIONS")}

# The date header, rebuilt when the second changes.
cdef time_t _date_second = 0
cdef bytes _date_header = b""


cdef inline bytes date_header():
    global _date_second, _date_header
    cdef time_t now = time(NULL)
    if now != _date_second:
        _date_second = now
        _date_header = b"date: " + formatdate(now, usegmt=True).encode("ascii") + CRLF
    return _date_header


cdef bytes request_id_line(str request_id):
    """``x-request-id: <id>\\r\\n``, built in one allocation (the id is ASCII: checked or made by us)."""
    cdef Py_ssize_t size
    cdef bytes line
    cdef char* out
    if not PyUnicode_IS_COMPACT_ASCII(request_id):
        return b"".join([REQUEST_ID_HEADER, request_id.encode("latin-1"), b"\r\n"])
    size = PyUnicode_GET_LENGTH(request_id)
    line = PyBytes_FromStringAndSize(NULL, 14 + size + 2)
    out = PyBytes_AS_STRING(line)
    memcpy(out, b"x-request-id: ", 14)
    memcpy(out + 14, PyUnicode_DATA(request_id), size)
    out[14 + size] = c"\r"
    out[15 + size] = c"\n"
    return line


cdef inline bytes content_length_header(Py_ssize_t length):
    if length < CL_CACHE_SIZE:
        cached = CL_CACHE[length]
        if cached is None:
            cached = b"content-length: %d\r\n" % length
            CL_CACHE[length] = cached
        return <bytes>cached
    return b"content-length: %d\r\n" % length


cdef bytes lower_ascii(bytes name):
    """``name.lower()`` for a header name, in C (PERF: no method lookup; the name itself when already lower)."""
    cdef Py_ssize_t size = PyBytes_GET_SIZE(name), i
    cdef const char* data = PyBytes_AS_STRING(name)
    cdef bytes lowered
    cdef char* out
    for i in range(size):
        if c'A' <= data[i] <= c'Z':
            break
    else:
        return name
    lowered = PyBytes_FromStringAndSize(data, size)
    out = PyBytes_AS_STRING(lowered)
    for i in range(i, size):
        if c'A' <= out[i] <= c'Z':
            out[i] = out[i] + 32
    return lowered


cdef Py_ssize_t decimal_or_int(bytes value) except? -1:
    """``int(value)`` for a Content-Length: plain digits are read in C (PERF: no int object per request)."""
    cdef Py_ssize_t size = PyBytes_GET_SIZE(value), i
    cdef const char* data = PyBytes_AS_STRING(value)
    cdef Py_ssize_t result = 0
    if 0 < size <= 18:
        for i in range(size):
            if data[i] < c'0' or data[i] > c'9':
                return int(value)
            result = result * 10 + (data[i] - c'0')
        return result
    return int(value)


cdef bytes status_line(int status):
    cdef object line = STATUS_LINES[status] if 100 <= status < 600 else None
    if line is None:
        return b"HTTP/1.1 %d Unknown\r\n" % status
    return <bytes>line


cpdef bytes encode_response(ResponseCore response, bint head, bint keep_alive, bint http10, bytes extra=b""):
    """Serialise ``response`` into the exact bytes written on the wire (``extra``: more header lines)."""
    cdef int status = response.status_code
    cdef bytes body = response.body
    cdef bint bodyless = status < 200 or status == 204 or status == 304
    cdef bytes connection
    if not keep_alive:
        connection = CLOSE_HEADER
    elif http10:
        connection = KEEP_ALIVE_HEADER
    else:
        connection = b""
    cdef object head_lines
    if response._headers is None:
        # PERF: the common case (no extra headers) skips a Python method call.
        head_lines = MEDIA_TYPE_LINES.get(response.media_type)
        if head_lines is None:
            head_lines = response.head_bytes()
    else:
        head_lines = response.head_bytes()
    if type(head_lines) is not bytes:
        head_lines = bytes(head_lines)
    if bodyless:
        return join_head(status_line(status), SERVER_HEADER, date_header(), b"", <bytes>head_lines, extra,
                         connection, b"")
    return join_head(status_line(status), SERVER_HEADER, date_header(), content_length_header(len(body)),
                     <bytes>head_lines, extra, connection, b"" if head else body)


cdef bytes join_head(bytes status, bytes server, bytes date, bytes length, bytes head_lines, bytes extra,
                     bytes connection, bytes body):
    """``status + server + ... + CRLF + body`` in one allocation.

    PERF: ``b"".join`` of a fresh list cost a list, the buffer protocol for each
    part and two passes; this is one size sum and one copy per part.
    """
    cdef Py_ssize_t total = (PyBytes_GET_SIZE(status) + PyBytes_GET_SIZE(server) + PyBytes_GET_SIZE(date)
                             + PyBytes_GET_SIZE(length) + PyBytes_GET_SIZE(head_lines) + PyBytes_GET_SIZE(extra)
                             + PyBytes_GET_SIZE(connection) + 2 + PyBytes_GET_SIZE(body))
    cdef bytes result = PyBytes_FromStringAndSize(NULL, total)
    cdef char* out = PyBytes_AS_STRING(result)
    out = put_bytes(out, status)
    out = put_bytes(out, server)
    out = put_bytes(out, date)
    out = put_bytes(out, length)
    out = put_bytes(out, head_lines)
    out = put_bytes(out, extra)
    out = put_bytes(out, connection)
    out[0] = c'\r'
    out[1] = c'\n'
    put_bytes(out + 2, body)
    return result


cdef inline char* put_bytes(char* out, bytes part):
    cdef Py_ssize_t size = PyBytes_GET_SIZE(part)
    memcpy(out, PyBytes_AS_STRING(part), size)
    return out + size


cdef bytes encode_stream_head(object response, Py_ssize_t length, bint chunked, bint keep_alive, bint http10):
    """The head of a streamed response, framed by content-length, chunked encoding, or (length unknown on
    HTTP/1.0) the connection's close."""
    cdef int status = response.status_code
    cdef bytes framing = b""
    cdef bytes connection
    if not keep_alive:
        connection = CLOSE_HEADER
    elif http10:
        connection = KEEP_ALIVE_HEADER
    else:
        connection = b""
    if status < 200 or status == 204 or status == 304:
        pass
    elif chunked:
        framing = CHUNKED_HEADER
    elif length >= 0:
        framing = content_length_header(length)
    return b"".join([status_line(status), SERVER_HEADER, date_header(), framing, response.head_bytes(), connection,
                     CRLF])


cdef bytes chunk_bytes(object chunk):
    if isinstance(chunk, str):
        return (<str>chunk).encode("utf-8")
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        return bytes(chunk)
    raise TypeError(f"a streamed response must yield bytes or str, not {type(chunk).__name__}")


async def _stream_body(HTTPProtocolCore proto, object request, object response, bint keep_alive):
    """The connection's stream task: let the response prepare, write its head, then each chunk as it comes.

    Waits whenever the transport's buffer is over its high-water mark. Ends by
    closing the iterator (so a generator's ``finally`` runs, on disconnect too)
    and handing the request back to the protocol (``_end_stream``).
    """
    cdef bint http10 = request.http_version == "1.0"
    cdef bint chunked = False
    cdef bint send_body
    cdef int status
    cdef int outcome = STREAM_LOST
    cdef Py_ssize_t length
    cdef Py_ssize_t size
    cdef Py_ssize_t sent = 0
    iterator = response.body_iterator
    try:
        try:
            await response.prepare(request)
            iterator = response.body_iterator
            if proto.conn_state == CONN_CLOSED:
                return
            status = response.status_code
            length = response.content_length
            send_body = request.method != "HEAD" and status >= 200 and status != 204 and status != 304
            if length < 0 and status >= 200 and status != 204 and status != 304:
                # NOTE: a HEAD gets the framing headers a GET would get.
                if http10:
                    keep_alive = False  # no chunked encoding in HTTP/1.0: the close ends the body
                else:
                    chunked = True
            if proto.observe:
                proto.state.stamp_response(request, response)
            head = encode_stream_head(response, length, chunked, keep_alive, http10)
        except Exception:
            # Nothing was written yet: the client gets a 500 instead.
            logger.exception("could not prepare the streamed response to %s %s", request.method, request.path)
            outcome = STREAM_UNPREPARED
            return
        proto.out.append(head)
        proto._flush()
        if send_body and iterator is not None:
            transport = proto.transport
            next_chunk = iterator.__anext__
            while True:
                try:
                    chunk = await next_chunk()
                except StopAsyncIteration:
                    break
                if proto.conn_state == CONN_CLOSED:
                    return
                if type(chunk) is not bytes:
                    chunk = chunk_bytes(chunk)
                size = len(<bytes>chunk)
                if size == 0:
                    continue  # an empty chunk would end a chunked body
                sent += size
                if 0 <= length < sent:
                    raise RuntimeError(f"the streamed body is longer than its content-length ({length} bytes)")
                if chunked:
                    transport.write(b"".join([b"%x\r\n" % size, chunk, CRLF]))  # one copy of the chunk
                else:
                    transport.write(chunk)
                if proto.writing_paused:
                    await proto._drained()
                    if proto.conn_state == CONN_CLOSED:
                        return
            if length >= 0 and sent != length:
                raise RuntimeError(f"the streamed body ({sent} bytes) is shorter than its content-length ({length})")
            if chunked:
                transport.write(LAST_CHUNK)
        outcome = STREAM_DONE
    except CancelledError:
        outcome = STREAM_LOST  # the connection was lost (connection_lost cancels this task)
    except Exception:
        if proto.conn_state != CONN_CLOSED:
            logger.exception("error while streaming the response to %s %s; closing the connection",
                             request.method, request.path)
            outcome = STREAM_FAILED
    finally:
        if iterator is not None:
            await _close_iterator(iterator, request)
        proto._end_stream(request, response, keep_alive, outcome, sent)


async def _close_iterator(object iterator, object request):
    aclose = getattr(iterator, "aclose", None)
    if aclose is None:
        return
    try:
        await aclose()
    except CancelledError:
        pass
    except Exception:
        logger.exception("error while closing the streamed body of %s %s", request.method, request.path)


cdef object server_error():
    """The 500 the protocol answers when the app itself failed to produce a usable response."""
    return Response(b'{"detail":"Internal Server Error"}', 500, None, "application/json")


cdef bytes error_body(int status, str message):
    return b'{"detail":"' + message.replace("\\", "\\\\").replace('"', '\\"').encode("ascii", "replace") + b'"}'


cdef class WriteBatcher:
    """Writes the responses of every connection read in one loop iteration after all of them were read.

    One per server. A connection whose ``data_received`` produced responses
    registers here instead of writing at once; ``run`` (one ``call_soon`` per
    loop iteration) writes each connection's bytes, in registration order, then
    hands over their background tasks as ``_flush`` always does.

    PERF: on loopback each write to a client that sleeps in ``epoll_wait`` wakes
    it from inside our ``write`` (``sock_def_readable``); in a VM that wake-up is
    an inter-processor interrupt that cost ~1 us of our CPU per request (10% of
    the POST route's profile). Writing the iteration's responses back to back
    wakes a sleeping client once for all of them. Measured side by side
    (run.py, 5 s x 3): hello 115k -> 134k req/s, the seed's POST 88k -> 109k.
    The cost is latency: a response waits for the rest of its iteration's reads
    (each a few microseconds) instead of going out at the end of its own.
    """

    def __init__(self, loop):
        self.loop = loop
        self.pending = []
        self.run_callback = self.run

    cdef add(self, HTTPProtocolCore protocol):
        self.pending.append(protocol)
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.run_callback)

    def run(self):
        cdef HTTPProtocolCore protocol
        # PERF: one clock read for every connection's last_activity; with sinks, each write's own time.
        cdef double now = monotonic_now()
        self.scheduled = False
        pending, self.pending = self.pending, []
        for item in pending:
            protocol = <HTTPProtocolCore>item
            protocol.flush_deferred = False
            try:
                protocol._flush(0.0 if protocol.observe else now)
            except Exception:
                # NOTE: one connection's failure must not leave the others unwritten. Closing it
                # hands the tasks of its unwritten responses to the runner (connection_lost).
                logger.exception("could not write the responses of a connection; closing it")
                protocol.close()


class _LimitExceeded(Exception):
    """Raised inside a parser callback to stop parsing; the status is kept on the protocol."""


class PendingUpgrade:
    """Stands in the pipeline for a WebSocket upgrade request; keeps the bytes that came after its head."""

    __slots__ = ("request", "early", "keep_alive")

    def __init__(self, request, bytes early):
        self.request = request
        self.early = bytearray(early)
        self.keep_alive = False  # set by eof_received like a request's; an upgraded connection never is


class ParseFailure:
    """Stands in the pipeline where the request that could not be parsed would be."""

    __slots__ = ("status", "message")

    def __init__(self, int status, str message):
        self.status = status
        self.message = message


cdef class HTTPProtocolCore:
    """One HTTP/1.1 connection.

    ``state`` is the server's shared state object: it provides ``loop``,
    ``app_call`` (request -> Response or Future[Response]), ``runner``
    (with ``submit(batch)``), ``connections`` (a set), and the limits
    ``limit_request_head``, ``limit_request_body``, ``limit_pipeline``.
    """

    def __init__(self, state):
        self.state = state
        self.loop = state.loop
        self.app_call = state.app_call
        # PERF: the app's compiled dispatch, called in C, when nothing wraps it.
        self.dispatch = state.app_call if type(state.app_call) is AppDispatch else None
        # PERF: a typed runner makes submit() and its counters C-level calls.
        self.runner = <TaskRunnerCore?>state.runner
        self.max_pending = self.runner.max_pending
        self.limit_head = state.limit_request_head
        self.limit_body = state.limit_request_body
        self.body_limit_for = getattr(state, "body_limit_for", None)
        self.limit_pipeline = state.limit_pipeline
        self.observe = state.observe
        self.observer = state.observer
        self.timeout_body = state.timeout_request_body or 0.0
        self.timeout_handler = state.timeout_handler or 0.0
        self.out_observed = []
        self.pipeline = deque()
        self._push = self.pipeline.append
        self._pop = self.pipeline.popleft
        self.current = None
        self.out = []
        self.out_batches = []
        self.conn_state = CONN_OPEN
        self.linger_handle = None
        self._clear_message()
        self.stream_task = None
        self.drain_waiter = None
        self.handler_timer = None
        # The server's WriteBatcher; without one, each read's responses are written at its end.
        self.batcher = getattr(state, "write_batcher", None)

    # asyncio callbacks

    def connection_made(self, transport):
        """Called by the loop when the connection is accepted."""
        self.transport = transport
        self.parser = HttpRequestParser(self)
        self._feed = self.parser.feed_data
        self._get_method = self.parser.get_method
        self._keep_alive = self.parser.should_keep_alive
        self._write = transport.write
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.client = (peer[0], peer[1])
        self.last_activity = monotonic_now()
        limit = self.state.limit_concurrency
        if limit and len(self.state.connections) >= limit:
            # NOTE: over the connection cap: answer 503 at once and close (uvicorn's
            # --limit-concurrency answers the same way), instead of holding the socket.
            self.conn_state = CONN_CLOSED
            transport.write(OVERLOADED_RESPONSE)
            transport.close()
            return
        self.state.connections.add(self)
        if self.state.draining:
            self.conn_state = CONN_DRAINING
        if self.state.tasks_paused:
            self.pause_for_tasks()

    def connection_lost(self, exc):
        """Called by the loop when the connection is closed, by either side."""
        self.conn_state = CONN_CLOSED
        self.state.connections.discard(self)
        self.pipeline.clear()
        if self.stream_task is not None:
            # NOTE: the task closes the body iterator and runs the request's tasks on its way out.
            self.stream_task.cancel()
            self.drain_waiter = None
        if self.linger_handle is not None:
            self.linger_handle.cancel()
            self.linger_handle = None
        if self.handler_timer is not None:
            self.handler_timer.cancel()
            self.handler_timer = None
        # Responses that were not written still owe their tasks a run.
        if self.out_batches:
            batches, self.out_batches = self.out_batches, []
            for batch in batches:
                self.runner.submit(batch)
        self.out = []

    def eof_received(self):
        """Called when the peer half-closes: answer every request already parsed, then close."""
        self.peer_closed = True
        if self.flush_deferred:
            self._flush()  # what was answered goes out before anything below may close the transport
        if self.conn_state == CONN_LINGERING:
            self.transport.close()
            return False
        if self.stream_task is not None:
            # NOTE: a client that hangs up mid-stream (an event stream, say) is only noticed
            # here; stop the stream rather than produce for nobody (uvicorn does the same).
            return False
        if self.pipeline:
            last = self.pipeline[-1]
            if type(last) is not ParseFailure:  # a parse failure closes the connection after its answer anyway
                last.keep_alive = False
        elif self.current is not None:
            self.current.keep_alive = False
        else:
            return False  # nothing to answer: the transport closes itself
        return True

    def pause_writing(self):
        """Called by the transport when its write buffer exceeds the high-water mark."""
        self.writing_paused = True
        self._pause_reading()

    def resume_writing(self):
        """Called by the transport when its write buffer drains below the low-water mark."""
        self.writing_paused = False
        waiter = self.drain_waiter
        if waiter is not None:
            self.drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)
        if len(self.pipeline) <= self.limit_pipeline:
            self._resume_reading()
        self._process_pipeline()
        self._flush()

    def data_received(self, bytes data):
        """Called by the loop with bytes from the socket."""
        self.last_activity = monotonic_now()
        if self.parser_done:
            if self.upgrade_pending is not None:
                # NOTE: frames sent before the handshake completed belong to the WebSocket, if it is accepted.
                (<object>self.upgrade_pending).early += data
                if len((<object>self.upgrade_pending).early) > HIGH_WATER_LIMIT:
                    self._pause_reading()
            return  # lingering after an error, or after an upgrade we did not take
        self.began_in_chunk = False
        self.completed_in_chunk = 0
        self.chunk = data
        try:
            self._feed(data)
            if self.in_message and not self.headers_done:
                # NOTE: httptools reports a header only once it is complete, so a header
                # that never ends would never be counted. Count raw bytes too: all of a
                # read that holds only this head, and, when an earlier message ended in
                # the same read, a lower bound of this head's share of it.
                if not self.began_in_chunk or self.completed_in_chunk == 0:
                    self.head_unparsed += len(data)
                elif not self.last_chunked:
                    end = data.rfind(b"\r\n\r\n")
                    share = len(data) - (end + 4 if end >= 0 else 0) - self.last_body_size
                    if share > 0:
                        self.head_unparsed += share
                if self.head_unparsed > self.limit_head:
                    self.error_status = 431
                    raise _LimitExceeded()
        except _LimitExceeded:
            self.parser_done = True
            self.pipeline.append(ParseFailure(431, "Request Header Fields Too Large"))
        except HttpParserUpgrade as exc:
            self.parser_done = True
            if self.pipeline:
                request = self.pipeline[-1]
                if self.state.websocket_wanted(request):
                    self.upgrade_pending = self.pipeline[-1] = PendingUpgrade(request, data[exc.args[0]:])
                else:
                    # NOTE: other upgrades (h2c) are not offered; answer the request and close.
                    request.keep_alive = False
        except HttpParserCallbackError as exc:
            self.parser_done = True
            status = self.error_status or 400
            self.pipeline.append(ParseFailure(status, HTTPStatus(status).phrase))
        except HttpParserError as exc:
            self.parser_done = True
            self.pipeline.append(ParseFailure(400, "Bad Request: " + str(exc)))
        self.chunk = None
        if len(self.pipeline) > self.limit_pipeline:
            self._pause_reading()
        self._process_pipeline()
        if self.out and self.batcher is not None:
            if not self.flush_deferred:
                self.flush_deferred = True
                self.batcher.add(self)  # written at the end of this loop iteration
            return
        self._flush()  # nothing to write (a close may be due), or no batcher

    cdef str _version_in_chunk(self, bytes method):
        """The HTTP version ("1.1" or "1.0") read from the request line when this message's whole line
        is at the start of the bytes being parsed; else None (ask the parser).

        PERF: httptools' ``get_http_version()`` formats a new string (about 190 ns) on every request.
        The bytes are checked to be exactly ``<method> <url> HTTP/1.x\\r``, the line the parser just
        read, so they cannot disagree with it.
        """
        cdef bytes chunk = self.chunk
        cdef bytes url = self.url
        cdef Py_ssize_t method_size, url_size, at
        cdef const char* data
        if chunk is None or not self.began_in_chunk or self.completed_in_chunk:
            return None  # the message began in an earlier read, or after another message in this one
        method_size = PyBytes_GET_SIZE(method)
        url_size = PyBytes_GET_SIZE(url)
        at = method_size + 1 + url_size + 1
        if PyBytes_GET_SIZE(chunk) < at + 9:
            return None
        data = PyBytes_AS_STRING(chunk)
        if (memcmp(data, PyBytes_AS_STRING(method), method_size) != 0 or data[method_size] != c' '
                or memcmp(data + method_size + 1, PyBytes_AS_STRING(url), url_size) != 0
                or data[at - 1] != c' ' or memcmp(data + at, b"HTTP/1.", 7) != 0 or data[at + 8] != c'\r'):
            return None
        if data[at + 7] == c'1':
            return "1.1"
        if data[at + 7] == c'0':
            return "1.0"
        return None

    cdef _clear_message(self):
        """The per-message state, fresh for the next message (at connection_made and on_message_complete).

        PERF: the protocol defines no ``on_message_begin``, which would cost a Python
        callback per request; the first ``on_url`` of a message marks its start.
        """
        self.in_message = False
        self.headers_done = False
        self.head_unparsed = 0
        self.chunked = False
        self.url = b""
        self.headers = []
        self.head_size = 0
        self.body_chunks = None
        self.body_size = 0
        self.message_body_limit = self.limit_body
        self.error_status = 0
        self.has_host = False
        self.declared = -1
        self.expect_continue = False

    # httptools callbacks

    def on_url(self, bytes url):
        if not self.in_message:
            # The message's first callback: llhttp reports the URL as soon as any of it was read.
            self.in_message = True
            self.began_in_chunk = True
            self.message_started = self.last_activity  # data_received, our only caller, just read the clock
        self.url += url
        self.head_size += len(url)
        if self.head_size > self.limit_head:
            self.error_status = 414 if len(self.url) > self.limit_head // 2 else 431
            raise _LimitExceeded()

    def on_header(self, bytes name, bytes value):
        self.head_size += len(name) + len(value) + 4
        if self.head_size > self.limit_head:
            self.error_status = 431
            raise _LimitExceeded()
        name = lower_ascii(name)
        self.headers.append((name, value))
        # PERF: the four names the protocol acts on, told apart by length and one memcmp
        # (four bytes comparisons per header in a loop at headers-complete before).
        cdef Py_ssize_t size = PyBytes_GET_SIZE(name)
        cdef const char* data = PyBytes_AS_STRING(name)
        if size == 4 and memcmp(data, b"host", 4) == 0:
            if self.has_host:
                self.error_status = 400  # RFC 9112 section 3.2: more than one Host
                raise _LimitExceeded()
            self.has_host = True
        elif size == 14 and memcmp(data, b"content-length", 14) == 0:
            self.declared = decimal_or_int(value)  # llhttp already rejected non-digits and duplicates
        elif size == 17 and memcmp(data, b"transfer-encoding", 17) == 0:
            if value.strip().lower() != b"chunked":
                # RFC 9112 section 6.1: a transfer coding we don't implement (llhttp already
                # refused codings that don't end in chunked). Its body would reach the
                # handler still encoded.
                self.error_status = 501
                raise _LimitExceeded()
            self.chunked = True
        elif size == 6 and memcmp(data, b"expect", 6) == 0:
            if value.lower() == b"100-continue":
                self.expect_continue = True
            else:
                self.error_status = 417
                raise _LimitExceeded()

    def on_headers_complete(self):
        cdef bint chunked = self.chunked
        cdef Py_ssize_t declared = self.declared
        method = self._get_method()
        self.headers_done = True
        self.method = METHODS.get(method) or method.decode("ascii")
        self.http_version = self._version_in_chunk(method) or self.parser.get_http_version()
        self.keep_alive = self._keep_alive()
        if self.http_version == "1.1" and not self.has_host:
            self.error_status = 400  # RFC 9112 section 3.2
            raise _LimitExceeded()
        if chunked and self.http_version == "1.0":
            self.error_status = 400  # RFC 9112 section 6.1: ambiguous framing
            raise _LimitExceeded()
        if self.body_limit_for is not None:
            # Only when some route declares max_body_size: its limit applies before the body is read.
            raw_path = self.url.partition(b"?")[0]
            route_limit = self.body_limit_for(self.method, unquote(raw_path.decode("latin-1")))
            if route_limit is not None:
                self.message_body_limit = route_limit
        if declared > self.message_body_limit:
            self.error_status = 413
            raise _LimitExceeded()
        if self.expect_continue and self.http_version == "1.1" and (declared > 0 or chunked):
            if self.current is None and not self.pipeline and not self.out:
                self.transport.write(CONTINUE_RESPONSE)
            else:
                self.continue_pending = True

    def on_body(self, bytes body):
        self.body_size += len(body)
        if self.body_size > self.message_body_limit:
            self.error_status = 413
            raise _LimitExceeded()
        if self.body_chunks is None:
            self.body_chunks = [body]
        else:
            self.body_chunks.append(body)

    def on_message_complete(self):
        self.completed_in_chunk += 1
        self.last_body_size = self.body_size
        self.last_chunked = self.chunked
        self.continue_pending = False
        cdef bytes url = self.url
        cdef bytes raw_path = url
        cdef bytes query = b""
        # PERF: C-level scans instead of bytes method calls (find, slicing, `in`) on every request.
        cdef const char* data = PyBytes_AS_STRING(url)
        cdef Py_ssize_t size = PyBytes_GET_SIZE(url)
        cdef const char* mark = <const char*>memchr(data, c'?', size)
        if mark != NULL:
            raw_path = PyBytes_FromStringAndSize(data, mark - data)
            query = PyBytes_FromStringAndSize(mark + 1, size - (mark - data) - 1)
        if PyBytes_GET_SIZE(raw_path) == 0 or PyBytes_AS_STRING(raw_path)[0] != c'/':
            parsed = httptools.parse_url(url) if raw_path != b"*" else None
            if parsed is not None:
                raw_path = parsed.path or b"/"
                query = parsed.query or b""
        data = PyBytes_AS_STRING(raw_path)
        size = PyBytes_GET_SIZE(raw_path)
        path = PyUnicode_DecodeLatin1(data, size, NULL)
        if memchr(data, c'%', size) != NULL:
            path = unquote(path)
        chunks = self.body_chunks
        body = b"" if chunks is None else (chunks[0] if len(chunks) == 1 else b"".join(chunks))
        self._push(new_request(
            RequestType, self.method, path, query, self.headers, body, self.client, self.http_version, self.keep_alive,
        ))
        self._clear_message()

    # Request processing

    cdef _process_pipeline(self):
        cdef object request
        while (self.current is None and self.pipeline and not self.writing_paused and not self.tasks_paused
               and not self.close_after_write):
            if self.conn_state == CONN_CLOSED:
                return
            request = self._pop()
            if type(request) is not RequestType:
                if type(request) is ParseFailure:
                    self._fail((<object>request).status, (<object>request).message)
                else:
                    self._upgrade(request)
                return
            self.current = request
            try:
                if self.dispatch is not None:
                    result = self.dispatch.dispatch(request)
                else:
                    result = self.app_call(request)
            except BaseException as exc:  # the app handles its own errors; this is a bug guard
                logger.exception("unhandled error dispatching %s %s", request.method, request.path)
                result = server_error()
            if isinstance(result, FutureType):
                result.add_done_callback(self._on_response_ready)
                if self.timeout_handler > 0:
                    self.handler_timed_out = False
                    self.handler_timer = self.loop.call_later(self.timeout_handler, self._on_handler_timeout, result)
                return
            self._write_response(request, result)
            if self.out_size >= HIGH_WATER_LIMIT or (
                self.out_tasks and self.max_pending and self.runner.pending + self.out_tasks >= self.max_pending
            ):
                # NOTE: write now so that a client that does not read makes the transport
                # call pause_writing, and so that the runner sees the tasks and can call
                # for backpressure; either stops this loop. One write per data_received is
                # only for responses that fit in the transport's buffer.
                self._flush()
        if self.reading_paused and not self.writing_paused and len(self.pipeline) <= self.limit_pipeline:
            self._resume_reading()
        if (self.continue_pending and self.current is None and not self.pipeline and self.in_message
                and self.conn_state == CONN_OPEN):
            self.continue_pending = False
            self.out.append(CONTINUE_RESPONSE)

    def _on_handler_timeout(self, future):
        """A suspended handler ran past ``timeout_handler``: cancel it; the client gets 503."""
        self.handler_timer = None
        if not future.done():
            self.handler_timed_out = True
            future.cancel()

    def _on_response_ready(self, future):
        """Called by the loop when a handler that suspended has produced its response."""
        request = self.current
        if self.handler_timer is not None:
            self.handler_timer.cancel()
            self.handler_timer = None
        if self.handler_timed_out:
            self.handler_timed_out = False
            logger.error("%s %s took longer than %.3g s: cancelled, answered 503", request.method, request.path,
                         self.timeout_handler)
            response = Response(OVERLOADED_BODY, 503, None, "application/json")
            batch = request.background
            if batch is not None:
                # As when a handler raises: its tasks are dropped; call_when_done cleanups still run.
                batch._items = []
                if not getattr(batch, "_when_done", None):
                    request.background = None
        else:
            try:
                response = future.result()
            except BaseException:
                logger.exception("unhandled error in %s %s", request.method, request.path)
                response = server_error()
            if isinstance(response, FutureType):
                # An error response still being made (an async exception handler that awaited).
                response.add_done_callback(self._on_response_ready)
                return
        if self.conn_state == CONN_CLOSED:
            self.current = None
            if request.background is not None:
                self.runner.submit(request.background)
            return
        self._write_response(request, response)
        self._process_pipeline()
        self._flush()

    cdef _upgrade(self, object pending):
        """A WebSocket upgrade is next: the responses before it are out; the WebSocket side refuses it (a
        Response now or later) or, when its handler accepts, takes the transport over (``hand_over``)."""
        request = pending.request
        self.current = request
        self._flush()
        try:
            result = self.state.upgrade_websocket(self, request)
        except BaseException:  # a bug guard, as for app_call
            logger.exception("unhandled error opening a WebSocket on %s", request.path)
            request.keep_alive = False
            result = server_error()
        if isinstance(result, FutureType):
            result.add_done_callback(self._on_response_ready)
            return
        self._write_response(request, result)

    def hand_over(self):
        """Called when a WebSocket handler accepts: this protocol lets go of the connection.

        Returns (transport, the bytes received after the upgrade head, writing_paused, reading_paused).
        """
        pending = self.upgrade_pending
        self.upgrade_pending = None
        self.current = None
        self.conn_state = CONN_CLOSED
        self.state.connections.discard(self)
        early = bytes(pending.early) if pending is not None else b""
        return self.transport, early, self.writing_paused, self.reading_paused

    cdef _write_response(self, object request_object, object response):
        cdef RequestCore request = <RequestCore>request_object  # only RequestCore objects reach the pipeline
        keep_alive = request.keep_alive and not self.close_after_write and self.conn_state == CONN_OPEN
        if type(response) is not ResponseType and isinstance(response, StreamingResponseType):
            # The stream task writes it; the request stays current until its last chunk, so
            # pipelined requests wait behind it.
            self.stream_task = self.loop.create_task(_stream_body(self, request, response, keep_alive),
                                                     name="zigmund-stream")
            return
        if not isinstance(response, ResponseCore):
            logger.error("%s %s was answered with %r, which is not a Response", request.method, request.path,
                         response)
            response = server_error()
        cdef ResponseCore answer = <ResponseCore>response
        cdef bytes extra = b""
        if self.observe:
            request_id = request.request_id
            if answer._headers is None and request_id is not None:
                # PERF: the id line goes straight into the head; the id is well-formed (we checked or made it).
                extra = request_id_line(<str>request_id)
                request.status = answer.status_code
                request.response_size = len(answer.body)
            else:
                self.state.stamp_response(request, answer)
            self.out_observed.append(request)
        try:
            data = encode_response(answer, request.method == "HEAD", keep_alive, request.http_version == "1.0",
                                   extra)
        except Exception:
            # NOTE: a response that can't be encoded (a non-latin-1 header, a body that is not
            # bytes) is a bug in the app; answer 500 rather than drop the connection.
            logger.exception("could not encode the response to %s %s", request.method, request.path)
            data = encode_response(
                server_error(),
                request.method == "HEAD", keep_alive, request.http_version == "1.0",
            )
        self.out.append(data)
        self.out_size += len(data)
        batch = request.background
        if batch is not None:
            # PERF: read the item list directly; BackgroundTasks.__len__ is a Python call.
            self.out_batches.append(batch)
            self.out_tasks += len((<TasksCore?>batch)._items)
        self.current = None
        if not keep_alive:
            self.close_after_write = True
            self.pipeline.clear()

    cdef object _drained(self):
        """A future resolved by resume_writing, for a stream waiting on a full write buffer."""
        waiter = self.drain_waiter
        if waiter is None:
            waiter = self.drain_waiter = self.loop.create_future()
        return waiter

    cdef _end_stream(self, object request, object response, bint keep_alive, int outcome, Py_ssize_t sent):
        """Called by the stream task when it is over: the request is answered, what was behind it may go."""
        self.stream_task = None
        self.current = None
        batch = request.background
        if outcome == STREAM_DONE:
            if self.observe:
                request.status = response.status_code
                request.response_size = sent
                self.out_observed.append(request)
            if batch is not None:
                self.out_batches.append(batch)
                self.out_tasks += len(batch._items)
            if not (keep_alive and request.keep_alive and self.conn_state == CONN_OPEN):
                self.close_after_write = True
                self.pipeline.clear()
            self._process_pipeline()
            self._flush()
            return
        if self.conn_state == CONN_CLOSED and outcome == STREAM_LOST:
            if batch is not None:
                self.runner.submit(batch)  # the client left; like an unwritten response, its tasks still run
            return
        if batch is not None:
            # As when a handler raises, its tasks are dropped; cleanups registered with
            # call_when_done (yield dependencies) still run, in an emptied batch.
            if batch._items:
                logger.warning("discarding %d background task(s) of %s %s: its response failed",
                               len(batch._items), request.method, request.path)
                batch._items = []
            if not getattr(batch, "_when_done", None):
                batch = request.background = None
        if outcome == STREAM_UNPREPARED and self.conn_state != CONN_CLOSED:
            self._write_response(request, server_error())
            self._process_pipeline()
            self._flush()
            return
        # NOTE: the head went out with a promise of more; closing is how the client learns it was cut.
        self.close_after_write = True
        self.pipeline.clear()
        if batch is not None:
            self.runner.submit(batch)
        if self.conn_state != CONN_CLOSED:
            self.transport.close()

    cdef _flush(self, double now=0.0):
        """Write what is pending in one call, then hand the answered requests' tasks to the runner.

        ``now``: a clock reading the caller just took, or 0.0 to read it after the write
        (one reading serves the write, request.end and task.queued).
        """
        cdef list out = self.out
        if out:
            self.out = []
            self.out_size = 0
            if self.conn_state != CONN_CLOSED:
                self._write(out[0] if len(out) == 1 else b"".join(out))
                if now == 0.0:
                    now = monotonic_now()
                self.last_activity = now
        if self.out_observed:
            observed, self.out_observed = self.out_observed, []
            if self.observer is not None:
                if now == 0.0:
                    now = monotonic_now()
                self.observer.requests_written(observed, now)
        if self.out_batches:
            batches, self.out_batches = self.out_batches, []
            self.out_tasks = 0
            for batch in batches:
                self.runner.submit(batch, now)
        if self.close_after_write and self.current is None and self.conn_state != CONN_CLOSED:
            if self.conn_state == CONN_LINGERING:
                return
            self.transport.close()

    cdef _fail(self, int status, str message):
        """Answer an unparseable request, then close without resetting the peer."""
        self.pipeline.clear()
        self.parser_done = True
        self.continue_pending = False
        error = Response(error_body(status, message), status, None, "application/json")
        self.out.append(encode_response(error, False, False, False))
        self.close_after_write = True
        self.conn_state = CONN_LINGERING
        # NOTE: closing a socket with unread input makes the kernel send RST, which
        # can destroy the error response before the client reads it. Half-close
        # instead, keep discarding input, and close when the peer does (or soon).
        self._flush()
        transport = self.transport
        if self.peer_closed:
            transport.close()  # nothing more can arrive, so closing cannot reset the connection
        elif transport.can_write_eof():
            transport.write_eof()
            self._resume_reading()
            self.linger_handle = self.loop.call_later(2.0, transport.close)
        else:
            transport.close()

    cdef _pause_reading(self):
        if not self.reading_paused and self.conn_state != CONN_CLOSED:
            self.reading_paused = True
            self.transport.pause_reading()

    cdef _resume_reading(self):
        if self.tasks_paused:
            return
        if self.reading_paused and self.conn_state != CONN_CLOSED:
            self.reading_paused = False
            self.transport.resume_reading()

    # Called by the server

    def pause_for_tasks(self):
        """Called when the background-task queue is over its bound: read no new requests."""
        self.tasks_paused = True
        self._pause_reading()

    def resume_for_tasks(self):
        """Called when the background-task queue drained below its low-water mark."""
        self.tasks_paused = False
        if not self.writing_paused and len(self.pipeline) <= self.limit_pipeline:
            self._resume_reading()
        self._process_pipeline()
        self._flush()

    def check_timeouts(self, double now, double keep_alive, double head_timeout):
        """Called by the server's periodic sweep: close idle connections, cut off slow heads and stalled bodies."""
        if self.conn_state == CONN_CLOSED or self.conn_state == CONN_LINGERING:
            return
        if self.current is not None or self.pipeline or self.flush_deferred:
            return
        if not self.in_message:
            if now - self.last_activity > keep_alive:
                self.transport.close()
        elif not self.headers_done:
            if head_timeout > 0 and now - self.message_started > head_timeout:
                self._fail(408, "Request Timeout")
        elif self.timeout_body > 0 and now - self.last_activity > self.timeout_body:
            self._fail(408, "Request Timeout")  # the body stopped arriving

    def start_draining(self):
        """Called when the server shuts down: finish what was parsed, then close."""
        if self.conn_state != CONN_OPEN:
            return
        self.conn_state = CONN_DRAINING
        if self.current is None and not self.pipeline and not self.in_message:
            if self.flush_deferred:
                self._flush()  # what was answered goes out first
            self.transport.close()

    def close(self):
        """Close the connection now (the server's last step of a shutdown)."""
        if self.transport is not None and self.conn_state != CONN_CLOSED:
            self.transport.close()

    @property
    def idle(self):
        return self.current is None and not self.pipeline and not self.in_message and not self.flush_deferred


class HTTPProtocol(HTTPProtocolCore, asyncio.Protocol):
    pass
