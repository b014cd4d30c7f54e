"""The responses of one loop iteration are written together, after every read of that iteration.

A connection's responses wait in the server's ``WriteBatcher`` until the loop's
next round of callbacks; these tests pin down that nothing is lost or reordered
on the way: not on a half-close, not on a shutdown, not with a streamed response
behind, and that a request's background tasks still start only after its bytes
were handed to the transport. The over-the-wire tests use real sockets.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import uvloop

from zigmund_fast import App, BackgroundTasks, Request, Response, StreamingResponse
from zigmund_fast._impl import HTTPProtocol
from zigmund_fast.background import TaskRunner
from zigmund_fast.server.config import Config
from zigmund_fast.server.server import ServerState
from zigmund_fast.testing import _MemoryTransport

from ..conftest import RunningServer, read_response, recv_until_closed

Serve = Callable[..., RunningServer]

GET_HELLO = b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
GET_STREAM = b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n"
POST_TASK = b"POST /task HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"


def make_app(seen_at_task: list[bytes], transports: list[_MemoryTransport]) -> App:
    app = App()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"message": "hi"}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"one"
            yield b"two"

        return StreamingResponse(chunks(), media_type="text/plain")

    def record() -> None:
        seen_at_task.append(bytes(transports[0].buffer))

    @app.post("/task")
    async def task(request: Request, tasks: BackgroundTasks) -> Response:
        tasks.add(record)
        return Response.json({"queued": True})

    return app


class UvloopLikeTransport(_MemoryTransport):
    """Drops what is written after ``close()`` and reports the loss on a later iteration, as uvloop does."""

    def __init__(self, client: tuple[str, int], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(client)
        self.loop = loop

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self.closed:
            super().write(data)

    def close(self) -> None:
        if not self.closed:
            super().close()
            self.loop.call_soon(self._protocol.connection_lost, None)


class Harness:
    """Protocols of one server state on memory transports, driven inside a uvloop loop."""

    def __init__(self) -> None:
        self.seen_at_task: list[bytes] = []
        self.transports: list[_MemoryTransport] = []
        self.loop = uvloop.new_event_loop()
        self.app = make_app(self.seen_at_task, self.transports)
        self.runner = TaskRunner(self.loop)
        self.state = ServerState(Config(app=self.app, gc_freeze=False), self.loop, self.runner)

    def connect(self) -> tuple[Any, UvloopLikeTransport]:
        transport = UvloopLikeTransport(("127.0.0.1", 40000 + len(self.transports)), self.loop)
        self.transports.append(transport)
        protocol = HTTPProtocol(self.state)
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        return protocol, transport

    def run(self, step: Callable[[], Any]) -> Any:
        """Call ``step`` as one loop callback (as the loop calls data_received), then let the loop go on."""

        async def inside() -> Any:
            result = step()
            for _ in range(5):
                await asyncio.sleep(0)
            return result

        return self.loop.run_until_complete(inside())

    def close(self) -> None:
        self.loop.close()


@pytest.fixture
def harness() -> Any:
    h = Harness()
    yield h
    h.close()


def test_responses_of_several_connections_wait_for_the_end_of_the_iteration_then_all_go_out(harness: Any) -> None:
    (first, first_out), (second, second_out) = harness.connect(), harness.connect()
    written_during_reads: list[int] = []

    def reads() -> None:
        first.data_received(GET_HELLO)
        second.data_received(GET_HELLO + GET_HELLO)
        written_during_reads.append(len(first_out.buffer) + len(second_out.buffer))

    harness.run(reads)
    assert written_during_reads == [0]
    assert first_out.buffer.count(b"HTTP/1.1 200 OK\r\n") == 1
    assert second_out.buffer.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert not first_out.closed and not second_out.closed


def test_a_request_task_starts_only_after_its_response_reached_the_transport(harness: Any) -> None:
    protocol, transport = harness.connect()
    harness.run(lambda: protocol.data_received(POST_TASK))
    harness.loop.run_until_complete(harness.runner.wait_idle())
    assert len(harness.seen_at_task) == 1
    assert harness.seen_at_task[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert harness.seen_at_task[0].endswith(b'{"queued":true}')


def test_half_close_right_after_the_read_still_writes_what_was_answered(harness: Any) -> None:
    protocol, transport = harness.connect()

    def read_then_eof() -> None:
        protocol.data_received(GET_HELLO)
        if not protocol.eof_received():
            transport.close()  # what uvloop does when eof_received returns a false value

    harness.run(read_then_eof)
    assert transport.buffer.count(b"HTTP/1.1 200 OK\r\n") == 1
    assert transport.buffer.endswith(b'{"message":"hi"}')
    assert transport.closed


def test_half_close_with_a_stream_behind_an_answered_request_writes_the_answer_first(harness: Any) -> None:
    # Found by the protocol fuzzer: the EOF stops the stream, and used to close the
    # transport before the batcher wrote the response in front of it.
    protocol, transport = harness.connect()

    def read_then_eof() -> None:
        protocol.data_received(GET_HELLO + GET_STREAM)
        if not protocol.eof_received():
            transport.close()

    harness.run(read_then_eof)
    assert transport.buffer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b'{"message":"hi"}' in transport.buffer


def test_shutdown_right_after_the_read_writes_the_answer_then_closes(harness: Any) -> None:
    protocol, transport = harness.connect()

    def read_then_drain() -> None:
        protocol.data_received(GET_HELLO)
        protocol.start_draining()

    harness.run(read_then_drain)
    assert transport.buffer.count(b"HTTP/1.1 200 OK\r\n") == 1
    assert transport.closed


def test_a_connection_with_unwritten_answers_is_not_idle(harness: Any) -> None:
    protocol, _ = harness.connect()
    idle_after_read: list[bool] = []

    def read() -> None:
        protocol.data_received(GET_HELLO)
        idle_after_read.append(protocol.idle)

    harness.run(read)
    assert idle_after_read == [False]
    assert protocol.idle


class FailingTransport(UvloopLikeTransport):
    def write(self, data: bytes | bytearray | memoryview) -> None:
        raise RuntimeError("the socket is gone")


def test_a_connection_whose_write_fails_is_closed_and_the_others_of_the_iteration_are_still_written(
        harness: Any, caplog: pytest.LogCaptureFixture) -> None:
    failing_transport = FailingTransport(("127.0.0.1", 39999), harness.loop)
    harness.transports.append(_MemoryTransport(("127.0.0.1", 1)))  # what the task records (unused here)
    failing = HTTPProtocol(harness.state)
    failing_transport.set_protocol(failing)
    failing.connection_made(failing_transport)
    healthy, healthy_out = harness.connect()

    def reads() -> None:
        failing.data_received(POST_TASK)
        healthy.data_received(GET_HELLO)

    harness.run(reads)
    harness.loop.run_until_complete(harness.runner.wait_idle())
    assert healthy_out.buffer.count(b"HTTP/1.1 200 OK\r\n") == 1
    assert failing_transport.closed
    assert len(harness.seen_at_task) == 1  # the unwritten response's task still ran (connection_lost)
    assert "could not write the responses of a connection" in caplog.text


# Over real sockets


@pytest.fixture
def server(serve: Serve) -> RunningServer:
    return serve(make_app([], [_MemoryTransport(("127.0.0.1", 1))]))


def test_many_connections_sending_at_once_each_get_their_own_answers_in_order(server: RunningServer) -> None:
    socks = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(32)]
    try:
        for index, sock in enumerate(socks):
            sock.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n" * (1 + index % 3))
        for index, sock in enumerate(socks):
            buffer = bytearray()
            for _ in range(1 + index % 3):
                response = read_response(sock, buffer=buffer)
                assert response.status == 200
                assert response.body == b'{"message":"hi"}'
        for sock in socks:
            sock.sendall(POST_TASK)
        for sock in socks:
            assert read_response(sock).body == b'{"queued":true}'
    finally:
        for sock in socks:
            sock.close()


def test_half_close_after_a_request_over_a_socket_gets_the_answer_then_the_close(server: RunningServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(GET_HELLO + GET_STREAM)
        sock.shutdown(socket.SHUT_WR)
        data = recv_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b'{"message":"hi"}' in data
