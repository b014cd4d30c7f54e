"""HTTP/1.1 behaviour over real sockets: keep-alive, pipelining, bodies, HEAD, standard headers,
404/405, malformed input, request smuggling, handler errors and path decoding.

Every test speaks raw bytes to a real server (``serve`` from conftest) and reads the exact bytes
that come back. Limits and timeouts live in ``test_http_limits.py``, flow control in
``test_flow_control.py``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import select
import socket
import time
from collections.abc import Callable

import pytest

from zigmund_fast import App, Request, Response

from ..conftest import RawResponse, RunningServer, read_response, recv_until_closed

Serve = Callable[..., RunningServer]

# Requests on the wire

GET_HELLO = b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
GET_HELLO_10 = b"GET /hello HTTP/1.0\r\n\r\n"
GET_HELLO_10_KEEP_ALIVE = b"GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
GET_HELLO_CLOSE = b"GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
HEAD_HELLO = b"HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n"
GET_SLOW = b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"
GET_SYNC = b"GET /sync HTTP/1.1\r\nHost: t\r\n\r\n"

PIPELINED_TWO_GETS = GET_HELLO + b"GET /items/7 HTTP/1.1\r\nHost: t\r\n\r\n"
PIPELINED_SLOW_THEN_FAST = GET_SLOW + GET_HELLO
PIPELINED_SLOW_SYNC_FAST = GET_SLOW + GET_SYNC + GET_HELLO
PIPELINED_HUNDRED = b"".join(b"GET /items/%d HTTP/1.1\r\nHost: t\r\n\r\n" % i for i in range(100))
PIPELINED_TWO_POSTS = (
    b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\none"
    b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
)

POST_ECHO_CONTENT_LENGTH = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world"
POST_ECHO_CHUNKED = (
    b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n1\r\n \r\n5;ext=1\r\nworld\r\n0\r\n\r\n"
)
POST_ECHO_EXPECT_HEAD = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
EXPECT_BODY = b"abcde"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

GET_MISSING = b"GET /missing HTTP/1.1\r\nHost: t\r\n\r\n"
DELETE_HELLO = b"DELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n"
GET_ECHO = b"GET /echo HTTP/1.1\r\nHost: t\r\n\r\n"

MALFORMED_HEADER_LINE = b"GET /hello HTTP/1.1\r\nHost: t\r\nBad Header Without Colon\r\n\r\n"
VALID_THEN_GARBAGE = GET_HELLO + b"\x00\x01\x02 garbage \xff\r\n\r\n"
SLOW_THEN_GARBAGE = GET_SLOW + b"NOT HTTP AT ALL\x00\r\n\r\n"

# Ambiguous framing (request smuggling). Each carries a second request that must never be answered.
SMUGGLED_GET = b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
CL_AND_TE = (
    b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"0\r\n\r\n" + SMUGGLED_GET
)
TE_AND_CL = (
    b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
    b"0\r\n\r\n" + SMUGGLED_GET
)
TWO_DIFFERENT_CONTENT_LENGTHS = (
    b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\nhello" + SMUGGLED_GET
)
TE_IN_HTTP10 = b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + SMUGGLED_GET
NO_HOST_HTTP11 = b"GET /hello HTTP/1.1\r\n\r\n" + SMUGGLED_GET
TWO_HOSTS_HTTP11 = b"GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" + SMUGGLED_GET

GET_BOOM = b"GET /boom HTTP/1.1\r\nHost: t\r\n\r\n"
GET_BOOM_AFTER_AWAIT = b"GET /boom-later HTTP/1.1\r\nHost: t\r\n\r\n"
GET_BOOM_SYNC = b"GET /boom-sync HTTP/1.1\r\nHost: t\r\n\r\n"
GET_ITEM_NOT_AN_INT = b"GET /items/abc HTTP/1.1\r\nHost: t\r\n\r\n"

HELLO_BODY = b'{"message":"hi"}'
SLOW_SECONDS = 0.3


def make_app() -> App:
    app = App()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"message": "hi"}

    @app.post("/hello")
    async def post_hello() -> dict[str, str]:
        return {"message": "posted"}

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(SLOW_SECONDS)
        return {"message": "slow"}

    @app.get("/sync")
    def sync() -> dict[str, str]:
        time.sleep(0.05)
        return {"message": "sync"}

    @app.post("/echo")
    async def echo(req: Request) -> Response:
        return Response(await req.body(), media_type="application/octet-stream")

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    @app.get("/boom-later")
    async def boom_later() -> None:
        await asyncio.sleep(0.01)
        raise RuntimeError("kaboom after await")

    @app.get("/boom-sync")
    def boom_sync() -> None:
        raise RuntimeError("kaboom in a thread")

    return app


@pytest.fixture
def server(serve: Serve) -> RunningServer:
    return serve(make_app())


# Helpers


def assert_closed_by_server(sock: socket.socket, timeout: float = 3.0) -> None:
    """The server closed the connection cleanly: nothing more arrives, then EOF (no reset, no hang)."""
    rest = recv_until_closed(sock, timeout=timeout)
    assert rest == b"", f"expected EOF, got more bytes: {rest[:200]!r}"


def assert_still_open(sock: socket.socket, wait: float = 0.3) -> None:
    """Nothing arrives and the server does not close the connection within ``wait`` seconds."""
    readable, _, _ = select.select([sock], [], [], wait)
    if readable:
        data = sock.recv(65536)
        raise AssertionError(f"connection should be open and quiet; recv returned {data[:200]!r}")


def read_all(sock: socket.socket, count: int, buffer: bytearray | None = None) -> list[RawResponse]:
    buffer = bytearray() if buffer is None else buffer
    return [read_response(sock, buffer=buffer) for _ in range(count)]


def connections(server: RunningServer) -> int:
    return int(server.call(lambda: len(server.server.state.connections)))  # type: ignore[union-attr]


# Keep-alive


def test_keep_alive_serves_several_requests_on_one_http11_connection(server: RunningServer) -> None:
    with server.connect() as sock:
        local = sock.getsockname()
        for _ in range(5):
            sock.sendall(GET_HELLO)
            response = read_response(sock)
            assert response.status == 200
            assert response.body == HELLO_BODY
            assert response.header("connection") is None  # keep-alive is HTTP/1.1's default
        assert sock.getsockname() == local
        assert connections(server) == 1
        assert_still_open(sock)
        sock.sendall(GET_HELLO)
        assert read_response(sock).status == 200


def test_http10_request_closes_the_connection_by_default(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(GET_HELLO_10 + GET_HELLO_10)  # the second must not be answered
        buffer = bytearray()
        response = read_response(sock, buffer=buffer)
        assert response.status == 200
        assert response.body == HELLO_BODY
        assert response.header("connection") == "close"
        assert bytes(buffer) == b""
        assert_closed_by_server(sock)


def test_http10_with_keep_alive_stays_open_and_says_keep_alive(server: RunningServer) -> None:
    with server.connect() as sock:
        for _ in range(3):
            sock.sendall(GET_HELLO_10_KEEP_ALIVE)
            response = read_response(sock)
            assert response.status == 200
            assert response.body == HELLO_BODY
            assert response.header("connection") == "keep-alive"
        assert_still_open(sock)


def test_connection_close_from_the_client_is_honoured(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(GET_HELLO_CLOSE + GET_HELLO)  # the request after "close" must not be answered
        buffer = bytearray()
        response = read_response(sock, buffer=buffer)
        assert response.status == 200
        assert response.header("connection") == "close"
        assert bytes(buffer) == b""
        assert_closed_by_server(sock)


# Pipelining


def test_two_pipelined_gets_in_one_send_are_both_answered_in_order(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(PIPELINED_TWO_GETS)
        first, second = read_all(sock, 2)
    assert (first.status, first.body) == (200, HELLO_BODY)
    assert (second.status, second.body) == (200, b'{"item_id":7}')


def test_pipelined_slow_handler_is_answered_before_the_fast_one_behind_it(server: RunningServer) -> None:
    with server.connect() as sock:
        started = time.monotonic()
        sock.sendall(PIPELINED_SLOW_THEN_FAST)
        buffer = bytearray()
        first = read_response(sock, buffer=buffer)
        assert time.monotonic() - started >= SLOW_SECONDS * 0.9
        second = read_response(sock, buffer=buffer)
        assert bytes(buffer) == b""
        assert_still_open(sock, 0.1)
    assert first.body == b'{"message":"slow"}'
    assert second.body == HELLO_BODY


def test_pipelined_async_sync_and_fast_handlers_answer_in_request_order(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(PIPELINED_SLOW_SYNC_FAST)
        bodies = [r.body for r in read_all(sock, 3)]
    assert bodies == [b'{"message":"slow"}', b'{"message":"sync"}', HELLO_BODY]


def test_a_hundred_pipelined_gets_in_one_send_are_answered_in_order(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(PIPELINED_HUNDRED)
        buffer = bytearray()
        responses = read_all(sock, 100, buffer)
        assert bytes(buffer) == b""
        assert_still_open(sock, 0.1)
    assert [r.status for r in responses] == [200] * 100
    assert [r.body for r in responses] == [b'{"item_id":%d}' % i for i in range(100)]


def test_pipelined_posts_with_bodies_are_echoed_in_order(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(PIPELINED_TWO_POSTS)
        first, second = read_all(sock, 2)
    assert (first.body, second.body) == (b"one", b"two")


def test_half_close_after_pipelining_still_answers_every_request(server: RunningServer) -> None:
    """The client sends slow+sync+fast and then shuts down its write side: all three must be answered."""
    with server.connect() as sock:
        sock.sendall(PIPELINED_SLOW_SYNC_FAST)
        sock.shutdown(socket.SHUT_WR)
        data = recv_until_closed(sock, timeout=5)
    assert data.count(b"HTTP/1.1 200 OK\r\n") == 3, f"got {data!r}"
    assert data.index(b'{"message":"slow"}') < data.index(b'{"message":"sync"}') < data.index(HELLO_BODY)


# Request bodies


def test_content_length_body_is_echoed(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(POST_ECHO_CONTENT_LENGTH)
        response = read_response(sock)
    assert response.status == 200
    assert response.body == b"hello world"
    assert response.header("content-type") == "application/octet-stream"


def test_chunked_body_is_reassembled_and_echoed(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(POST_ECHO_CHUNKED)
        response = read_response(sock)
        assert response.status == 200
        assert response.body == b"hello world"
        sock.sendall(GET_HELLO)  # the chunked framing ended exactly where it should
        assert read_response(sock).body == HELLO_BODY


def test_one_mebibyte_body_is_echoed_byte_for_byte(server: RunningServer) -> None:
    body = bytes(range(256)) * 4096
    with server.connect() as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        response = read_response(sock)
    assert response.status == 200
    assert response.body == body


@pytest.mark.parametrize("raw", [POST_ECHO_CONTENT_LENGTH, POST_ECHO_CHUNKED], ids=["content-length", "chunked"])
def test_request_split_across_many_small_sends_is_reassembled(server: RunningServer, raw: bytes) -> None:
    with server.connect() as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, len(raw), 3):
            sock.sendall(raw[i : i + 3])
            time.sleep(0.001)
        response = read_response(sock)
        assert response.status == 200
        assert response.body == b"hello world"
        sock.sendall(GET_HELLO)
        assert read_response(sock).body == HELLO_BODY


def test_expect_100_continue_gets_100_before_the_body_then_the_final_response(server: RunningServer) -> None:
    with server.connect(timeout=3) as sock:
        sock.sendall(POST_ECHO_EXPECT_HEAD)
        interim = b""
        while len(interim) < len(CONTINUE):
            chunk = sock.recv(len(CONTINUE) - len(interim))
            assert chunk, f"connection closed; got {interim!r}"
            interim += chunk
        assert interim == CONTINUE
        assert_still_open(sock, 0.1)  # nothing else until the body is sent
        sock.sendall(EXPECT_BODY)
        response = read_response(sock)
        assert response.status == 200
        assert response.body == EXPECT_BODY
        sock.sendall(GET_HELLO)
        assert read_response(sock).body == HELLO_BODY


def test_expect_100_continue_behind_a_pipelined_request_comes_after_its_response(server: RunningServer) -> None:
    with server.connect(timeout=3) as sock:
        sock.sendall(GET_SLOW + POST_ECHO_EXPECT_HEAD)
        buffer = bytearray()
        first = read_response(sock, buffer=buffer)
        assert first.body == b'{"message":"slow"}'
        while len(buffer) < len(CONTINUE):
            chunk = sock.recv(65536)
            assert chunk, f"connection closed; got {bytes(buffer)!r}"
            buffer += chunk
        assert bytes(buffer) == CONTINUE
        sock.sendall(EXPECT_BODY)
        assert read_response(sock).body == EXPECT_BODY


# HEAD


def test_head_on_a_get_route_has_the_get_headers_and_no_body(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(HEAD_HELLO + GET_HELLO + HEAD_HELLO)
        buffer = bytearray()
        head = read_response(sock, head=True, buffer=buffer)
        get = read_response(sock, buffer=buffer)
        head_again = read_response(sock, head=True, buffer=buffer)
        assert bytes(buffer) == b""
        assert_still_open(sock, 0.2)  # no stray body bytes follow the last HEAD response
    assert head.status == 200 and head.body == b""
    assert get.status == 200 and get.body == HELLO_BODY
    assert head.header("content-length") == str(len(HELLO_BODY)) == get.header("content-length")
    assert head.header("content-type") == get.header("content-type") == "application/json"
    assert [name for name, _ in head.headers] == [name for name, _ in get.headers]
    assert head_again.header("content-length") == str(len(HELLO_BODY))


# Standard headers


def test_every_response_has_date_server_and_content_length(server: RunningServer) -> None:
    requests = [
        GET_HELLO, HEAD_HELLO, GET_MISSING, DELETE_HELLO, GET_ITEM_NOT_AN_INT, GET_BOOM,
        GET_SLOW, GET_SYNC, POST_ECHO_CONTENT_LENGTH,
    ]
    seen: list[RawResponse] = []
    with server.connect() as sock:
        for raw in requests:
            sock.sendall(raw)
            seen.append(read_response(sock, head=raw is HEAD_HELLO))
    with server.connect() as sock:  # the protocol's own error responses too
        sock.sendall(MALFORMED_HEADER_LINE)
        seen.append(read_response(sock))
    assert [r.status for r in seen] == [200, 200, 404, 405, 422, 500, 200, 200, 200, 400]
    now = time.time()
    for response in seen:
        date = response.header("date")
        assert date is not None and date.endswith(" GMT"), response
        assert abs(email.utils.parsedate_to_datetime(date).timestamp() - now) < 10
        assert response.header("server") == "zigmund_fast"
        length = response.header("content-length")
        assert length is not None, response
        if response is not seen[1]:  # HEAD: the length of the body that a GET would get
            assert int(length) == len(response.body)


# 404 / 405


def test_unknown_path_gets_404(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(GET_MISSING)
        response = read_response(sock)
        assert response.status == 404
        assert json.loads(response.body) == {"detail": "Not Found"}
        sock.sendall(GET_HELLO)  # a 404 does not end the connection
        assert read_response(sock).status == 200


def test_wrong_method_gets_405_with_allow_listing_every_method_of_the_path(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(DELETE_HELLO + GET_ECHO)
        hello, echo = read_all(sock, 2)
    assert hello.status == 405
    assert json.loads(hello.body) == {"detail": "Method Not Allowed"}
    assert hello.header("allow") == "GET, HEAD, POST"
    assert echo.status == 405
    assert echo.header("allow") == "POST"


# Malformed requests


def test_malformed_request_gets_400_and_close_and_the_server_answers_a_new_connection(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(MALFORMED_HEADER_LINE)
        response = read_response(sock)
        assert response.status == 400
        assert response.header("connection") == "close"
        assert "detail" in json.loads(response.body)
        assert_closed_by_server(sock)
    with server.connect() as sock:
        sock.sendall(GET_HELLO)
        assert read_response(sock).body == HELLO_BODY


def test_valid_request_then_garbage_in_one_send_gets_200_then_400_then_close(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(VALID_THEN_GARBAGE)
        buffer = bytearray()
        first = read_response(sock, buffer=buffer)
        second = read_response(sock, buffer=buffer)
        assert bytes(buffer) == b""
        assert_closed_by_server(sock)
    assert (first.status, first.body) == (200, HELLO_BODY)
    assert first.header("connection") is None
    assert second.status == 400
    assert second.header("connection") == "close"


def test_slow_request_then_garbage_gets_the_slow_200_before_the_400(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(SLOW_THEN_GARBAGE)
        first, second = read_all(sock, 2)
        assert_closed_by_server(sock)
    assert (first.status, first.body) == (200, b'{"message":"slow"}')
    assert second.status == 400


# Request smuggling


@pytest.mark.parametrize(
    "raw",
    [CL_AND_TE, TE_AND_CL, TWO_DIFFERENT_CONTENT_LENGTHS, TE_IN_HTTP10, NO_HOST_HTTP11],
    ids=["content-length-and-transfer-encoding", "transfer-encoding-and-content-length",
         "two-different-content-lengths", "transfer-encoding-in-http10", "missing-host-in-http11"],
)
def test_ambiguous_framing_gets_400_and_nothing_behind_it_is_answered(server: RunningServer, raw: bytes) -> None:
    with server.connect() as sock:
        sock.sendall(raw)
        response = read_response(sock)
        rest = recv_until_closed(sock, timeout=3)
    assert response.status == 400
    assert response.header("connection") == "close"
    assert rest == b"", f"the smuggled request was answered: {rest!r}"


@pytest.mark.parametrize("raw", [
    b"GET /hello HTTP/1.1\nHost: t\n\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /hello HTTP/1.1\r\nHost: t\nX-A: 1\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /hello HTTP/1.1\r\nHost: t\r\nX-A: a\r\n folded\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /hello HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /hello HTTP/1.1\r\nHost: t\r\nX-A\x00: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n",
], ids=["bare-lf", "bare-lf-in-a-header", "obs-fold", "space-in-a-header-name", "nul-in-a-header-name",
        "negative-content-length", "non-numeric-content-length"])
def test_lenient_framing_is_refused_and_nothing_behind_it_is_answered(server: RunningServer, raw: bytes) -> None:
    """Bytes another parser might read differently (a proxy in front of us, say) get 400, never a guess."""
    with server.connect() as sock:
        sock.sendall(raw)
        response = read_response(sock)
        rest = recv_until_closed(sock, timeout=3)
    assert response.status == 400 and response.header("connection") == "close"
    assert rest == b"", f"a request behind the bad one was answered: {rest!r}"


def test_two_host_headers_in_http11_get_400(server: RunningServer) -> None:
    """RFC 9112 section 3.2: more than one Host field line must be rejected with 400."""
    with server.connect() as sock:
        sock.sendall(TWO_HOSTS_HTTP11)
        response = read_response(sock)
        assert response.status == 400, f"got {response.status} {response.body!r}"
        rest = recv_until_closed(sock, timeout=3)
    assert rest == b""


# Errors in the app


@pytest.mark.parametrize("raw", [GET_BOOM, GET_BOOM_AFTER_AWAIT, GET_BOOM_SYNC], ids=["async", "after-await", "sync"])
def test_handler_exception_gives_500_and_the_connection_keeps_working(server: RunningServer, raw: bytes) -> None:
    with server.connect() as sock:
        sock.sendall(raw)
        response = read_response(sock)
        assert response.status == 500
        assert json.loads(response.body) == {"detail": "Internal Server Error"}
        assert response.header("content-type") == "application/json"
        assert response.header("connection") is None
        sock.sendall(GET_HELLO)
        assert read_response(sock).body == HELLO_BODY


def test_bad_int_path_parameter_gets_a_fastapi_shaped_422(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(GET_ITEM_NOT_AN_INT)
        response = read_response(sock)
        sock.sendall(GET_HELLO)
        assert read_response(sock).status == 200
    assert response.status == 422
    assert response.header("content-type") == "application/json"
    payload = json.loads(response.body)
    assert list(payload) == ["detail"]
    (error,) = payload["detail"]
    assert set(error) == {"type", "loc", "msg", "input"}
    assert error["type"] == "int_parsing"
    assert error["loc"] == ["path", "item_id"]
    assert isinstance(error["msg"], str) and error["msg"]
    assert error["input"] == "abc"


# Paths


@pytest.mark.parametrize(
    ("raw_path", "name"),
    [(b"/items/a%20b", "a b"), (b"/items/caf%C3%A9", "caf\u00e9"), (b"/items/100%25", "100%")],
    ids=["space", "utf8", "percent"],
)
def test_percent_encoded_path_is_decoded_before_matching(serve: Serve, raw_path: bytes, name: str) -> None:
    app = App()

    @app.get("/items/{name}")
    async def item(name: str) -> dict[str, str]:
        return {"name": name}

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % raw_path)
        response = read_response(sock)
    assert response.status == 200
    assert json.loads(response.body) == {"name": name}


def test_query_string_is_not_part_of_the_path(server: RunningServer) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /items/5?x=1&y=%20 HTTP/1.1\r\nHost: t\r\n\r\nGET /hello? HTTP/1.1\r\nHost: t\r\n\r\n")
        item, hello = read_all(sock, 2)
    assert (item.status, item.body) == (200, b'{"item_id":5}')
    assert (hello.status, hello.body) == (200, HELLO_BODY)


def test_each_request_gets_its_own_http_version_however_the_bytes_arrive(serve: Serve) -> None:
    """The version is read from the request line when the line starts the bytes just received, else
    asked of the parser: pipelined 1.1/1.0/1.1 in one write, a line split mid-version, and a
    method and target that are not the common ones all report what the client sent."""
    app = App()

    @app.api_route("/v/{rest:path}", methods=["GET", "OPTIONS", "DELETE"])
    def version(request: Request) -> dict[str, str]:
        return {"version": request.http_version, "method": request.method}

    server = serve(app)
    one_keep_alive_10 = b"GET /v/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    with server.connect() as sock:
        sock.sendall(b"GET /v/a?x=1 HTTP/1.1\r\nHost: t\r\n\r\n" + one_keep_alive_10
                     + b"DELETE /v/b HTTP/1.1\r\nHost: t\r\n\r\n")
        buffer = bytearray()
        answers = [json.loads(read_response(sock, buffer=buffer).body) for _ in range(3)]
        assert answers == [{"version": "1.1", "method": "GET"}, {"version": "1.0", "method": "GET"},
                           {"version": "1.1", "method": "DELETE"}]
        for cut in (len(b"GET /v/c HTTP/1."), len(b"GET /v/c HTTP/1.0"), len(b"GET /v/c HTTP/1.0\r")):
            sock.sendall(one_keep_alive_10.replace(b"/v/a", b"/v/c")[:cut])
            time.sleep(0.05)
            sock.sendall(one_keep_alive_10.replace(b"/v/a", b"/v/c")[cut:])
            assert json.loads(read_response(sock).body) == {"version": "1.0", "method": "GET"}
        sock.sendall(b"OPTIONS /v/%7Eweird%20path HTTP/1.1\r\nHost: t\r\n\r\n")
        assert json.loads(read_response(sock).body) == {"version": "1.1", "method": "OPTIONS"}
    with server.connect() as sock:
        sock.sendall(b"GET /v/d HTTP/1.0\r\n\r\n")
        assert json.loads(recv_until_closed(sock).split(b"\r\n\r\n", 1)[1]) == {"version": "1.0", "method": "GET"}
