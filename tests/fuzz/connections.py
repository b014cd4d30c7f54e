"""What one fuzzed connection is: the bytes, how they arrive, the server-side knobs; and its strategies."""

from __future__ import annotations

import re

from hypothesis import strategies as st

from .harness import TransportOptions
from .strategies import (
    Delivery,
    RequestStream,
    deliveries,
    request_boundaries,
    request_streams,
)

FRAGMENTS = [
    b"GET / HTTP/1.1\r\n", b"GET /hello?id=x HTTP/1.1\r\n", b"POST /echo HTTP/1.1\r\n", b"HTTP/1.0\r\n",
    b"Host: a\r\n", b"Content-Length: 5\r\n", b"Content-Length: -1\r\n", b"Transfer-Encoding: chunked\r\n",
    b"Expect: 100-continue\r\n", b"Connection: close\r\n", b"Connection: keep-alive\r\n", b"\r\n", b"\n",
    b"0\r\n\r\n", b"5\r\nhello\r\n", b"ffffffff\r\n", b" folded\r\n", b"\x00", b"x" * 300, b":",
    b"Upgrade: websocket\r\nConnection: upgrade\r\n", b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /task?id=t HTTP/1.1\r\nHost: a\r\n\r\n",
]


class Connection:
    """One fuzzed connection: what is sent, how it arrives, and the server-side knobs."""

    def __init__(self, stream: RequestStream | None, delivery: Delivery, options: TransportOptions,
                 max_pending: int, limit_pipeline: int) -> None:
        self.stream = stream
        self.delivery = delivery
        self.options = options
        self.max_pending = max_pending
        self.limit_pipeline = limit_pipeline

    def fingerprint(self) -> bytes:
        return describe(self).encode("utf-8", "backslashreplace")

    def __repr__(self) -> str:
        # NOTE: a short repr: hypothesis builds it for every example, and prints it on failure.
        return describe(self, limit=6000)


RUN_OF_ONE_BYTE = re.compile(rb"(.)\1{31,}", re.DOTALL)


def compact(chunk: bytes) -> str:
    """``repr`` of a chunk, runs of one byte written as ``b"p" * 5000`` (a shrunk example stays readable)."""
    parts = []
    pos = 0
    for run in RUN_OF_ONE_BYTE.finditer(chunk):
        if run.start() > pos:
            parts.append(repr(chunk[pos:run.start()]))
        parts.append(f"{chunk[run.start():run.start() + 1]!r} * {run.end() - run.start()}")
        pos = run.end()
    if pos < len(chunk) or not parts:
        parts.append(repr(chunk[pos:]))
    return " + ".join(parts)


def describe(connection: Connection, limit: int | None = None) -> str:
    """The connection as a reader needs it to reproduce a failure: chunks, ending, knobs."""
    delivery = connection.delivery
    chunks = "[" + ", ".join(compact(chunk) for chunk in delivery.chunks) + "]"
    if limit is not None and len(chunks) > limit:
        chunks = chunks[:limit] + f"... ({sum(map(len, delivery.chunks))} bytes in {len(delivery.chunks)} chunks)"
    mutations = [r.mutations for r in connection.stream.requests] if connection.stream is not None else None
    return (f"Connection(chunks={chunks}, settle_after={delivery.settle_after}, ending={delivery.ending!r}, "
            f"sweep_at={delivery.sweep_at}, drain_at={delivery.drain_at}, options={connection.options}, "
            f"max_pending={connection.max_pending}, limit_pipeline={connection.limit_pipeline}, "
            f"mutations={mutations})")


@st.composite
def server_knobs(draw: st.DrawFn) -> tuple[TransportOptions, int, int]:
    options = TransportOptions(
        can_write_eof=draw(st.booleans()),
        high_water=draw(st.sampled_from([None, None, 256, 4096])),
    )
    return options, draw(st.sampled_from([0, 0, 2, 5])), draw(st.sampled_from([32, 32, 1, 3]))


@st.composite
def stream_connections(draw: st.DrawFn) -> Connection:
    stream = draw(request_streams())
    data = stream.encode()
    delivery = draw(deliveries(data, request_boundaries(stream)))
    options, max_pending, limit_pipeline = draw(server_knobs())
    return Connection(stream, delivery, options, max_pending, limit_pipeline)


@st.composite
def byte_connections(draw: st.DrawFn) -> Connection:
    pieces = draw(st.lists(st.one_of(st.binary(max_size=64), st.sampled_from(FRAGMENTS)), max_size=24))
    data = b"".join(pieces)
    delivery = draw(deliveries(data, []))
    options, max_pending, limit_pipeline = draw(server_knobs())
    return Connection(None, delivery, options, max_pending, limit_pipeline)
