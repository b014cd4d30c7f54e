"""Shared fixtures: a real server on an ephemeral port (in a thread), raw socket helpers, a TestClient."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvloop

from zigmund_fast import App
from zigmund_fast.server.config import Config
from zigmund_fast.server.server import Server
from zigmund_fast.testing import TestClient


class RunningServer:
    """A ``Server`` serving on 127.0.0.1:<ephemeral> in a background thread with its own uvloop loop."""

    def __init__(self, app: App, **config: Any) -> None:
        # NOTE: gc_freeze off unless a test asks for it: its gc.collect() per start, across the
        # hundreds of servers this process starts, added about 20 s to the suite.
        config.setdefault("gc_freeze", False)
        self.config = Config(app=app, host="127.0.0.1", port=0, **config)
        self.server = Server(self.config)
        self.loop = uvloop.new_event_loop()
        self.exit_code: int | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-server", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> int:
            await self.server.start()
            self._ready.set()
            assert self.server._exit is not None
            await self.server._exit.wait()
            return await self.server.shutdown()

        try:
            self.exit_code = self.loop.run_until_complete(main())
        finally:
            self._ready.set()
            self.loop.close()

    def start(self) -> RunningServer:
        self._thread.start()
        if not self._ready.wait(10) or self.server._server is None:
            raise RuntimeError("test server did not start")
        return self

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        assert self.server.port is not None
        return self.server.port

    def call(self, func: Callable[[], Any]) -> Any:
        """Run ``func`` on the server's loop and return its result (for reading server state safely)."""
        done = threading.Event()
        box: list[Any] = []
        self.loop.call_soon_threadsafe(lambda: (box.append(func()), done.set()))
        done.wait(5)
        return box[0]

    def stop(self, timeout: float = 30) -> int | None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.server.request_exit)
            self._thread.join(timeout)
        return self.exit_code

    def connect(self, timeout: float = 5.0) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        return sock


@pytest.fixture
def serve() -> Iterator[Callable[..., RunningServer]]:
    """``serve(app, **config)`` starts a real server and stops it after the test."""
    servers: list[RunningServer] = []

    def start(app: App, **config: Any) -> RunningServer:
        server = RunningServer(app, **config).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def client_for() -> Iterator[Callable[[App], TestClient]]:
    clients: list[TestClient] = []

    def make(app: App) -> TestClient:
        client = TestClient(app)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@dataclasses.dataclass
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name.lower():
                return value
        return None


def read_response(sock: socket.socket, head: bool = False, buffer: bytearray | None = None) -> RawResponse:
    """Read exactly one HTTP/1.1 response (Content-Length framed) from ``sock``.

    ``buffer`` carries bytes already read past the previous response (pipelining).
    """
    data = buffer if buffer is not None else bytearray()
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before a full response head; got {bytes(data)!r}")
        data += chunk
    head_end = data.index(b"\r\n\r\n")
    head_lines = bytes(data[:head_end]).decode("latin-1").split("\r\n")
    status = int(head_lines[0].split(" ")[1])
    headers = []
    for line in head_lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    del data[: head_end + 4]
    length = 0
    for name, value in headers:
        if name == "content-length":
            length = int(value)
    if head or status in (204, 304) or 100 <= status < 200:
        length = 0
    while len(data) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before the full body")
        data += chunk
    body = bytes(data[:length])
    del data[:length]
    return RawResponse(status, headers, body)


def recv_until_closed(sock: socket.socket, timeout: float = 5.0) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(timeout)
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
