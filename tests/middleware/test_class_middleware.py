"""Class middleware: add_middleware, App(middleware=[...]), ordering with function middleware, and
background tasks that still run once, in order, after the response with every built-in."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from zigmund_fast import App, BackgroundTasks, Request, Response
from zigmund_fast.middleware import (
    CORSMiddleware,
    GZipMiddleware,
    HTTPSRedirectMiddleware,
    Middleware,
    TrustedHostMiddleware,
)
from zigmund_fast.testing import TestClient

from ..conftest import read_response


class Tagging:
    """Records the order it runs in; built once per add_middleware."""

    built = 0

    def __init__(self, log: list[str], name: str) -> None:
        Tagging.built += 1
        self.log = log
        self.name = name

    async def __call__(self, request: Request, call_next: Any) -> Response:
        self.log.append(f"{self.name} in")
        response = await call_next(request)
        self.log.append(f"{self.name} out")
        response.headers[f"x-{self.name}"] = "1"
        return response


def test_class_and_function_middleware_share_one_chain_last_added_outermost() -> None:
    log: list[str] = []
    app = App()
    app.add_middleware(Tagging, log, name="first")

    @app.middleware("http")
    async def function(request: Request, call_next: Any) -> Response:
        log.append("function in")
        response = await call_next(request)
        log.append("function out")
        return response

    app.add_middleware(Tagging, log=log, name="last")
    app.get("/", lambda: log.append("handler") or "ok")
    Tagging.built = 0
    with TestClient(app) as client:
        for _ in range(3):
            response = client.get("/")
    assert response.headers["x-first"] == "1" and response.headers["x-last"] == "1"
    assert log[:7] == ["last in", "function in", "first in", "handler", "first out", "function out", "last out"]
    assert Tagging.built == 0  # instances were built once, at add_middleware, not per request


def test_middleware_records_in_the_constructor_first_is_outermost() -> None:
    log: list[str] = []
    app = App(middleware=[Middleware(Tagging, log, name="outer"), Middleware(Tagging, log=log, name="inner")])
    app.get("/", lambda: "ok")
    with TestClient(app) as client:
        client.get("/")
    assert log == ["outer in", "inner in", "inner out", "outer out"]
    assert repr(Middleware(Tagging, 1, name="x")) == "Middleware(Tagging, 1, name='x')"


def test_bad_middleware_is_refused_when_added() -> None:
    class NotCallable:
        pass

    with pytest.raises(TypeError, match="async def __call__"):
        App().add_middleware(NotCallable)
    with pytest.raises(TypeError, match="takes a middleware class"):
        App().add_middleware("CORSMiddleware")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Middleware\\(cls"):
        App(middleware=[CORSMiddleware])
    with pytest.raises(TypeError):
        App().add_middleware(GZipMiddleware, minimum_sise=10)  # a typo is a TypeError from the class


# Background tasks with every built-in

BUILT_INS: dict[str, tuple[type, dict[str, Any]]] = {
    "cors": (CORSMiddleware, {"allow_origins": ["https://a.com"]}),
    "gzip": (GZipMiddleware, {"minimum_size": 10}),
    "trustedhost": (TrustedHostMiddleware, {"allowed_hosts": ["t", "testserver"]}),
    "httpsredirect": (HTTPSRedirectMiddleware, {}),
}


def tasks_app(middleware: tuple[type, dict[str, Any]], log: list[str], response_seen: threading.Event) -> App:
    app = App()
    cls, options = middleware
    app.add_middleware(cls, **options)
    if cls is HTTPSRedirectMiddleware:

        @app.middleware("http")  # outermost: the request arrived over TLS
        async def as_https(request: Request, call_next: Any) -> Any:
            request.scheme = "https"
            return await call_next(request)

    async def task(name: str) -> None:
        # NOTE: waits for the client to have read the response: a task run before the response was
        # written would see the event unset (and the response would be held back until it gave up).
        for _ in range(500):
            if response_seen.is_set():
                break
            await asyncio.sleep(0.01)
        log.append(f"task {name} after response={response_seen.is_set()}")

    @app.post("/work")
    async def work(tasks: BackgroundTasks) -> dict[str, Any]:
        log.append("handler")
        tasks.add(task, "a")
        tasks.add(task, "b")
        return {"queued": True, "padding": "x" * 600}

    return app


@pytest.mark.parametrize("name", list(BUILT_INS))
def test_tasks_run_once_in_order_after_the_response_over_a_real_socket(name: str, serve: Any) -> None:
    log: list[str] = []
    response_seen = threading.Event()
    server = serve(tasks_app(BUILT_INS[name], log, response_seen))
    with server.connect() as sock:
        sock.sendall(b"POST /work HTTP/1.1\r\nHost: t\r\nOrigin: https://a.com\r\nAccept-Encoding: gzip\r\n"
                     b"Content-Length: 0\r\n\r\n")
        response = read_response(sock)
        response_seen.set()
    assert response.status == 200
    if name == "gzip":
        assert response.header("content-encoding") == "gzip"
    if name == "cors":
        assert response.header("access-control-allow-origin") == "https://a.com"
    deadline = time.monotonic() + 10
    while server.call(lambda: len(log)) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # a duplicate run would show up here
    assert server.call(lambda: list(log)) == ["handler", "task a after response=True", "task b after response=True"]


@pytest.mark.parametrize("name", list(BUILT_INS))
def test_tasks_run_once_in_order_with_the_test_client(name: str) -> None:
    log: list[str] = []
    response_seen = threading.Event()
    response_seen.set()
    with TestClient(tasks_app(BUILT_INS[name], log, response_seen)) as client:
        response = client.post("/work", headers={"origin": "https://a.com", "accept-encoding": "gzip"})
        assert response.status_code == 200
        assert log == ["handler", "task a after response=True", "task b after response=True"]


def test_a_middleware_short_circuit_drops_nothing_it_did_not_start() -> None:
    log: list[str] = []
    app = App()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["good.test"])

    @app.post("/work")
    async def work(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(log.append, "task")
        return {"ok": True}

    with TestClient(app) as client:
        assert client.post("/work").status_code == 400  # refused before the handler: no tasks at all
    assert log == []
