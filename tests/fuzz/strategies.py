"""Hypothesis strategies for what a client may send: well-formed requests, mutated ones, and how they arrive.

A ``WireRequest`` is built from head lines and a framed body so that mutations
can work on the structure (a method, a header, a chunk size, a line ending) as
well as on the bytes. A request that is well-formed and within the limits is
``clean``: the protocol must hand it to the app exactly as sent. Clean requests
carry ``id=c<n>`` in their target, mutated ones ``id=m<n>``; no mutation
writes into that span, so an id seen by the app names the request it came from.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable

from hypothesis import strategies as st

# The limits the in-process harness configures (small, so that values near them are cheap to make).
HEAD_LIMIT = 8192
BODY_LIMIT = 4096

PATHS = ["/hello", "/echo", "/task", "/slow", "/sync", "/boom", "/teapot", "/big", "/stream", "/missing"]
METHODS_FOR = {
    "/hello": [b"GET", b"HEAD"],
    "/echo": [b"POST", b"PUT", b"PATCH"],
    "/task": [b"GET", b"POST", b"HEAD"],
    "/slow": [b"GET"],
    "/sync": [b"GET"],
    "/boom": [b"GET"],
    "/teapot": [b"GET"],
    "/big": [b"GET", b"HEAD"],
    "/stream": [b"GET", b"HEAD"],
    "/missing": [b"GET"],
}
ALL_METHODS = [b"GET", b"HEAD", b"POST", b"PUT", b"PATCH", b"DELETE", b"OPTIONS"]
WEIRD_METHODS = [
    b"get", b"GETT", b"G ET", b"CONNECT", b"TRACE", b"PRI", b"", b"\x00GET", b"M-SEARCH", b"PROPFIND",
    b"GET\t", b"P\xffST", b"HEAD HEAD", b"SOURCE", b"X" * 40,
]
WEIRD_VERSIONS = [
    b"HTTP/1.2", b"HTTP/2.0", b"HTTP/0.9", b"HTTP/1.10", b"http/1.1", b"HTTP/1.1 ", b"HTTP/11", b"HTTP/1",
    b"", b"HTTP/1.1\x00", b"HTTP/9.9", b"HTTP/1.01",
]
WEIRD_CONTENT_LENGTHS = [
    b"-1", b"+5", b"abc", b"", b"5, 5", b" 5", b"5 5", b"0x10", b"99999999999999999999999", b"1e3", b"\t7",
    b"4097", b"18446744073709551616", b"00000000000000000000003",
]
WEIRD_TRANSFER_ENCODINGS = [
    b"gzip", b"chunked, gzip", b"gzip, chunked", b"identity", b"Chunked", b"chunked ", b" chunked", b"chunked;q=1",
    b"chunkedx", b"chunked, chunked", b"", b"\x00chunked",
]
WEIRD_CHUNK_SIZES = [b"zz", b"-1", b"ffffffffffffffffff", b"1 2", b"", b"0x5", b"+5", b"5;", b"5;=", b"5;a=\x00",
                     b"5 ;a", b"5\x7f"]
WEIRD_TARGETS = [b"", b"*", b"//", b"/\x00", b"/ /", b"http://", b"/%", b"/%zz", b"/%00", b"?", b"/\xff\xfe",
                 b"\x01", b"/a b", b"/.." * 20]
BAD_HEADER_NAME_CHARS = [b" ", b":", b"\x00", b"\r", b"\n", b"\x7f", b"\xff", b"(", b"\t", b"\"", b"@"]
BAD_HEADER_VALUE_CHARS = [b"\r", b"\n", b"\x00", b"\r\n", b"\x7f", b"\x01"]

TOKEN_CHARS = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~"
VALUE_CHARS = bytes(range(0x20, 0x7F)).replace(b"=", b"") + b"\t" + bytes(range(0x80, 0x100))
BODY_CHARS = b"abcXYZ0123456789\r\n;: \x00\xff"

tokens = st.binary(min_size=1, max_size=12).map(lambda b: bytes(TOKEN_CHARS[x % len(TOKEN_CHARS)] for x in b))
header_values = st.binary(max_size=24).map(
    lambda b: bytes(VALUE_CHARS[x % len(VALUE_CHARS)] for x in b).strip(b" \t")
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    size = draw(st.one_of(
        st.integers(0, 48),
        st.integers(BODY_LIMIT - 3, BODY_LIMIT),  # at the limit: accepted
        st.just(BODY_LIMIT + 1),  # one past: 413
    ))
    seed = draw(st.binary(min_size=1, max_size=16))
    pattern = bytes(BODY_CHARS[x % len(BODY_CHARS)] for x in seed)
    return (pattern * (size // len(pattern) + 1))[:size]


@dataclasses.dataclass
class WireRequest:
    """One request as it will be written, plus what the app must see if it is clean."""

    ident: str
    method: bytes
    path: str
    target: bytes
    version: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes  # decoded body
    framed_body: bytes  # as sent (chunked encoding applied)
    chunked: bool
    closes: bool  # asks the server to close after answering it
    line_end: list[bytes] = dataclasses.field(default_factory=list)  # per head line; CRLF unless mutated
    mutations: list[str] = dataclasses.field(default_factory=list)
    raw: bytes | None = None  # set by byte-level mutations; wins over the structure

    @property
    def clean(self) -> bool:
        return not self.mutations and self.head_size <= HEAD_LIMIT and len(self.body) <= BODY_LIMIT

    @property
    def head_lines(self) -> list[bytes]:
        return [b"%s %s %s" % (self.method, self.target, self.version)] + [
            name + b": " + value for name, value in self.headers
        ]

    @property
    def head_size(self) -> int:
        return len(self.encode_head())

    def encode_head(self) -> bytes:
        lines = self.head_lines
        ends = self.line_end + [b"\r\n"] * (len(lines) - len(self.line_end))
        return b"".join(line + end for line, end in zip(lines, ends)) + b"\r\n"

    def encode(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return self.encode_head() + self.framed_body

    def id_span(self) -> tuple[int, int]:
        """Where ``id=...`` sits in ``encode()`` before byte-level mutations (they must not touch it)."""
        data = self.encode_head()
        start = data.find(b"id=")
        end = start + 3 + len(self.ident)
        return start, end


def _chunked(body: bytes, sizes: list[int], extension: bytes, trailers: list[tuple[bytes, bytes]],
             upper: bool) -> bytes:
    out = bytearray()
    pos = 0
    for size in sizes:
        piece = body[pos:pos + size]
        if not piece:
            break
        out += (b"%X" if upper else b"%x") % len(piece) + extension + b"\r\n" + piece + b"\r\n"
        pos += len(piece)
    if pos < len(body):
        piece = body[pos:]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    out += b"0\r\n" + b"".join(name + b": " + value + b"\r\n" for name, value in trailers) + b"\r\n"
    return bytes(out)


@st.composite
def clean_requests(draw: st.DrawFn, number: int) -> WireRequest:
    """A well-formed request (it may still exceed a limit when a size near one is drawn)."""
    path = draw(st.sampled_from(PATHS))
    # NOTE: the rare branches sit on the highest value, because hypothesis shrinks integers
    # towards 0: a shrunk example then keeps only the rare things the failure needs.
    method = draw(st.sampled_from(ALL_METHODS) if draw(st.integers(0, 9)) == 9 else st.sampled_from(METHODS_FOR[path]))
    version = b"HTTP/1.0" if draw(st.integers(0, 4)) == 4 else b"HTTP/1.1"
    ident = f"c{number}"
    query = b"id=" + ident.encode()
    if path == "/task":
        for flag in (b"async", b"suspend", b"fail", b"stream"):
            if draw(st.booleans()):
                query += b"&" + flag + b"=1"
    form = draw(st.integers(0, 9))
    if form == 9:
        target = b"http://example.com" + path.encode() + b"?" + query
    elif form == 8 and path == "/hello":
        target = b"/%68ello?" + query  # percent-encoded "h"
    else:
        target = path.encode() + b"?" + query
    headers: list[tuple[bytes, bytes]] = []
    if version == b"HTTP/1.1" or draw(st.booleans()):
        headers.append((draw(st.sampled_from([b"Host", b"host", b"HOST"])), b"example.com"))
    closes = version == b"HTTP/1.0"
    connection = draw(st.integers(0, 9))
    if connection == 9:
        headers.append((b"Connection", b"close"))
        closes = True
    elif connection == 8:
        headers.append((b"Connection", b"keep-alive"))
        closes = False
    for _ in range(draw(st.integers(0, 3))):
        headers.append((b"x-" + draw(tokens), draw(header_values)))
    body = draw(bodies()) if method in (b"POST", b"PUT", b"PATCH") or draw(st.integers(0, 9)) == 9 else b""
    framing = draw(st.sampled_from(["length", "chunked"] if body else ["none", "length", "chunked"]))
    if version == b"HTTP/1.0" and framing == "chunked":
        framing = "length"  # chunked in HTTP/1.0 is a mutation of its own
    chunked = framing == "chunked"
    if framing == "length":
        headers.append((b"Content-Length", b"%d" % len(body)))
        framed = body
    elif chunked:
        headers.append((b"Transfer-Encoding", b"chunked"))
        sizes = draw(st.lists(st.integers(1, 64), max_size=6))
        extension = draw(st.sampled_from([b"", b";a=b", b";name", b';q="x y"']))
        trailers = [(b"x-trailer", b"t")] if draw(st.integers(0, 4)) == 4 else []
        framed = _chunked(body, sizes, extension, trailers, draw(st.booleans()))
    else:
        framed = b""
    if body and version == b"HTTP/1.1" and draw(st.integers(0, 5)) == 5:
        headers.append((b"Expect", b"100-continue"))
    streamed = (path == "/stream" and method in (b"GET", b"HEAD")) or (
        path == "/task" and b"stream=1" in query and method in (b"GET", b"HEAD", b"POST")
    )
    if streamed and version == b"HTTP/1.0":
        closes = True  # no chunked encoding in HTTP/1.0: the close ends the streamed body
    if draw(st.integers(0, 12)) == 12:
        # A head near the head limit: a few bytes under, at, or over it.
        request = WireRequest(ident, method, path, target, version, headers, body, framed, chunked, closes)
        room = HEAD_LIMIT - request.head_size - len(b"x-pad: \r\n")
        headers.append((b"x-pad", b"p" * max(0, room + draw(st.integers(-8, 8)))))
    order = draw(st.permutations(range(len(headers))))
    headers = [headers[i] for i in order]
    return WireRequest(ident, method, path, target, version, headers, body, framed, chunked, closes)


def _set_header(request: WireRequest, name: bytes, value: bytes, replace: bool) -> None:
    if replace:
        request.headers = [(n, v) for n, v in request.headers if n.lower() != name.lower()]
    request.headers.append((name, value))


@st.composite
def mutated_requests(draw: st.DrawFn, number: int) -> WireRequest:
    """A clean request with one to three mutations: what a broken or hostile client sends."""
    request = draw(clean_requests(number))
    request.ident = f"m{number}"
    request.target = request.target.replace(b"id=c", b"id=m")
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(MUTATIONS))
        if MUTATORS[kind](draw, request):
            request.mutations.append(kind)
    if not request.mutations:
        request.mutations.append("none-applied")
    return request


def _method(draw: st.DrawFn, r: WireRequest) -> bool:
    r.method = draw(st.sampled_from(WEIRD_METHODS))
    return True


def _version(draw: st.DrawFn, r: WireRequest) -> bool:
    r.version = draw(st.sampled_from(WEIRD_VERSIONS))
    return True


def _target(draw: st.DrawFn, r: WireRequest) -> bool:
    r.target = draw(st.sampled_from(WEIRD_TARGETS)) + b"?id=" + r.ident.encode()
    return True


def _header_name(draw: st.DrawFn, r: WireRequest) -> bool:
    name = draw(tokens)
    cut = draw(st.integers(0, len(name)))
    bad = name[:cut] + draw(st.sampled_from(BAD_HEADER_NAME_CHARS)) + name[cut:]
    r.headers.insert(draw(st.integers(0, len(r.headers))), (bad, b"v"))
    return True


def _header_value(draw: st.DrawFn, r: WireRequest) -> bool:
    value = draw(header_values)
    cut = draw(st.integers(0, len(value)))
    bad = value[:cut] + draw(st.sampled_from(BAD_HEADER_VALUE_CHARS)) + value[cut:]
    r.headers.insert(draw(st.integers(0, len(r.headers))), (b"x-bad", bad))
    return True


def _obs_fold(draw: st.DrawFn, r: WireRequest) -> bool:
    fold = draw(st.sampled_from([b"\r\n ", b"\r\n\t", b"\n ", b"\r\n  \t"]))
    r.headers.insert(draw(st.integers(0, len(r.headers))), (b"x-fold", b"a" + fold + b"b"))
    return True


def _content_length(draw: st.DrawFn, r: WireRequest) -> bool:
    value = draw(st.one_of(st.sampled_from(WEIRD_CONTENT_LENGTHS), st.integers(0, 64).map(lambda n: b"%d" % n)))
    _set_header(r, b"Content-Length", value, replace=draw(st.booleans()))
    return True


def _transfer_encoding(draw: st.DrawFn, r: WireRequest) -> bool:
    value = draw(st.sampled_from(WEIRD_TRANSFER_ENCODINGS + [b"chunked"]))
    _set_header(r, b"Transfer-Encoding", value, replace=draw(st.booleans()))
    return True


def _chunk(draw: st.DrawFn, r: WireRequest) -> bool:
    if not r.chunked:
        return False
    what = draw(st.integers(0, 3))
    body = r.framed_body
    if what == 0:  # a bad size line
        line_end = body.find(b"\r\n")
        r.framed_body = draw(st.sampled_from(WEIRD_CHUNK_SIZES)) + body[line_end:]
    elif what == 1:  # a bad trailer
        r.framed_body = body[:-2] + draw(st.sampled_from([b"bad trailer\r\n", b"x:\x00\r\n", b": v\r\n"])) + b"\r\n"
    elif what == 2:  # no last chunk
        r.framed_body = body[: body.rfind(b"0\r\n")]
    else:  # data longer than its size says
        r.framed_body = body.replace(b"\r\n", b"\r\nXX", 1)
    return True


def _bare_lf(draw: st.DrawFn, r: WireRequest) -> bool:
    count = len(r.head_lines)
    if draw(st.booleans()):
        r.line_end = [b"\n"] * count
    else:
        r.line_end = [b"\r\n"] * count
        r.line_end[draw(st.integers(0, count - 1))] = draw(st.sampled_from([b"\n", b"\r", b"\n\r"]))
    return True


def _host(draw: st.DrawFn, r: WireRequest) -> bool:
    if draw(st.booleans()):
        r.headers = [(n, v) for n, v in r.headers if n.lower() != b"host"]
        return r.version == b"HTTP/1.1"
    r.headers.append((b"Host", b"other.example"))
    return True


def _space_before_colon(draw: st.DrawFn, r: WireRequest) -> bool:
    if not r.headers:
        return False
    index = draw(st.integers(0, len(r.headers) - 1))
    name, value = r.headers[index]
    r.headers[index] = (name + draw(st.sampled_from([b" ", b"\t"])), value)
    return True


def _expect(draw: st.DrawFn, r: WireRequest) -> bool:
    _set_header(r, b"Expect", draw(st.sampled_from([b"200-ok", b"100-continue, x", b"", b"100-Continue"])), True)
    return True


def _chunked_in_http10(draw: st.DrawFn, r: WireRequest) -> bool:
    r.version = b"HTTP/1.0"
    _set_header(r, b"Transfer-Encoding", b"chunked", replace=True)
    r.framed_body = _chunked(r.body, [], b"", [], False)
    return True


def _oversize(draw: st.DrawFn, r: WireRequest) -> bool:
    if draw(st.booleans()):
        r.headers.append((b"x-huge", b"h" * draw(st.integers(HEAD_LIMIT, 3 * HEAD_LIMIT))))
    else:
        r.target += b"&pad=" + b"u" * draw(st.integers(HEAD_LIMIT // 2, 2 * HEAD_LIMIT))
    return True


def _bytes_level(draw: st.DrawFn, r: WireRequest) -> bool:
    data = bytearray(r.encode())
    start, end = r.id_span()
    if start < 0:
        return False
    positions = [i for i in (draw(st.integers(0, max(0, len(data) - 1))),) if not start <= i < end + 1]
    what = draw(st.integers(0, 2))
    if what == 0:  # truncate
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] if not start < cut <= end else data[:start]
    elif what == 1 and positions and data:  # flip one byte
        data[positions[0]] = draw(st.integers(0, 255))
    elif positions:  # insert bytes
        data[positions[0]:positions[0]] = draw(st.binary(min_size=1, max_size=4))
    else:
        return False
    r.raw = bytes(data)
    return True


MUTATORS: dict[str, Callable[[st.DrawFn, WireRequest], bool]] = {
    "method": _method,
    "version": _version,
    "target": _target,
    "header-name": _header_name,
    "header-value": _header_value,
    "obs-fold": _obs_fold,
    "content-length": _content_length,
    "transfer-encoding": _transfer_encoding,
    "chunk": _chunk,
    "bare-lf": _bare_lf,
    "host": _host,
    "space-before-colon": _space_before_colon,
    "expect": _expect,
    "chunked-in-http10": _chunked_in_http10,
    "oversize": _oversize,
    "bytes": _bytes_level,
}
MUTATIONS = sorted(MUTATORS)


@dataclasses.dataclass
class RequestStream:
    """What one connection sends: requests (and junk) in order."""

    requests: list[WireRequest]
    junk: dict[int, bytes]  # bytes sent before the request at that index (len(requests): after the last)

    def encode(self) -> bytes:
        parts = []
        for index, request in enumerate(self.requests):
            parts.append(self.junk.get(index, b""))
            parts.append(request.encode())
        parts.append(self.junk.get(len(self.requests), b""))
        return b"".join(parts)

    def clean_prefix(self) -> list[WireRequest]:
        """The requests before the first mutation or junk: each must reach the app exactly as sent."""
        prefix = []
        for index, request in enumerate(self.requests):
            junk = self.junk.get(index, b"")
            if (junk and junk.strip(b"\r\n")) or not request.clean or request.raw is not None:
                break
            prefix.append(request)
            if request.closes:
                break
        return prefix


def renumbered(request: WireRequest, number: int) -> WireRequest:
    """A copy of ``request`` that says ``id=<kind><number>``."""
    ident = request.ident[0] + str(number)
    old = re.compile(b"id=" + re.escape(request.ident.encode()) + b"(?![0-9])")
    new = b"id=" + ident.encode()
    raw = old.sub(new, request.raw) if request.raw is not None else None
    return dataclasses.replace(request, ident=ident, target=old.sub(new, request.target), raw=raw,
                               headers=list(request.headers), mutations=list(request.mutations))


@st.composite
def request_streams(draw: st.DrawFn) -> RequestStream:
    count = draw(st.integers(1, 6))
    mutation_rate = draw(st.sampled_from([0.0, 0.0, 0.1, 0.3, 1.0]))
    requests = []
    for number in range(count):
        mutate = mutation_rate > 0 and draw(st.floats(0, 1)) < mutation_rate
        requests.append(draw(mutated_requests(number) if mutate else clean_requests(number)))
    if draw(st.integers(0, 3)) == 3:
        # A deep pipeline (past limit_pipeline): the same few requests again, renumbered.
        # PERF: drawing 40 distinct requests made generation ~25 ms per example.
        template = list(requests)
        for number in range(count, draw(st.integers(20, 40))):
            requests.append(renumbered(template[number % len(template)], number))
    junk: dict[int, bytes] = {}
    if draw(st.integers(0, 4)) == 4:
        junk[draw(st.integers(0, count))] = draw(st.one_of(
            st.sampled_from([b"\r\n", b"\r\n\r\n", b"\n", b" ", b"\x00", b"HTTP/1.1 200 OK\r\n\r\n"]),
            st.binary(min_size=1, max_size=32),
        ))
    return RequestStream(requests, junk)


@dataclasses.dataclass
class Delivery:
    """How a stream's bytes reach the protocol, and how the connection ends."""

    chunks: list[bytes]
    settle_after: list[bool]  # let the loop run (handlers resume, tasks run) after this chunk
    # "eof" (client half-closes), "idle" (client waits; the server's timeout sweep must end it),
    # "abort" (connection lost), "abort-now" (lost before the last chunk)
    ending: str
    sweep_at: int | None  # before this chunk, the timeout sweep runs as if a long time passed
    drain_at: int | None  # before this chunk, the server starts its graceful shutdown


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c for c in cuts if 0 < c < len(data)})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges) if b > a] or [data]


