"""An in-process test client that drives the real (compiled) protocol over an in-memory transport.

Each call writes the request's bytes into an ``HTTPProtocol`` exactly as a
socket would, parses the bytes the protocol writes back, and, before
returning, waits until every background task the request queued has run, so
a test can assert on their effects right away.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import httptools
import uvloop

from zigmund_fast._impl import HTTPProtocol
from zigmund_fast.app import App
from zigmund_fast.background import TaskRunner
from zigmund_fast.requests import Headers
from zigmund_fast.server.config import Config
from zigmund_fast.server.server import ServerState


class _MemoryTransport(asyncio.Transport):
    def __init__(self, client: tuple[str, int]) -> None:
        super().__init__()
        self.buffer = bytearray()
        self.closed = False
        self._client = client
        self.wrote = asyncio.Event()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.buffer += data
        self.wrote.set()

    def close(self) -> None:
        self.closed = True
        self.wrote.set()

    def is_closing(self) -> bool:
        return self.closed

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
        target = url if url.startswith("/") else urlsplit(url).path or "/"
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

    def close(self) -> None:
        if not self.loop.is_closed():
            executor = self.app._executor
            if executor is not None:
                executor.shutdown(wait=True)
                self.app._executor = None
            self.runner.close()
            self.loop.close()

    def __enter__(self) -> TestClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
