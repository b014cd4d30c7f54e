"""Fuzz a real server over real sockets: generated connections, then a well-formed request must get 200.

Each example opens a TCP connection to a running server, sends the generated
bytes in the generated pieces, and ends the way the example says: a half-close
(then everything the server sends is read and checked like the in-process
fuzz does, and the server must close within a bound), a reset, or a plain
close without reading. After each, a new connection must be answered 200, the
server must drop every connection it had, and its task runner must go idle.
"""

from __future__ import annotations

import logging
import socket
import struct
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import strategies as st

from ..conftest import RunningServer, read_response
from .budget import SOCKET_SHARE, FuzzStats, run_for
from .connections import Connection, byte_connections, stream_connections
from .fuzz_app import FuzzApp
from .harness import LoopErrors, Outcome, ProtocolDefect, check_outcome
from .strategies import BODY_LIMIT, HEAD_LIMIT
from .wire_check import parse_responses

# Seconds the server may take to close after the client's EOF (an error response lingers 2 s).
CLOSE_BOUND = 5.0
GET_HEALTH = b"GET /hello?id=health HTTP/1.1\r\nHost: fuzz\r\n\r\n"


class SocketFuzz:
    """A running server, plus what its loop and its logger reported."""

    def __init__(self) -> None:
        self.app = FuzzApp()
        self.server = RunningServer(self.app, limit_request_head=HEAD_LIMIT, limit_request_body=BODY_LIMIT,
                                    timeout_keep_alive=2.0, timeout_request_head=2.0)
        self.errors = LoopErrors()
        self.server.loop.set_exception_handler(
            lambda loop, context: self.errors.messages.append(f"loop: {context.get('message')}")
        )

    def connections(self) -> int:
        state = self.server.server.state
        assert state is not None
        return int(self.server.call(lambda: len(state.connections)))

    def runner_idle(self) -> bool:
        runner = self.server.server.runner
        assert runner is not None
        return bool(self.server.call(lambda: runner.idle and not self.app.in_flight))


@pytest.fixture(scope="module")
def socket_fuzz() -> Iterator[SocketFuzz]:
    fuzz = SocketFuzz()
    server_logger = logging.getLogger("zigmund_fast.server")
    app_logger = logging.getLogger("zigmund_fast.app")
    level = app_logger.level
    app_logger.setLevel(logging.CRITICAL)  # /boom's tracebacks
    server_logger.addHandler(fuzz.errors)
    fuzz.server.start()
    try:
        yield fuzz
    finally:
        fuzz.server.stop()
        server_logger.removeHandler(fuzz.errors)
        app_logger.setLevel(level)


def _send(sock: socket.socket, connection: Connection) -> None:
    delivery = connection.delivery
    for index, chunk in enumerate(delivery.chunks):
        if delivery.ending == "abort-now" and index == len(delivery.chunks) - 1:
            return
        try:
            sock.sendall(chunk)
        except OSError:
            return  # the server closed (an error response); a real client would stop too
        if delivery.settle_after[index]:
            time.sleep(0.001)


def _read_until_closed(sock: socket.socket) -> tuple[bytes, bool]:
    """All the server sends until it closes; and whether it reset (data may then be lost)."""
    sock.settimeout(0.2)
    data = bytearray()
    deadline = time.monotonic() + CLOSE_BOUND
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            if time.monotonic() > deadline:
                raise ProtocolDefect(f"the server did not close {CLOSE_BOUND} s after the client's EOF; "
                                     f"it sent {bytes(data[:200])!r}") from None
            continue
        except ConnectionResetError:
            return bytes(data), True
        if not chunk:
            return bytes(data), False
        data += chunk


def _wait(condition: Callable[[], bool], what: str, seconds: float = CLOSE_BOUND) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise ProtocolDefect(f"after {seconds} s: {what}")
        time.sleep(0.002)


def exchange(fuzz: SocketFuzz, connection: Connection) -> None:
    fuzz.app.reset()
    fuzz.errors.messages.clear()
    sock = socket.create_connection((fuzz.server.host, fuzz.server.port), timeout=CLOSE_BOUND)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    port = sock.getsockname()[1]
    received: bytes | None = None
    try:
        _send(sock, connection)
        ending = connection.delivery.ending
        if ending == "eof":
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            data, reset = _read_until_closed(sock)
            received = None if reset else data
        elif ending == "abort":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
    finally:
        sock.close()
    _assert_server_healthy(fuzz)
    if received is not None:
        dispatched = list(fuzz.app.dispatched.get(port, []))
        responses, truncated = parse_responses(received, lambda n: n < len(dispatched) and dispatched[n].method == "HEAD")
        outcome = Outcome(received, responses, dispatched, list(fuzz.app.tasks_run), False, truncated)
        check_outcome(outcome, connection.stream, connection.delivery)
    if fuzz.errors.messages:
        raise ProtocolDefect("errors logged by the server: " + " | ".join(fuzz.errors.messages))


def _assert_server_healthy(fuzz: SocketFuzz) -> None:
    """A new connection is answered 200; then the server holds no connection and no pending work."""
    with socket.create_connection((fuzz.server.host, fuzz.server.port), timeout=CLOSE_BOUND) as probe:
        probe.sendall(GET_HEALTH)
        response = read_response(probe)
    if response.status != 200:
        raise ProtocolDefect(f"the server answered a well-formed request {response.status} after the example")
    _wait(lambda: fuzz.connections() == 0, "the server still holds connections (leak)")
    _wait(fuzz.runner_idle, "handlers or background tasks still pending")


def _sockets_only(connection: Connection) -> Connection:
    # The timeout sweep and the drain are driven by the real server here, not by the example.
    connection.delivery.sweep_at = None
    connection.delivery.drain_at = None
    if connection.delivery.ending == "idle":
        connection.delivery.ending = "eof"  # waiting out the keep-alive timeout would take seconds
    return connection


socket_connections = st.one_of(stream_connections(), byte_connections()).map(_sockets_only)


def test_server_answers_after_every_fuzzed_connection(
    socket_fuzz: SocketFuzz, fuzz_seconds: float, fuzz_stats: Callable[[str], FuzzStats]
) -> None:
    stats = fuzz_stats("real-socket connections")
    run_for(fuzz_seconds * SOCKET_SHARE, socket_connections, lambda c: exchange(socket_fuzz, c), stats)
    assert stats.executions > 0
