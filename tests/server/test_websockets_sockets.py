"""WebSockets over real sockets: the ``websockets`` client library as the interoperability peer, raw bytes
for the handshake's edge cases, flow control both ways, pings, limits, and shutdown."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.protocol import Protocol, Side
from websockets.sync.client import ClientConnection, connect

from zigmund_fast import App, BackgroundTasks, WebSocket, WebSocketDisconnect

from ..conftest import RunningServer, read_response, recv_until_closed
from .test_shutdown import ServerProcess

Serve = Callable[..., RunningServer]
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def upgrade_head(path: str, **headers: str | None) -> bytes:
    fields = {"Host": "t", "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": KEY,
              "Sec-WebSocket-Version": "13"}
    fields.update(headers)
    lines = [f"GET {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in fields.items() if v is not None]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def open_client(server: RunningServer, path: str, **options: Any) -> ClientConnection:
    options.setdefault("ping_interval", None)
    return connect(f"ws://{server.host}:{server.port}{path}", proxy=None, open_timeout=5, close_timeout=5,
                   **options)


def close_code(exc: ConnectionClosed) -> int | None:
    return exc.rcvd.code if exc.rcvd is not None else None


def client_frames(*texts: str) -> bytes:
    """Masked text frames, as a client sends them."""
    client = Protocol(Side.CLIENT)
    for text in texts:
        client.send_text(text.encode())
    return b"".join(client.data_to_send())


def read_head(sock: socket.socket, data: bytearray) -> bytes:
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response head: {bytes(data)!r}")
        data += chunk
    end = data.index(b"\r\n\r\n") + 4
    head = bytes(data[:end])
    del data[:end]
    return head


def read_frame(sock: socket.socket, data: bytearray) -> tuple[int, bytes]:
    """One unmasked (server) frame: (opcode, payload)."""
    def need(count: int) -> None:
        while len(data) < count:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed in the middle of a frame")
            data.extend(chunk)

    need(2)
    opcode, length = data[0] & 0x0F, data[1] & 0x7F
    offset = 2
    if length == 126:
        need(4)
        length, offset = struct.unpack("!H", data[2:4])[0], 4
    elif length == 127:
        need(10)
        length, offset = struct.unpack("!Q", data[2:10])[0], 10
    need(offset + length)
    payload = bytes(data[offset:offset + length])
    del data[:offset + length]
    return opcode, payload


def websocket_app(log: list[Any] | None = None) -> App:
    app = App()
    log = log if log is not None else []

    @app.get("/plain")
    async def plain() -> dict[str, bool]:
        return {"plain": True}

    @app.get("/slow")
    async def slow() -> dict[str, bool]:
        await asyncio.sleep(0.5)
        return {"slow": True}

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    log.append(("disconnect", message["code"]))
                    return
                if "text" in message:
                    await websocket.send_text(message["text"])
                else:
                    await websocket.send_bytes(message["bytes"])
        except WebSocketDisconnect as exc:  # a send after the peer left
            log.append(("disconnect", exc.code))

    @app.websocket("/json/{room}")
    async def json_room(websocket: WebSocket, room: str, times: int = 1) -> None:
        await websocket.accept()
        async for value in websocket.iter_json():
            await websocket.send_json({"room": room, "value": value, "times": times})

    @app.websocket("/refuse")
    async def refuse(websocket: WebSocket) -> None:
        await websocket.close()

    @app.websocket("/crash")
    async def crash(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        raise RuntimeError("handler crashed after accept")

    return app


def test_interoperates_with_the_websockets_client(serve: Serve) -> None:
    server = serve(websocket_app())
    with open_client(server, "/echo") as ws:
        ws.send("hello")
        assert ws.recv(timeout=5) == "hello"
        ws.send(b"\x00\x01binary")
        assert ws.recv(timeout=5) == b"\x00\x01binary"
        big = "x" * (1024 * 1024 - 10)
        ws.send(big)
        assert ws.recv(timeout=5) == big
        ws.send(iter(["frag", "mented ", "text"]))  # one message in several frames
        assert ws.recv(timeout=5) == "fragmented text"
    with open_client(server, "/json/lobby?times=3") as ws:
        ws.send(json.dumps({"n": [1, 2]}))
        assert json.loads(ws.recv(timeout=5)) == {"room": "lobby", "value": {"n": [1, 2]}, "times": 3}


def test_client_ping_gets_a_pong(serve: Serve) -> None:
    server = serve(websocket_app())
    with open_client(server, "/echo") as ws:
        assert ws.ping(b"are you there").wait(5)
        ws.send("still echoing")
        assert ws.recv(timeout=5) == "still echoing"


def test_refused_upgrades_get_403(serve: Serve) -> None:
    server = serve(websocket_app())
    for path in ("/refuse", "/nowhere", "/plain", "/json/lobby?times=x"):
        with pytest.raises(InvalidStatus) as refused:
            open_client(server, path)
        assert refused.value.response.status_code == 403, path


@pytest.mark.parametrize(("headers", "reason"), [
    ({"Sec-WebSocket-Key": None}, b"missing Sec-WebSocket-Key"),
    ({"Sec-WebSocket-Key": "c2hvcnQ="}, b"invalid Sec-WebSocket-Key"),
    ({"Sec-WebSocket-Version": "8"}, b"unsupported Sec-WebSocket-Version: 8"),
    ({"Sec-WebSocket-Version": None}, b"missing Sec-WebSocket-Version"),
])
def test_a_bad_handshake_gets_400_with_the_reason(serve: Serve, headers: dict[str, str | None], reason: bytes
                                                  ) -> None:
    server = serve(websocket_app())
    with server.connect() as sock:
        sock.sendall(upgrade_head("/echo", **headers))
        response = read_response(sock)
        assert response.status == 400
        assert reason in response.body
        assert response.header("connection") == "close"
        if b"Version" in reason:
            assert response.header("sec-websocket-version") == "13"
        assert recv_until_closed(sock) == b""


def test_other_upgrades_are_answered_as_plain_http(serve: Serve) -> None:
    server = serve(websocket_app())
    with server.connect() as sock:  # h2c: not offered, the request is answered as HTTP/1.1
        sock.sendall(b"GET /plain HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                     b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
        response = read_response(sock)
        assert (response.status, response.body) == (200, b'{"plain":true}')
    with server.connect() as sock:  # Upgrade: websocket without Connection: upgrade is no upgrade at all
        sock.sendall(b"GET /plain HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n\r\n")
        assert read_response(sock).status == 200


def test_requests_pipelined_before_the_upgrade_are_answered_first_and_early_frames_kept(serve: Serve) -> None:
    server = serve(websocket_app())
    with server.connect() as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n" + upgrade_head("/echo") + client_frames("early"))
        data = bytearray()
        first = read_response(sock, buffer=data)
        assert (first.status, first.body) == (200, b'{"slow":true}')
        head = read_head(sock, data)
        assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
        assert f"sec-websocket-accept: {ACCEPT}".encode() in head
        assert read_frame(sock, data) == (0x1, b"early")


def test_a_message_over_ws_max_size_closes_with_1009(serve: Serve) -> None:
    log: list[Any] = []
    server = serve(websocket_app(log), ws_max_size=1024)
    with open_client(server, "/echo") as ws:
        ws.send("a" * 1024)
        assert ws.recv(timeout=5) == "a" * 1024
        ws.send("b" * 1025)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert close_code(closed.value) == 1009
    wait_for(lambda: ("disconnect", 1009) in log)


def test_a_handler_exception_closes_with_1011_and_logs_the_traceback(serve: Serve,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    server = serve(websocket_app())
    with caplog.at_level(logging.ERROR, logger="zigmund_fast.websockets"):
        with open_client(server, "/crash") as ws:
            ws.send("go")
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=5)
        assert close_code(closed.value) == 1011
        wait_for(lambda: any(r.exc_info and "handler crashed after accept" in str(r.exc_info[1])
                             for r in caplog.records))


def test_a_client_that_vanishes_ends_the_handler_and_leaves_nothing_behind(serve: Serve) -> None:
    log: list[Any] = []
    server = serve(websocket_app(log))
    with server.connect() as sock:
        sock.sendall(upgrade_head("/echo") + client_frames("hi"))
        data = bytearray()
        read_head(sock, data)
        assert read_frame(sock, data) == (0x1, b"hi")
    # The TCP connection is gone without a close frame: the handler sees 1006 and returns.
    wait_for(lambda: ("disconnect", 1006) in log)
    state = server.server.state
    assert state is not None
    wait_for(lambda: server.call(lambda: len(state.connections)) == 0)
    tasks = server.call(lambda: [t.get_name() for t in asyncio.all_tasks(server.loop)])
    assert not [name for name in tasks if name.startswith("zigmund-websocket")]


def test_server_pings_close_a_silent_peer_with_1011_and_keep_an_answering_one(serve: Serve) -> None:
    server = serve(websocket_app(), ws_ping_interval=0.1, ws_ping_timeout=0.3)
    with server.connect() as sock:  # a raw client that never answers pings
        sock.sendall(upgrade_head("/echo"))
        data = bytearray()
        read_head(sock, data)
        opcode, payload = read_frame(sock, data)
        assert opcode == 0x9 and len(payload) == 4
        opcode, payload = read_frame(sock, data)
        assert opcode == 0x8 and struct.unpack("!H", payload[:2])[0] == 1011
        assert recv_until_closed(sock) == b""
    with open_client(server, "/echo") as ws:  # the websockets client answers them itself
        time.sleep(0.8)
        ws.send("alive")
        assert ws.recv(timeout=5) == "alive"


def test_reading_pauses_while_the_handler_lags_behind(serve: Serve) -> None:
    app = App()
    box: dict[str, Any] = {}
    go = threading.Event()

    @app.websocket("/slow-reader")
    async def slow_reader(websocket: WebSocket) -> None:
        await websocket.accept()
        box["connection"] = websocket._connection
        while not go.is_set():
            await asyncio.sleep(0.01)
        received = [await websocket.receive_text() for _ in range(80)]
        await websocket.send_json(received == [f"{i}:" + "x" * 16384 for i in range(80)])

    server = serve(app, ws_max_queue=4)
    with open_client(server, "/slow-reader") as ws:
        try:
            for i in range(80):
                ws.send(f"{i}:" + "x" * 16384)
            wait_for(lambda: server.call(lambda: box["connection"].reading_paused))
            # NOTE: one read may hold several messages past the limit (uvloop reads up to 256 KiB at a
            # time), but the rest waits in the socket.
            assert server.call(lambda: len(box["connection"].messages)) <= 4 + 17
        finally:
            go.set()
        assert ws.recv(timeout=10) == "true"
        assert not server.call(lambda: box["connection"].reading_paused)


def test_send_waits_while_the_transport_is_paused(serve: Serve) -> None:
    app = App()
    buffered: list[int] = []
    chunk = b"y" * 65536

    @app.websocket("/flood")
    async def flood(websocket: WebSocket) -> None:
        await websocket.accept()
        transport = websocket._connection.transport
        for _ in range(400):  # 25 MiB: far more than the socket buffers hold
            await websocket.send_bytes(chunk)
            buffered.append(transport.get_write_buffer_size())

    server = serve(app)
    with open_client(server, "/flood", max_size=None) as ws:
        time.sleep(0.3)  # not reading: the server's buffer fills up and the transport pauses
        assert all(ws.recv(timeout=10) == chunk for _ in range(400))
    assert len(buffered) == 400
    # Without flow control the write buffer would hold most of the 25 MiB.
    assert max(buffered) < 1024 * 1024


def test_background_tasks_of_a_websocket_handler_run_after_it_returns(serve: Serve) -> None:
    app = App()
    log: list[str] = []

    @app.websocket("/tasks")
    async def with_tasks(websocket: WebSocket, tasks: BackgroundTasks) -> None:
        await websocket.accept()
        tasks.add(log.append, "task")
        async for text in websocket.iter_text():
            log.append(text)

    server = serve(app)
    with open_client(server, "/tasks") as ws:
        ws.send("message")
        time.sleep(0.1)
        assert log == ["message"]
    wait_for(lambda: log == ["message", "task"])


def test_shutdown_closes_websockets_with_1001_after_http_requests_finish(serve: Serve) -> None:
    log: list[Any] = []
    server = serve(websocket_app(log))
    http_done: list[float] = []

    def slow_request() -> None:
        with server.connect() as sock:
            sock.sendall(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
            if read_response(sock).status == 200:
                http_done.append(time.monotonic())

    with open_client(server, "/echo") as ws:
        requester = threading.Thread(target=slow_request)
        requester.start()
        time.sleep(0.1)
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        ws_closed = time.monotonic()
    requester.join(10)
    stopper.join(30)
    assert close_code(closed.value) == 1001
    assert http_done and http_done[0] <= ws_closed
    assert ("disconnect", 1001) in log
    assert server.exit_code == 0


WS_APP_SOURCE = '''
import zigmund_fast as zigmund

app = zigmund.App()


@app.websocket("/echo")
async def echo(websocket: zigmund.WebSocket):
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text)
'''


def test_sigterm_closes_open_websockets_with_1001(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, module="wsapp", source=WS_APP_SOURCE)
    try:
        with connect(f"ws://127.0.0.1:{server.port}/echo", proxy=None, ping_interval=None, open_timeout=5) as ws:
            ws.send("before")
            assert ws.recv(timeout=5) == "before"
            server.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
        assert close_code(closed.value) == 1001
        code, _ = server.wait()
        assert code == 0
    finally:
        server.kill()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_wss_over_tls(serve: Serve, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    server = serve(websocket_app(), ssl_certfile=str(cert), ssl_keyfile=str(key))
    context = ssl.create_default_context(cafile=str(cert))
    with connect(f"wss://127.0.0.1:{server.port}/echo", ssl=context, proxy=None, ping_interval=None,
                 open_timeout=5) as ws:
        ws.send("secret")
        assert ws.recv(timeout=5) == "secret"


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)

