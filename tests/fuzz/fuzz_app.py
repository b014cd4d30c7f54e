"""The app the fuzzer talks to: one route per protocol path worth reaching, and a record of what it saw.

Every request the protocol dispatches is recorded (per client port) before
routing, so a test knows, for the n-th response on a connection, which request
it answers. Every response of these routes carries ``x-id`` (the request's
``id`` query parameter), and ``/task`` queues a background task that records
that id when it runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncIterator
from typing import Any

from zigmund_fast import (
    App,
    BackgroundTasks,
    HTTPException,
    Request,
    Response,
    StreamingResponse,
)

BIG_BODY = b"b" * 100_000

# Path -> methods answered by our handlers (HEAD is answered by every GET route).
ROUTE_METHODS: dict[str, frozenset[str]] = {
    "/hello": frozenset({"GET", "HEAD"}),
    "/echo": frozenset({"POST", "PUT", "PATCH"}),
    "/task": frozenset({"GET", "HEAD", "POST"}),
    "/slow": frozenset({"GET", "HEAD"}),
    "/sync": frozenset({"GET", "HEAD"}),
    "/teapot": frozenset({"GET", "HEAD"}),
    "/big": frozenset({"GET", "HEAD"}),
    "/stream": frozenset({"GET", "HEAD"}),
}
STREAM_BODY = b"s0s1s2"
TASK_BODY = b"queued"


@dataclasses.dataclass(frozen=True)
class Dispatched:
    """What the protocol handed to the app, captured at dispatch time."""

    method: str
    path: str
    query: bytes
    body: bytes
    http_version: str
    keep_alive: bool
    ident: str | None

    @property
    def echoes_id(self) -> bool:
        """Whether one of our handlers answers it with ``x-id`` (all but ``/boom``, a 500)."""
        return self.method in ROUTE_METHODS.get(self.path, frozenset())


    @property
    def streamed(self) -> bool:
        """Whether its response is a ``StreamingResponse``."""
        return self.echoes_id and (self.path == "/stream" or (self.path == "/task" and b"stream=1" in self.query))


class FuzzApp(App):
    """``App`` that records every dispatched request and every background task run."""

    def __init__(self) -> None:
        super().__init__(title="fuzz", docs_url=None, openapi_url=None)
        self.lock = threading.Lock()
        self.dispatched: dict[int, list[Dispatched]] = {}
        self.tasks_run: list[str] = []
        self.in_flight = 0  # handlers that suspended and have not finished (loop thread only)
        _add_routes(self)

    def dispatch(self, request: Request) -> Response | asyncio.Future[Response]:
        port = request.client[1] if request.client else -1
        record = Dispatched(
            request.method, request.path, request.query_string, request._body, request.http_version,
            request.keep_alive, request.query_params.get("id"),
        )
        with self.lock:
            self.dispatched.setdefault(port, []).append(record)
        result = super().dispatch(request)
        if isinstance(result, asyncio.Future):
            # NOTE: added before the protocol's own callback, so it runs first.
            self.in_flight += 1
            result.add_done_callback(self._handler_done)
        return result

    def _handler_done(self, future: asyncio.Future[Response]) -> None:
        self.in_flight -= 1

    def reset(self) -> None:
        with self.lock:
            self.dispatched = {}
            self.tasks_run = []

    def record_task(self, ident: str) -> None:
        with self.lock:
            self.tasks_run.append(ident)


def _ident(request: Request) -> dict[str, str]:
    return {"x-id": request.query_params.get("id", "")}


async def _chunks(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        await asyncio.sleep(0)
        yield chunk


def _add_routes(app: FuzzApp) -> None:
    @app.get("/hello")
    async def hello(request: Request) -> Response:
        return Response(b'{"hello":"world"}', 200, _ident(request), "application/json")

    async def echo(request: Request) -> Response:
        return Response(await request.body(), 200, _ident(request), "application/octet-stream")

    for method in ("post", "put", "patch"):
        getattr(app, method)("/echo", echo)

    async def record_later(ident: str) -> None:
        await asyncio.sleep(0)
        app.record_task(ident)

    async def task(request: Request, tasks: BackgroundTasks) -> Response:
        ident = request.query_params.get("id", "")
        params = request.query_params
        if params.get("async"):
            tasks.add(record_later, ident)
        else:
            tasks.add(app.record_task, ident)
        if params.get("suspend"):
            await asyncio.sleep(0)
        if params.get("fail"):
            raise HTTPException(409, "refused after queueing", headers=_ident(request))
        if params.get("stream"):
            return StreamingResponse(_chunks([TASK_BODY[:3], TASK_BODY[3:]]), 200, _ident(request), "text/plain")
        return Response(TASK_BODY, 200, _ident(request), "text/plain")

    app.get("/task", task)
    app.post("/task", task)

    @app.get("/slow")
    async def slow(request: Request) -> Response:
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return Response(b"slow", 200, _ident(request), "text/plain")

    @app.get("/sync")
    def sync(request: Request) -> Response:
        return Response(b"sync", 200, _ident(request), "text/plain")

    @app.get("/boom")
    async def boom(request: Request) -> Any:
        raise RuntimeError("fuzz: handler failure")

    @app.get("/teapot")
    async def teapot(request: Request) -> Response:
        raise HTTPException(418, "teapot", headers=_ident(request))

    @app.get("/stream")
    async def stream(request: Request) -> StreamingResponse:
        return StreamingResponse(_chunks([STREAM_BODY[i:i + 2] for i in range(0, len(STREAM_BODY), 2)]), 200,
                                 _ident(request), "text/plain")

    @app.get("/big")
    async def big(request: Request) -> Response:
        return Response(BIG_BODY, 200, _ident(request), "application/octet-stream")
