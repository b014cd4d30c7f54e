"""Request limits and timeouts over real sockets: 431/414 for heads, 413 for bodies, idle keep-alive
and request-head timeouts.

Every error response must actually reach the client: the tests read it with plain ``recv`` and never
treat a connection reset as success.
"""

from __future__ import annotations

import asyncio
import select
import socket
import time
from collections.abc import Callable

import pytest

from zigmund_fast import App, BackgroundTasks, Request, Response

from ..conftest import RawResponse, RunningServer, read_response, recv_until_closed

Serve = Callable[..., RunningServer]

GET_HELLO = b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
HELLO_BODY = b'{"message":"hi"}'
DEFAULT_HEAD_LIMIT = 64 * 1024
SMALL_HEAD_LIMIT = 4096
BODY_LIMIT = 1024


def get_with_header_value(size: int) -> bytes:
    return b"GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * size + b"\r\n\r\n"


GET_HEADER_60_KB = get_with_header_value(60_000)
GET_HEADER_70_KB = get_with_header_value(70_000)
GET_HEADER_3_KB = get_with_header_value(3_000)
GET_HEADER_5_KB = get_with_header_value(5_000)
GET_2000_SMALL_HEADERS = (
    b"GET /hello HTTP/1.1\r\nHost: t\r\n"
    + b"".join(b"X-H-%04d: %s\r\n" % (i, b"v" * 30) for i in range(2000))  # ~86 KB in all
    + b"\r\n"
)
# A header value that never ends: the server must not buffer it without bound.
GET_UNTERMINATED_HEADER_16_KB = b"GET /hello HTTP/1.1\r\nHost: t\r\nX-Endless: " + b"a" * 16_384
# ~55 KB of complete small headers: under the 64 KiB default, however the reads split it.
HEAD_55_KB_OF_SMALL_HEADERS = (
    b"GET /hello HTTP/1.1\r\nHost: t\r\n"
    + b"".join(b"X-H-%04d: %s\r\n" % (i, b"v" * 34) for i in range(1200))
    + b"\r\n"
)
GET_LONG_URL_8_KB = b"GET /hello?q=" + b"u" * 8192 + b" HTTP/1.1\r\nHost: t\r\n\r\n"

POST_AT_BODY_LIMIT = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1024\r\n\r\n" + b"b" * BODY_LIMIT
POST_OVER_LIMIT_HEAD = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1025\r\n\r\n"
POST_OVER_LIMIT_EXPECT_HEAD = (
    b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n"
)
BIG_UPLOAD_SIZE = 8 * 1024 * 1024
POST_BIG_UPLOAD_HEAD = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % BIG_UPLOAD_SIZE
POST_CHUNKED_OVER_LIMIT = (
    b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    + (b"400\r\n" + b"y" * 1024 + b"\r\n") * 3
    + b"0\r\n\r\n"
)
POST_CHUNKED_SMALL_CHUNKS_OVER_LIMIT = (
    b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    + (b"64\r\n" + b"z" * 100 + b"\r\n") * 11  # 1100 bytes in 100-byte chunks
    + b"0\r\n\r\n"
)
POST_CHUNKED_AT_LIMIT = (
    b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    + (b"100\r\n" + b"w" * 256 + b"\r\n") * 4
    + b"0\r\n\r\n"
)

GET_SLOW_1_2 = b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"
SLOW_SECONDS = 1.2


def make_app() -> App:
    app = App()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"message": "hi"}

    @app.post("/echo")
    async def echo(req: Request) -> Response:
        return Response(await req.body(), media_type="application/octet-stream")

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(SLOW_SECONDS)
        return {"message": "slow"}

    return app


@pytest.fixture
def server(serve: Serve) -> RunningServer:
    return serve(make_app())


@pytest.fixture
def small_body_server(serve: Serve) -> RunningServer:
    return serve(make_app(), limit_request_body=BODY_LIMIT)


def assert_error_then_eof(sock: socket.socket, status: int) -> RawResponse:
    """Read one response (a reset fails the test), check it, then check the server closed cleanly."""
    buffer = bytearray()
    response = read_response(sock, buffer=buffer)
    assert response.status == status, f"expected {status}, got {response.status} {response.body!r}"
    assert response.header("connection") == "close"
    assert bytes(buffer) == b""
    assert recv_until_closed(sock, timeout=3) == b""
    return response


# Request head: 431 / 414


