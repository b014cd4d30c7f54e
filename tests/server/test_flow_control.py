"""Flow control over real sockets: a client that pipelines without reading must make the server stop
reading (bounded memory, bounded work), and must still get every response, in order, once it reads.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from collections.abc import Callable

from zigmund_fast import App, Response

from ..conftest import RunningServer, read_response

Serve = Callable[..., RunningServer]

TOTAL_REQUESTS = 20_000
BODY_SIZE = 16 * 1024
# 20,000 x 16 KiB = 320 MiB of responses. The client's receive buffer (fixed at 64 KiB), the server's
# send buffer (autotuned, 4 MiB by default on Linux), the transport's buffer and one 64 KiB flush
# can legitimately hold a few hundred of them (about 250 here); a server that answers every request
# it has parsed from one 256 KiB read (~7,000) before writing, or never stops, is far past this.
MAX_HANDLED_WHILE_STALLED = 1_500
MAX_RSS_GROWTH_WHILE_STALLED = 32 * 1024 * 1024
SEND_SLICE = 256 * 1024

GET_HELLO = b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
PIPELINED_BIG_GETS = b"".join(b"GET /big/%d HTTP/1.1\r\nHost: t\r\n\r\n" % i for i in range(TOTAL_REQUESTS))


class Counter:
    def __init__(self) -> None:
        self.handled = 0


def make_app(counter: Counter) -> App:
    app = App()
    filler = b"x" * (BODY_SIZE - 8)

    @app.get("/big/{i}")
    async def big(i: int) -> Response:
        counter.handled += 1
        return Response(b"%08d" % i + filler, media_type="application/octet-stream")

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"message": "hi"}

    return app


def rss_bytes() -> int:
    """Resident memory of this process (the server runs in a thread of it)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def connect_not_reading(server: RunningServer) -> socket.socket:
    """A client socket with a small, fixed receive buffer (set before connect, so no autotuning)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.settimeout(5)
    sock.connect((server.host, server.port))
    return sock


def send_until_stalled(sock: socket.socket, payload: bytes, stall: float = 0.5, limit: float = 5.0) -> int:
    """Send without ever reading until everything is sent or no byte is accepted for ``stall`` seconds."""
    sock.setblocking(False)
    sent = 0
    last_progress = started = time.monotonic()
    try:
        while sent < len(payload) and time.monotonic() - started < limit:
            try:
                n = sock.send(payload[sent : sent + SEND_SLICE])
            except BlockingIOError:
                n = 0
            if n:
                sent += n
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > stall:
                break
            else:
                select.select([], [sock], [], 0.05)
    finally:
        sock.setblocking(True)
    return sent


def wait_until_stable(read: Callable[[], int], quiet: float = 0.4, limit: float = 5.0) -> int:
    """Poll ``read`` until it has not changed for ``quiet`` seconds; return that value."""
    value = read()
    since = time.monotonic()
    deadline = since + limit
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now_value = read()
        if now_value != value:
            value, since = now_value, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return value
    raise AssertionError(f"the handled-request count never stopped growing (last {value})")


def test_client_that_pipelines_without_reading_makes_the_server_stop_then_gets_everything_in_order(
    serve: Serve,
) -> None:
    counter = Counter()
    server = serve(make_app(counter))
    rss_before = rss_bytes()
    sock = connect_not_reading(server)
    try:
        sent = send_until_stalled(sock, PIPELINED_BIG_GETS)
        stalled_at = wait_until_stable(lambda: server.call(lambda: counter.handled))
        rss_growth = rss_bytes() - rss_before

        assert 0 < stalled_at < MAX_HANDLED_WHILE_STALLED, (
            f"server handled {stalled_at} of {TOTAL_REQUESTS} requests for a client that reads nothing"
        )
        assert rss_growth < MAX_RSS_GROWTH_WHILE_STALLED, f"memory grew by {rss_growth / 2**20:.0f} MiB while stalled"
        assert server.call(lambda: len(server.server.state.connections)) == 1  # type: ignore[union-attr]

        # One stalled client does not stall the server: another connection is answered at once.
        with server.connect(timeout=3) as other:
            other.sendall(GET_HELLO)
            assert read_response(other).status == 200
        assert server.call(lambda: counter.handled) == stalled_at

        # Now read everything (and send what was left, concurrently): all responses, in order.
        sock.settimeout(20)
        errors: list[BaseException] = []

        def send_rest() -> None:
            try:
                sock.sendall(PIPELINED_BIG_GETS[sent:])
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        sender = threading.Thread(target=send_rest, daemon=True)
        sender.start()
        buffer = bytearray()
        for i in range(TOTAL_REQUESTS):
            response = read_response(sock, buffer=buffer)
            assert response.status == 200, (i, response.status)
            assert len(response.body) == BODY_SIZE, i
            assert response.body[:8] == b"%08d" % i, f"response {i} carried {response.body[:8]!r}"
        sender.join(5)
        assert not sender.is_alive()
        assert not errors, errors
        assert bytes(buffer) == b""
        assert server.call(lambda: counter.handled) == TOTAL_REQUESTS

        # The connection is still usable afterwards.
        sock.sendall(GET_HELLO)
        assert read_response(sock).body == b'{"message":"hi"}'
    finally:
        sock.close()
