"""An in-process test client that drives the real (compiled) protocol over an in-memory transport.

Each call writes the request's bytes into an ``HTTPProtocol`` exactly as a
socket would, parses the bytes the protocol writes back, and, before
returning, waits until every background task the request queued has run, so
a test can assert on their effects right away.
"""

from __future__ import annotations

import asyncio
import base64
import json as jsonlib
import os
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Self
from urllib.parse import quote, urlencode, urlsplit

import httptools
import uvloop
from websockets.frames import Opcode
from websockets.protocol import Protocol as FrameProtocol
from websockets.protocol import Side, State

from zigmund_fast._impl import HTTPProtocol
from zigmund_fast.app import App
from zigmund_fast.background import TaskRunner
from zigmund_fast.requests import Headers
from zigmund_fast.server.config import Config
from zigmund_fast.server.server import ServerState
from zigmund_fast.server.websocket_connection import WebSocketConnection
from zigmund_fast.websockets import WebSocketDisconnect, accept_key


class _MemoryTransport(asyncio.Transport):
    def __init__(self, client: tuple[str, int]) -> None:
        super().__init__()
        self.buffer = bytearray()
        self.closed = False
        self._client = client
        self.wrote = asyncio.Event()
        self._protocol: Any = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.buffer += data
        self.wrote.set()

    def close(self) -> None:
        self.closed = True
        self.wrote.set()

    def is_closing(self) -> bool:
        return self.closed

    def abort(self) -> None:
        self.close()

    def set_protocol(self, protocol: Any) -> None:
        self._protocol = protocol

    def get_protocol(self) -> Any:
        return self._protocol

    def can_write_eof(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return self._client
        return default


class TestResponse:
    """What a test sees of a response."""

    __test__ = False  # not a pytest class

    def __init__(self, status_code: int, raw_headers: list[tuple[bytes, bytes]], content: bytes) -> None:
        self.status_code = status_code
        self.headers = Headers(raw_headers)
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    def __repr__(self) -> str:
        return f"<TestResponse {self.status_code}>"


class _ResponseReader:
    def __init__(self, head: bool) -> None:
        self.head = head
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()
        self.done = False
        self.parser = httptools.HttpResponseParser(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        if self.head:
            self.done = True

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.done = True


class TestClient:
    """Calls ``app`` in-process: ``client.get("/path", params=..., headers=...)``.

    Parameters:
        app: the application under test.
        base_url: supplies the ``host`` header.

    ``with TestClient(app) as client:`` runs the app's startup (lifespan,
    ``on_startup`` hooks) on entry and its shutdown on exit; without ``with``
    neither runs (as in Starlette).
    """

    __test__ = False

    def __init__(self, app: App, base_url: str = "http://testserver") -> None:
        self.app = app
        self.host = urlsplit(base_url).netloc or "testserver"
        self.loop = uvloop.new_event_loop()
        self.runner = TaskRunner(self.loop, error_strategy=app.background_errors, observer=app.observer)
        # The server's own shared state, with the server's default limits.
        self._state = ServerState(Config(app=app), self.loop, self.runner)
        if app.metrics is not None:
            app.metrics.runner = self.runner
        self._lifespan_started = False

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | str | None = None,
        json: Any = None,
        timeout: float = 30.0,
    ) -> TestResponse:
        parts = urlsplit(url)
        # As httpx does: keep the query of a full URL, and percent-encode what a request line can't carry
        # (spaces, non-ASCII) while leaving the URL's own %-escapes and delimiters alone.
        target = quote((parts.path or "/") + ("?" + parts.query if parts.query else ""), safe="!$%&'()*+,/:;=?@~")
        if params:
            target += ("&" if "?" in target else "?") + urlencode(params, doseq=True)
        body = b""
        lines = [f"{method.upper()} {target} HTTP/1.1", f"host: {self.host}"]
        extra = {k.lower(): v for k, v in (headers or {}).items()}
        if json is not None:
            body = jsonlib.dumps(json).encode()
            extra.setdefault("content-type", "application/json")
        elif content is not None:
            body = content.encode() if isinstance(content, str) else content
        if body or method.upper() in ("POST", "PUT", "PATCH"):
            extra["content-length"] = str(len(body))
        lines += [f"{k}: {v}" for k, v in extra.items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        return self.loop.run_until_complete(self._exchange(raw, method.upper() == "HEAD", timeout))

    async def _exchange(self, raw: bytes, head: bool, timeout: float) -> TestResponse:
        transport = _MemoryTransport(("testclient", 50000))
        protocol = HTTPProtocol(self._state)
        protocol.connection_made(transport)
        reader = _ResponseReader(head)
        # NOTE: a loop callback, as from a real socket: not inside this coroutine's Task.
        self.loop.call_soon(protocol.data_received, raw)
        try:
            async with asyncio.timeout(timeout):
                while not reader.done:
                    await transport.wrote.wait()
                    transport.wrote.clear()
                    if transport.buffer:
                        data, transport.buffer = bytes(transport.buffer), bytearray()
                        reader.parser.feed_data(data)
                    if transport.closed and not reader.done:
                        raise ConnectionError("the server closed the connection without a complete response")
                await self.runner.wait_idle()
        finally:
            protocol.connection_lost(None)
            await asyncio.sleep(0)  # a stream cut short closes its iterator now, not at loop close
        return TestResponse(reader.parser.get_status_code(), reader.headers, bytes(reader.body))

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("GET", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("HEAD", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("DELETE", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("OPTIONS", url, **kwargs)

    def websocket_connect(
        self,
        url: str,
        subprotocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        timeout: float = 10.0,
    ) -> WebSocketTestSession:
        """Open a WebSocket to ``url`` through the real protocol; use it as a context manager.

        Raises ``WebSocketRejected`` (with the HTTP response) if the upgrade is refused.
        """
        target = url if url.startswith("/") else urlsplit(url).path or "/"
        if params:
            target += ("&" if "?" in target else "?") + urlencode(params, doseq=True)
        return WebSocketTestSession(self, target, list(subprotocols or ()), dict(headers or {}), timeout)

    def close(self) -> None:
        if not self.loop.is_closed():
            executor = self.app._executor
            if executor is not None:
                executor.shutdown(wait=True)
                self.app._executor = None
            self.runner.close()
            self.loop.close()

    def __enter__(self) -> TestClient:
        lifespan = self.app.lifespan
        try:
            self.loop.run_until_complete(lifespan.startup())
        except BaseException:
            self.close()
            raise
        self._lifespan_started = True
        if lifespan.state is not None:
            # NOTE: rebuilt so that every request starts with a copy of the state the lifespan yielded.
            self._state = ServerState(Config(app=self.app), self.loop, self.runner)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._lifespan_started and not self.loop.is_closed():
                self._lifespan_started = False
                self.loop.run_until_complete(self.app.lifespan.shutdown())
        finally:
            self.close()


class WebSocketRejected(Exception):
    """The server answered a WebSocket upgrade with an HTTP response (``.response``) instead of ``101``."""

    def __init__(self, response: TestResponse) -> None:
        self.response = response
        self.status_code = response.status_code
        super().__init__(f"WebSocket upgrade refused with HTTP {response.status_code}: {response.content!r}")


class WebSocketTestSession:
    """The client end of a WebSocket opened by ``TestClient.websocket_connect``.

    Calls run the client's event loop until the server has answered (or
    ``timeout`` passes); leaving the ``with`` block closes with ``1000``, waits
    for the handler to return and for its background tasks to run.
    """

    __test__ = False

    def __init__(self, client: TestClient, target: str, subprotocols: list[str], headers: dict[str, str],
                 timeout: float) -> None:
        self._client = client
        self._loop = client.loop
        self._timeout = timeout
        self._transport = _MemoryTransport(("testclient", 50000))
        self._frames = FrameProtocol(Side.CLIENT, max_size=None)
        self._messages: deque[str | bytes] = deque()
        self._fragments: list[bytes] = []
        self._text = False
        self._closed: tuple[int, str] | None = None
        self._lost = False
        self.subprotocol: str | None = None
        self.response_headers = Headers([])
        protocol = HTTPProtocol(client._state)
        self._transport.set_protocol(protocol)
        protocol.connection_made(self._transport)
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        lines = [f"GET {target} HTTP/1.1", f"host: {client.host}", "upgrade: websocket", "connection: Upgrade",
                 f"sec-websocket-key: {key}", "sec-websocket-version: 13"]
        if subprotocols:
            lines.append(f"sec-websocket-protocol: {', '.join(subprotocols)}")
        lines += [f"{name.lower()}: {value}" for name, value in headers.items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self._run(self._open(raw, key))

    def _run(self, coro: Any) -> Any:
        return self._loop.run_until_complete(asyncio.wait_for(coro, self._timeout))

    def _to_server(self, data: bytes) -> None:
        self._transport.get_protocol().data_received(data)

    async def _open(self, raw: bytes, key: str) -> None:
        transport = self._transport
        self._loop.call_soon(self._to_server, raw)
        while b"\r\n\r\n" not in transport.buffer:
            if transport.closed:
                raise ConnectionError("the server closed the connection without answering the upgrade")
            await transport.wrote.wait()
            transport.wrote.clear()
        end = transport.buffer.index(b"\r\n\r\n") + 4
        status_line, *header_lines = bytes(transport.buffer[:end - 4]).decode("latin-1").split("\r\n")
        if status_line.split(" ")[1] != "101":
            reader = _ResponseReader(False)
            while True:
                data, transport.buffer = bytes(transport.buffer), bytearray()
                reader.parser.feed_data(data)
                if reader.done or transport.closed:
                    break
                await transport.wrote.wait()
                transport.wrote.clear()
            self._lost = True
            transport.get_protocol().connection_lost(None)
            await self._client.runner.wait_idle()
            raise WebSocketRejected(TestResponse(reader.parser.get_status_code(), reader.headers, bytes(reader.body)))
        raw_headers = []
        for line in header_lines:
            name, _, value = line.partition(":")
            raw_headers.append((name.strip().lower().encode("latin-1"), value.strip().encode("latin-1")))
        self.response_headers = Headers(raw_headers)
        if self.response_headers.get("sec-websocket-accept") != accept_key(key):
            raise ConnectionError("the server's Sec-WebSocket-Accept does not match the key sent")
        self.subprotocol = self.response_headers.get("sec-websocket-protocol")
        del transport.buffer[:end]
        self._pump()

    def _pump(self) -> None:
        """Read what the server wrote; answer what the frame layer must (pongs, the close echo)."""
        transport, frames = self._transport, self._frames
        if transport.buffer:
            data, transport.buffer = bytes(transport.buffer), bytearray()
            frames.receive_data(data)
        if transport.closed and not self._lost:
            frames.receive_eof()
        for frame in frames.events_received():
            if frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
                self._fragments.append(bytes(frame.data))
                if frame.opcode is not Opcode.CONT:
                    self._text = frame.opcode is Opcode.TEXT
                if frame.fin:
                    data = b"".join(self._fragments)
                    self._fragments = []
                    self._messages.append(data.decode("utf-8") if self._text else data)
            elif frame.opcode is Opcode.CLOSE and self._closed is None:
                close = frames.close_rcvd
                self._closed = (close.code, close.reason) if close is not None else (1005, "")
        for chunk in frames.data_to_send():
            if chunk and not transport.closed:
                self._loop.call_soon(self._to_server, chunk)
        if transport.closed and not self._lost:
            self._lost = True
            if self._closed is None:
                self._closed = (1006, "")
            self._loop.call_soon(transport.get_protocol().connection_lost, None)

    async def _receive(self) -> str | bytes:
        transport = self._transport
        while not self._messages:
            if self._closed is not None:
                raise WebSocketDisconnect(*self._closed)
            await transport.wrote.wait()
            transport.wrote.clear()
            self._pump()
        return self._messages.popleft()

    async def _settle(self) -> None:
        for _ in range(5):  # let the handler take what was sent (a few loop turns)
            await asyncio.sleep(0)
        self._pump()

    def _send(self, text: bool, data: bytes) -> None:
        if self._closed is not None:
            raise WebSocketDisconnect(*self._closed)
        if text:
            self._frames.send_text(data)
        else:
            self._frames.send_binary(data)
        self._pump()
        self._run(self._settle())

    def send_text(self, data: str) -> None:
        self._send(True, data.encode("utf-8"))

    def send_bytes(self, data: bytes) -> None:
        self._send(False, data)

    def send_json(self, data: Any, mode: str = "text") -> None:
        encoded = jsonlib.dumps(data, separators=(",", ":")).encode("utf-8")
        self._send(mode == "text", encoded)

    def receive(self) -> str | bytes:
        """The next message (str for text, bytes for binary); ``WebSocketDisconnect`` once the server closed."""
        return self._run(self._receive())  # type: ignore[no-any-return]

    def receive_text(self) -> str:
        message = self.receive()
        if not isinstance(message, str):
            raise TypeError(f"expected a text message, received {message!r}")
        return message

    def receive_bytes(self) -> bytes:
        message = self.receive()
        if not isinstance(message, bytes):
            raise TypeError(f"expected a binary message, received {message!r}")
        return message

    def receive_json(self, mode: str = "text") -> Any:
        return jsonlib.loads(self.receive_text() if mode == "text" else self.receive_bytes())

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close (if still open), wait for the handler to return and its background tasks to run."""
        self._run(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        frames, transport = self._frames, self._transport
        if self._closed is None and not self._lost and frames.state is State.OPEN:
            frames.send_close(code, reason)
            self._pump()
        while not transport.closed:
            await transport.wrote.wait()
            transport.wrote.clear()
            self._pump()
        self._pump()
        await asyncio.sleep(0)
        server = transport.get_protocol()
        if isinstance(server, WebSocketConnection):
            while not server.handler_done:
                await asyncio.sleep(0.001)
        await self._client.runner.wait_idle()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.close()
        except TimeoutError:
            server = self._transport.get_protocol()
            if isinstance(server, WebSocketConnection):
                server.close()
            raise
