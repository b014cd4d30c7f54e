"""HTTP/1.1 over real sockets: keep-alive, pipelining, bodies, HEAD, headers, errors, smuggling, limits, timeouts."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest

from zigmund_fast import App, Request

from ..conftest import read_response, recv_until_closed

GET_HELLO = b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
GET_HELLO_10 = b"GET /hello HTTP/1.0\r\n\r\n"
GET_HELLO_10_KEEP = b"GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
GET_HELLO_CLOSE = b"GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
PIPELINED_SLOW_THEN_FAST = b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
ECHO_CONTENT_LENGTH = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world"
ECHO_CHUNKED = (
    b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
)
MALFORMED = b"GET /hello HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n"
VALID_THEN_GARBAGE = GET_HELLO + b"\x00\x01garbage\r\n\r\n"
CL_AND_TE = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
TWO_CONTENT_LENGTHS = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
TE_IN_HTTP10 = b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
NO_HOST_11 = b"GET /hello HTTP/1.1\r\n\r\n"


def make_app() -> App:
    app = App()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"message": "hi"}

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(0.3)
        return {"message": "slow"}

    @app.post("/echo")
    async def echo(req: Request) -> Any:
        from zigmund_fast import Response

        return Response(await req.body(), media_type="application/octet-stream")

    @app.post("/hello")
    async def post_hello() -> dict[str, str]:
        return {"message": "posted"}

    @app.get("/n/{n}")
    async def numbered(n: int) -> dict[str, int]:
        return {"n": n}

    @app.get("/names/{name}")
    async def names(name: str) -> dict[str, str]:
        return {"name": name}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    @app.get("/big")
    async def big() -> Any:
        from zigmund_fast import Response

        return Response(b"x" * 16384, media_type="text/plain")

    return app


@pytest.fixture
def server(serve: Any) -> Any:
    return serve(make_app())


def test_keep_alive_serves_several_requests_on_one_connection(server: Any) -> None:
    with server.connect() as sock:
        for _ in range(5):
            sock.sendall(GET_HELLO)
            response = read_response(sock)
            assert response.status == 200
            assert response.body == b'{"message":"hi"}'
            assert response.header("connection") is None


def test_http10_closes_by_default(server: Any) -> None:
    with server.connect() as sock:
        sock.sendall(GET_HELLO_10)
        data = recv_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"connection: close\r\n" in data


def test_http10_keep_alive_when_asked(server: Any) -> None:
    with server.connect() as sock:
        for _ in range(2):
            sock.sendall(GET_HELLO_10_KEEP)
            response = read_response(sock)
            assert response.status == 200
            assert response.header("connection") == "keep-alive"


def test_connection_close_is_honoured(server: Any) -> None:
    with server.connect() as sock:
        sock.sendall(GET_HELLO_CLOSE + GET_HELLO)
        data = recv_until_closed(sock)
    assert data.count(b"HTTP/1.1 200 OK") == 1
    assert b"connection: close\r\n" in data


def test_pipelined_responses_come_back_in_request_order(server: Any) -> None:
    with server.connect() as sock:
        sock.sendall(PIPELINED_SLOW_THEN_FAST)
        buffer = bytearray()
        first = read_response(sock, buffer=buffer)
        second = read_response(sock, buffer=buffer)
    assert first.body == b'{"message":"slow"}'
    assert second.body == b'{"message":"hi"}'


def test_a_hundred_pipelined_requests_in_one_send(server: Any) -> None:
    requests = b"".join(b"GET /n/%d HTTP/1.1\r\nHost: t\r\n\r\n" % i for i in range(100))
    with server.connect() as sock:
        sock.sendall(requests)
        buffer = bytearray()
        bodies = [read_response(sock, buffer=buffer).body for _ in range(100)]
    assert bodies == [b'{"n":%d}' % i for i in range(100)]


@pytest.mark.parametrize("raw", [ECHO_CONTENT_LENGTH, ECHO_CHUNKED], ids=["content-length", "chunked"])
def test_request_bodies_are_read(server: Any, raw: bytes) -> None:
    with server.connect() as sock:
        sock.sendall(raw)
        response = read_response(sock)
    assert response.status == 200
    assert response.body == b"hello world"


def test_body_split_across_many_sends(server: Any) -> None:
    with server.connect() as sock:
        for i in range(len(ECHO_CONTENT_LENGTH)):
            sock.sendall(ECHO_CONTENT_LENGTH[i : i + 1])
        response = read_response(sock)
    assert response.body == b"hello world"


def test_expect_100_continue(server: Any) -> None:
    with server.connect() as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        interim = sock.recv(1024)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"abcde")
        response = read_response(sock)
    assert response.status == 200 and response.body == b"abcde"


def test_head_has_the_get_headers_and_no_body(server: Any) -> None:
    with server.connect() as sock:
        sock.sendall(b"HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n" + GET_HELLO)
        buffer = bytearray()
        head = read_response(sock, head=True, buffer=buffer)
        get = read_response(sock, buffer=buffer)
    assert head.status == 200
    assert head.header("content-length") == str(len(b'{"message":"hi"}'))
    assert head.header("content-type") == "application/json"
    assert get.body == b'{"message":"hi"}'


def test_every_response_has_date_server_and_content_length(server: Any) -> None:
    with server.connect() as sock:
        for path in (b"/hello", b"/nope", b"/boom"):
            sock.sendall(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path)
            response = read_response(sock)
            assert response.header("date", ) and response.header("date").endswith("GMT")  # type: ignore[union-attr]
            assert response.header("server") == "zigmund_fast"
            assert response.header("content-length") == str(len(response.body))


def test_not_found_and_method_not_allowed_with_allow(server: Any) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /missing HTTP/1.1\r\nHost: t\r\n\r\nDELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        buffer = bytearray()
        missing = read_response(sock, buffer=buffer)
        wrong = read_response(sock, buffer=buffer)
    assert missing.status == 404
    assert wrong.status == 405
    assert wrong.header("allow") == "GET, HEAD, POST"


def test_malformed_request_gets_400_and_close_and_the_server_lives_on(server: Any) -> None:
    with server.connect() as sock:
        sock.sendall(MALFORMED)
        data = recv_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"connection: close" in data
    with server.connect() as sock:
        sock.sendall(GET_HELLO)
        assert read_response(sock).status == 200


def test_requests_before_a_parse_error_are_answered_first(server: Any) -> None:
    with server.connect() as sock:
        sock.sendall(VALID_THEN_GARBAGE)
        data = recv_until_closed(sock)
    first = data.index(b"HTTP/1.1 200 OK")
    second = data.index(b"HTTP/1.1 400 Bad Request")
    assert first < second


@pytest.mark.parametrize(
    "raw", [CL_AND_TE, TWO_CONTENT_LENGTHS, TE_IN_HTTP10, NO_HOST_11],
    ids=["content-length+transfer-encoding", "two-content-lengths", "te-in-http10", "no-host"],
)
def test_ambiguous_framing_is_rejected(server: Any, raw: bytes) -> None:
    with server.connect() as sock:
        sock.sendall(raw)
        data = recv_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert data.count(b"HTTP/1.1") == 1


def test_oversized_headers_get_431_which_the_client_receives(serve: Any) -> None:
    server = serve(make_app(), limit_request_head=4096)
    with server.connect() as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n")
        data = recv_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 431 ")


def test_default_header_limit_is_64_kib(server: Any) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\nX-Ok: " + b"a" * 60000 + b"\r\n\r\n")
        assert read_response(sock).status == 200
    with server.connect() as sock:
        try:
            sock.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = recv_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 431 ")


def test_declared_oversized_body_gets_413_before_the_body_is_sent(serve: Any) -> None:
    server = serve(make_app(), limit_request_body=1024)
    with server.connect() as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n")
        data = recv_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 413 ")


def test_413_is_received_even_while_the_client_keeps_sending(serve: Any) -> None:
    server = serve(make_app(), limit_request_body=1024)
    with server.connect() as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n")
        sent = 0
        try:
            for _ in range(20):
                sock.sendall(b"z" * 50000)
                sent += 50000
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(5)
        data = sock.recv(65536)
    assert data.startswith(b"HTTP/1.1 413 ")


def test_chunked_body_over_the_limit_gets_413(serve: Any) -> None:
    server = serve(make_app(), limit_request_body=1024)
    chunk = b"400\r\n" + b"y" * 1024 + b"\r\n"
    with server.connect() as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 3)
        data = recv_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 413 ")


def test_slow_reader_makes_the_server_stop_reading(serve: Any) -> None:
    """A client that pipelines without reading must not make the server buffer without bound."""
    app = make_app()
    handled = [0]

    @app.get("/counted")
    async def counted() -> Any:
        from zigmund_fast import Response

        handled[0] += 1
        return Response(b"c" * 16384, media_type="text/plain")

    server = serve(app)
    total = 3000
    request = b"GET /counted HTTP/1.1\r\nHost: t\r\n\r\n"
    sock = server.connect()
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.setblocking(False)
        payload = request * total
        sent = 0
        deadline = time.monotonic() + 3
        while sent < len(payload) and time.monotonic() < deadline:
            try:
                sent += sock.send(payload[sent : sent + 65536])
            except BlockingIOError:
                time.sleep(0.01)
        time.sleep(0.5)
        stalled = server.call(lambda: handled[0])
        # 3000 x 16 KiB = 48 MiB of responses; with nobody reading, only a few MiB may be in flight.
        assert stalled < total / 4, f"server handled {stalled} requests for a client that reads nothing"
        sock.setblocking(True)
        sock.settimeout(10)
        sock.sendall(payload[sent:])
        buffer = bytearray()
        for _ in range(total):
            response = read_response(sock, buffer=buffer)
            assert response.status == 200 and len(response.body) == 16384
    finally:
        sock.close()
    assert server.call(lambda: handled[0]) == total


def test_idle_keep_alive_connections_are_closed(serve: Any) -> None:
    server = serve(make_app(), timeout_keep_alive=0.5)
    with server.connect() as sock:
        sock.sendall(GET_HELLO)
        assert read_response(sock).status == 200
        started = time.monotonic()
        assert recv_until_closed(sock, timeout=5) == b""
        assert time.monotonic() - started < 2.5
    with server.connect() as silent:
        started = time.monotonic()
        assert recv_until_closed(silent, timeout=5) == b""
        assert time.monotonic() - started < 2.5


def test_slow_request_head_gets_408(serve: Any) -> None:
    server = serve(make_app(), timeout_request_head=0.5)
    with server.connect() as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\n")
        started = time.monotonic()
        data = b""
        try:
            for _ in range(20):
                sock.sendall(b"X")
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = recv_until_closed(sock, timeout=5)
    assert data.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < 4


def test_handler_errors_give_500_and_the_connection_keeps_working(server: Any) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /boom HTTP/1.1\r\nHost: t\r\n\r\n")
        response = read_response(sock)
        assert response.status == 500
        assert response.body == b'{"detail":"Internal Server Error"}'
        sock.sendall(GET_HELLO)
        assert read_response(sock).status == 200


def test_422_for_a_bad_path_parameter(server: Any) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /n/abc HTTP/1.1\r\nHost: t\r\n\r\n")
        response = read_response(sock)
    import json

    assert response.status == 422
    (error,) = json.loads(response.body)["detail"]
    assert error["loc"] == ["path", "n"] and error["type"] == "int_parsing" and error["input"] == "abc"


def test_percent_encoded_path(server: Any) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /names/a%20b HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(sock).body == b'{"name":"a b"}'
