"""Function middleware: order, headers, short-circuits, errors, and background tasks left intact."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from zigmund_fast import App, BackgroundTasks, Request, Response
from zigmund_fast.testing import TestClient

from .conftest import read_response


def make_app(log: list[str]) -> App:
    app = App()

    @app.middleware("http")
    async def inner(request: Request, call_next: Any) -> Response:
        log.append("inner in")
        response = await call_next(request)
        log.append("inner out")
        response.headers["x-inner"] = "1"
        return response

    @app.middleware("http")
    async def outer(request: Request, call_next: Any) -> Response:
        log.append("outer in")
        if request.path == "/blocked":
            return Response.json({"blocked": True}, 403)
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["x-time"] = f"{time.perf_counter() - started:.6f}"
        log.append("outer out")
        return response

    def task(name: str) -> None:
        log.append(f"task {name}")

    @app.post("/work")
    async def work(tasks: BackgroundTasks) -> dict[str, bool]:
        log.append("handler")
        tasks.add(task, "a")
        tasks.add(task, "b")
        return {"ok": True}

    @app.get("/slow")
    async def slow() -> dict[str, bool]:
        await asyncio.sleep(0.01)
        return {"slow": True}

    @app.get("/blocked")
    async def blocked() -> None:
        log.append("blocked handler ran")

    return app


def test_last_added_runs_outermost_and_tasks_run_once_after_the_response() -> None:
    log: list[str] = []
    with TestClient(make_app(log)) as client:
        response = client.post("/work")
    assert response.json() == {"ok": True}
    assert response.headers["x-inner"] == "1" and float(response.headers["x-time"]) >= 0
    assert log == ["outer in", "inner in", "handler", "inner out", "outer out", "task a", "task b"]


def test_middleware_around_a_handler_that_suspends() -> None:
    log: list[str] = []
    with TestClient(make_app(log)) as client:
        response = client.get("/slow")
    assert response.json() == {"slow": True} and response.headers["x-inner"] == "1"


def test_short_circuit_skips_the_handler() -> None:
    log: list[str] = []
    with TestClient(make_app(log)) as client:
        response = client.get("/blocked")
    assert response.status_code == 403 and response.json() == {"blocked": True}
    assert "blocked handler ran" not in log


def test_middleware_errors_and_bad_returns_are_500s() -> None:
    app = App()

    @app.middleware("http")
    async def broken(request: Request, call_next: Any) -> Any:
        if request.path == "/raise":
            raise RuntimeError("middleware bug")
        return "not a response"

    app.get("/raise", lambda: 1)
    app.get("/other", lambda: 1)
    with TestClient(app) as client:
        assert client.get("/raise").status_code == 500
        assert client.get("/other").status_code == 500


def test_tasks_run_after_the_response_over_a_real_socket_with_middleware(serve: Any) -> None:
    log: list[str] = []
    server = serve(make_app(log))
    with server.connect() as sock:
        sock.sendall(b"POST /work HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
        assert read_response(sock).status == 200
    deadline = time.monotonic() + 5
    while server.call(lambda: log.count("task b")) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.call(lambda: list(log)) == ["outer in", "inner in", "handler", "inner out", "outer out",
                                               "task a", "task b"]


def test_only_http_middleware() -> None:
    import pytest

    with pytest.raises(ValueError):
        App().middleware("websocket")