def test_headers_just_under_the_default_64_kib_limit_are_accepted(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(GET_HEADER_60_KB)
        response = read_response(sock)
    assert (response.status, response.body) == (200, HELLO_BODY)


def test_header_over_the_default_64_kib_limit_gets_431_which_the_client_reads(server: RunningServer) -> None:
    with server.connect(timeout=3) as sock:
        sock.sendall(GET_HEADER_70_KB)  # no reset while sending either
        assert_error_then_eof(sock, 431)
    with server.connect() as sock:
        sock.sendall(GET_HELLO)
        assert read_response(sock).status == 200


def test_many_small_headers_over_the_default_limit_get_431(server: RunningServer) -> None:
    assert len(GET_2000_SMALL_HEADERS) > DEFAULT_HEAD_LIMIT
    with server.connect(timeout=3) as sock:
        sock.sendall(GET_2000_SMALL_HEADERS)
        assert_error_then_eof(sock, 431)


def test_custom_limit_request_head_gives_431_past_it(serve: Serve) -> None:
    server = serve(make_app(), limit_request_head=SMALL_HEAD_LIMIT)
    with server.connect(timeout=3) as sock:
        sock.sendall(GET_HEADER_3_KB)
        assert read_response(sock).status == 200
    with server.connect(timeout=3) as sock:
        sock.sendall(GET_HEADER_5_KB)
        assert_error_then_eof(sock, 431)


def test_unterminated_header_over_the_limit_gets_431_without_waiting_for_its_end(serve: Serve) -> None:
    """A header line that never ends must be cut off once the head passes the limit, not buffered."""
    server = serve(make_app(), limit_request_head=SMALL_HEAD_LIMIT)
    with server.connect(timeout=3) as sock:
        sock.sendall(GET_UNTERMINATED_HEADER_16_KB)
        assert_error_then_eof(sock, 431)


def test_unterminated_header_sent_in_small_pieces_gets_431(serve: Serve) -> None:
    server = serve(make_app(), limit_request_head=SMALL_HEAD_LIMIT)
    with server.connect(timeout=3) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, len(GET_UNTERMINATED_HEADER_16_KB), 512):
            sock.sendall(GET_UNTERMINATED_HEADER_16_KB[i : i + 512])
            if select.select([sock], [], [], 0.002)[0]:
                break  # answered already
        assert_error_then_eof(sock, 431)


def test_unterminated_header_behind_a_pipelined_request_gets_200_then_431(serve: Serve) -> None:
    server = serve(make_app(), limit_request_head=SMALL_HEAD_LIMIT)
    with server.connect(timeout=3) as sock:
        sock.sendall(GET_HELLO + GET_UNTERMINATED_HEADER_16_KB)  # one send: usually one read
        buffer = bytearray()
        first = read_response(sock, buffer=buffer)
        assert (first.status, first.body) == (200, HELLO_BODY)
        second = read_response(sock, buffer=buffer)
        assert second.status == 431
        assert recv_until_closed(sock, timeout=3) == b""


def test_head_under_the_limit_split_across_reads_is_accepted(server: RunningServer) -> None:
    """Bytes of headers already complete must not be counted twice when the head spans several reads."""
    assert len(HEAD_55_KB_OF_SMALL_HEADERS) < DEFAULT_HEAD_LIMIT
    with server.connect(timeout=3) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        split = 48 * 1024
        sock.sendall(HEAD_55_KB_OF_SMALL_HEADERS[:split])
        time.sleep(0.1)  # the server reads the first part on its own
        sock.sendall(HEAD_55_KB_OF_SMALL_HEADERS[split:])
        response = read_response(sock)
    assert (response.status, response.body) == (200, HELLO_BODY)


def test_request_line_over_the_head_limit_gets_414(serve: Serve) -> None:
    server = serve(make_app(), limit_request_head=SMALL_HEAD_LIMIT)
    with server.connect(timeout=3) as sock:
        sock.sendall(GET_LONG_URL_8_KB)
        assert_error_then_eof(sock, 414)


# Request body: 413


def test_body_exactly_at_the_limit_is_accepted(small_body_server: RunningServer) -> None:
    with small_body_server.connect(timeout=3) as sock:
        sock.sendall(POST_AT_BODY_LIMIT)
        response = read_response(sock)
        assert (response.status, response.body) == (200, b"b" * BODY_LIMIT)
        sock.sendall(POST_CHUNKED_AT_LIMIT)
        response = read_response(sock)
        assert (response.status, len(response.body)) == (200, BODY_LIMIT)


def test_declared_body_over_the_limit_gets_413_before_the_body_is_sent(small_body_server: RunningServer) -> None:
    with small_body_server.connect(timeout=3) as sock:
        sock.sendall(POST_OVER_LIMIT_HEAD)  # headers only; the client waits for an answer
        assert_error_then_eof(sock, 413)