@st.composite
def deliveries(draw: st.DrawFn, data: bytes, boundaries: list[int]) -> Delivery:
    mode = draw(st.sampled_from(["whole", "per-request", "random", "random", "bytes"]))
    if mode == "whole":
        chunks = [data]
    elif mode == "per-request":
        chunks = split(data, boundaries)
    elif mode == "bytes" and len(data) <= 400:
        chunks = [data[i:i + 1] for i in range(len(data))]
    else:
        cuts = draw(st.lists(st.integers(0, max(0, len(data))), max_size=12))
        chunks = split(data, cuts)
    settle = [draw(st.integers(0, 3)) == 3 for _ in chunks]
    ending = draw(st.sampled_from(["eof", "eof", "eof", "idle", "abort", "abort-now"]))
    rare = draw(st.integers(0, 19))
    sweep_at = draw(st.integers(0, len(chunks))) if rare == 19 else None
    drain_at = draw(st.integers(0, len(chunks))) if rare == 18 else None
    return Delivery(chunks, settle, ending, sweep_at, drain_at)


def request_boundaries(stream: RequestStream) -> list[int]:
    edges = []
    pos = 0
    for index, request in enumerate(stream.requests):
        pos += len(stream.junk.get(index, b""))
        pos += len(request.encode())
        edges.append(pos)
    return edges