def test_expect_100_continue_with_a_body_over_the_limit_gets_413_and_no_100(
    small_body_server: RunningServer,
) -> None:
    with small_body_server.connect(timeout=3) as sock:
        sock.sendall(POST_OVER_LIMIT_EXPECT_HEAD)
        assert_error_then_eof(sock, 413)  # the first bytes are the 413 status line, not "100 Continue"


def test_413_is_read_by_a_client_that_sends_the_whole_oversized_body_first(
    small_body_server: RunningServer,
) -> None:
    with small_body_server.connect(timeout=5) as sock:
        sock.sendall(POST_BIG_UPLOAD_HEAD)
        block = b"z" * 65536
        for _ in range(BIG_UPLOAD_SIZE // len(block)):
            sock.sendall(block)  # the server must keep draining: no reset, no stall
        assert_error_then_eof(sock, 413)


def test_413_is_read_by_a_client_that_keeps_uploading_for_seconds(small_body_server: RunningServer) -> None:
    """A slow upload that goes on after the 413: the client reads the 413 when it finally looks."""
    with small_body_server.connect(timeout=5) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n")
        deadline = time.monotonic() + 3.0
        try:
            while time.monotonic() < deadline:
                sock.sendall(b"s" * 16384)
                time.sleep(0.02)
        except OSError:
            pass  # the server may stop listening eventually; what matters is the 413 below
        response = read_response(sock)
    assert response.status == 413


@pytest.mark.parametrize(
    "raw", [POST_CHUNKED_OVER_LIMIT, POST_CHUNKED_SMALL_CHUNKS_OVER_LIMIT], ids=["1-KiB-chunks", "100-byte-chunks"]
)
def test_chunked_body_over_the_limit_gets_413(small_body_server: RunningServer, raw: bytes) -> None:
    with small_body_server.connect(timeout=3) as sock:
        sock.sendall(raw)
        assert_error_then_eof(sock, 413)


# Timeouts


def test_idle_keep_alive_connection_is_closed_after_the_timeout(serve: Serve) -> None:
    server = serve(make_app(), timeout_keep_alive=0.5)
    with server.connect(timeout=3) as sock:
        sock.sendall(GET_HELLO)
        assert read_response(sock).status == 200
        started = time.monotonic()
        assert recv_until_closed(sock, timeout=3) == b""
        elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 2.0, f"closed after {elapsed:.2f}s"


def test_connection_that_never_sends_anything_is_closed(serve: Serve) -> None:
    server = serve(make_app(), timeout_keep_alive=0.5)
    with server.connect(timeout=3) as sock:
        started = time.monotonic()
        assert recv_until_closed(sock, timeout=3) == b""
        elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"closed after {elapsed:.2f}s"


def test_keep_alive_timeout_does_not_cut_a_busy_or_active_connection(serve: Serve) -> None:
    server = serve(make_app(), timeout_keep_alive=0.5)
    with server.connect(timeout=4) as sock:
        sock.sendall(GET_SLOW_1_2)  # the handler takes longer than the idle timeout
        assert read_response(sock).body == b'{"message":"slow"}'
        for _ in range(5):  # requests 0.3 s apart keep the connection alive past 0.5 s
            time.sleep(0.3)
            sock.sendall(GET_HELLO)
            assert read_response(sock).status == 200


def test_request_head_sent_one_byte_at_a_time_gets_408(serve: Serve) -> None:
    server = serve(make_app(), timeout_request_head=0.5)
    with server.connect(timeout=3) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        started = time.monotonic()
        sock.sendall(b"GET /hello HTTP/1.1\r\n")
        answered = False
        while time.monotonic() - started < 3.0:
            readable, _, _ = select.select([sock], [], [], 0.2)
            if readable:
                answered = True
                break
            sock.sendall(b"X")  # one more byte of a header name, every 0.2 s
        elapsed = time.monotonic() - started
        data = recv_until_closed(sock, timeout=3)
    assert answered, "the server neither answered nor closed a request head dribbled for 3 s"
    assert elapsed < 2.0, f"cut off after {elapsed:.2f}s"
    assert data == b"" or data.startswith(b"HTTP/1.1 408 "), data[:200]


def test_request_head_timeout_does_not_affect_a_prompt_client(serve: Serve) -> None:
    server = serve(make_app(), timeout_request_head=0.5)
    with server.connect(timeout=3) as sock:
        for _ in range(3):
            sock.sendall(GET_HELLO)
            assert read_response(sock).status == 200
            time.sleep(0.4)  # idle between requests is the keep-alive timeout's business, not this one



def test_connections_over_the_cap_get_503_and_retry_after(serve: Serve) -> None:
    server = serve(make_app(), limit_concurrency=2)
    first, second = server.connect(timeout=3), server.connect(timeout=3)
    try:
        for sock in (first, second):
            sock.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            assert read_response(sock).status == 200
        with server.connect(timeout=3) as third:
            data = recv_until_closed(third)
        assert data.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
        assert b"retry-after: 1\r\n" in data and b'{"detail":"Service Unavailable"}' in data
    finally:
        first.close()
        second.close()
    deadline = time.monotonic() + 3
    while server.call(lambda: len(server.server.state.connections)) and time.monotonic() < deadline:
        time.sleep(0.02)
    with server.connect(timeout=3) as again:  # a slot is free again
        again.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(again).status == 200


# Stalled bodies, slow handlers, unknown transfer codings


def test_a_body_that_stops_arriving_gets_408(serve: Serve) -> None:
    server = serve(make_app(), timeout_request_body=0.5)
    with server.connect(timeout=5) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        started = time.monotonic()
        response = assert_error_then_eof(sock, 408)
    assert 0.4 < time.monotonic() - started < 2.5
    assert response.body == b'{"detail":"Request Timeout"}'


def test_a_slowly_trickling_body_that_keeps_arriving_is_accepted(serve: Serve) -> None:
    server = serve(make_app(), timeout_request_body=0.6)
    with server.connect(timeout=5) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\n")
        for byte in b"abcdef":
            time.sleep(0.3)  # 1.8 s in all, but never 0.6 s without a byte
            sock.sendall(bytes([byte]))
        response = read_response(sock)
    assert response.status == 200 and response.body == b"abcdef"


def test_a_handler_past_the_time_limit_is_cancelled_and_gets_503(serve: Serve) -> None:
    cancelled: list[bool] = []
    ran: list[str] = []
    app = make_app()

    @app.get("/stuck")
    async def stuck(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add(ran.append, "task of a cancelled handler")
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return {"message": "never"}

    server = serve(app, timeout_handler=0.3)
    with server.connect(timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /stuck HTTP/1.1\r\nHost: t\r\n\r\n")
        response = read_response(sock)
        assert response.status == 503 and response.body == b'{"detail":"Service Unavailable"}'
        assert 0.25 < time.monotonic() - started < 2.0
        sock.sendall(GET_SLOW_1_2.replace(b"/slow", b"/hello"))  # the connection goes on
        assert read_response(sock).status == 200
    assert server.call(lambda: cancelled) == [True]
    assert ran == []


def test_fast_handlers_are_not_affected_by_the_handler_time_limit(serve: Serve) -> None:
    server = serve(make_app(), timeout_handler=2.0)
    with server.connect(timeout=5) as sock:
        sock.sendall(GET_SLOW_1_2)
        assert read_response(sock).status == 200  # 1.2 s, under the limit


@pytest.mark.parametrize("coding", [b"gzip, chunked", b"deflate,chunked"])
def test_a_transfer_coding_other_than_chunked_gets_501(server: RunningServer, coding: bytes) -> None:
    with server.connect(timeout=5) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: " + coding + b"\r\n\r\n0\r\n\r\n")
        assert_error_then_eof(sock, 501)


def test_a_route_may_have_its_own_body_limit(serve: Serve) -> None:
    app = make_app()

    @app.post("/avatar", max_body_size=100)
    async def avatar(req: Request) -> dict[str, int]:
        return {"size": len(await req.body())}

    @app.post("/upload/{name}", max_body_size=4096)
    async def upload(name: str, req: Request) -> dict[str, int]:
        return {"size": len(await req.body())}

    server = serve(app, limit_request_body=BODY_LIMIT)
    with server.connect(timeout=5) as sock:
        sock.sendall(b"POST /avatar HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" + b"a" * 100)
        assert read_response(sock).status == 200
        sock.sendall(b"POST /upload/x HTTP/1.1\r\nHost: t\r\nContent-Length: 3000\r\n\r\n" + b"a" * 3000)
        assert read_response(sock).body == b'{"size":3000}'  # over the server's 1 KiB, under the route's 4 KiB
        sock.sendall(b"POST /avatar HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n")
        assert_error_then_eof(sock, 413)
    with server.connect(timeout=5) as sock:  # a chunked body is cut off at the route's limit as it arrives
        sock.sendall(b"POST /avatar HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                     + b"64\r\n" + b"b" * 100 + b"\r\n" + b"1\r\nb\r\n0\r\n\r\n")
        assert_error_then_eof(sock, 413)
    with server.connect(timeout=5) as sock:  # other routes keep the server's limit
        sock.sendall(POST_OVER_LIMIT_HEAD)
        assert_error_then_eof(sock, 413)
    with pytest.raises(ValueError, match="max_body_size"):
        app.post("/bad", lambda: None, max_body_size=-1)
