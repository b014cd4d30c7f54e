"""FastAPI tutorial, "Middleware" (tutorial001: an X-Process-Time header) and "CORS" (tutorial001)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from zigmund_fast import App, Request, Response
from zigmund_fast.middleware import CORSMiddleware
from zigmund_fast.testing import TestClient

from ..conftest import read_response


def middleware_tutorial001() -> App:
    app = App()

    @app.middleware("http")
    async def add_process_time_header(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start_time = time.perf_counter()
        response = await call_next(request)
        process_time = time.perf_counter() - start_time
        response.headers["X-Process-Time"] = str(process_time)
        return response

    @app.get("/items/")
    async def read_items() -> list[dict[str, str]]:
        return [{"item": "Portal Gun"}]

    return app


ORIGINS = ["http://localhost.tiangolo.com", "https://localhost.tiangolo.com", "http://localhost",
           "http://localhost:8080"]


def cors_tutorial001() -> App:
    app = App()
    app.add_middleware(CORSMiddleware, allow_origins=ORIGINS, allow_credentials=True, allow_methods=["*"],
                       allow_headers=["*"])

    @app.get("/")
    async def main() -> dict[str, str]:
        return {"message": "Hello World"}

    return app


def test_middleware_tutorial001_process_time_header() -> None:
    with TestClient(middleware_tutorial001()) as client:
        found = client.get("/items/")
        not_found = client.get("/nope")
    assert (found.status_code, found.json()) == (200, [{"item": "Portal Gun"}])
    assert (not_found.status_code, not_found.json()) == (404, {"detail": "Not Found"})
    for response in (found, not_found):
        assert float(response.headers["x-process-time"]) >= 0


def test_middleware_tutorial001_over_a_real_socket(serve: Any) -> None:
    server = serve(middleware_tutorial001())
    with server.connect() as sock:
        sock.sendall(b"GET /items/ HTTP/1.1\r\nHost: x\r\n\r\n")
        response = read_response(sock)
    assert (response.status, response.body) == (200, b'[{"item":"Portal Gun"}]')
    assert float(response.header("x-process-time") or "nan") >= 0


def test_cors_tutorial001_preflight() -> None:
    with TestClient(cors_tutorial001()) as client:
        response = client.options("/", headers={"Origin": "http://localhost:8080",
                                                "Access-Control-Request-Method": "GET",
                                                "Access-Control-Request-Headers": "X-Example"})
    assert (response.status_code, response.text) == (200, "OK")
    assert response.headers["access-control-allow-origin"] == "http://localhost:8080"
    assert response.headers["access-control-allow-headers"] == "X-Example"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-max-age"] == "600"
    assert {"GET", "POST", "PUT", "DELETE"} <= set(response.headers["access-control-allow-methods"].split(", "))


def test_cors_tutorial001_simple_request() -> None:
    with TestClient(cors_tutorial001()) as client:
        allowed = client.get("/", headers={"Origin": "http://localhost:8080"})
        no_origin = client.get("/")
        other_origin = client.get("/", headers={"Origin": "http://evil.example"})
    assert (allowed.status_code, allowed.json()) == (200, {"message": "Hello World"})
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:8080"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert (no_origin.status_code, no_origin.json()) == (200, {"message": "Hello World"})
    assert "access-control-allow-origin" not in no_origin.headers
    assert other_origin.status_code == 200
    assert "access-control-allow-origin" not in other_origin.headers


def test_cors_tutorial001_disallowed_preflight() -> None:
    with TestClient(cors_tutorial001()) as client:
        response = client.options("/", headers={"Origin": "http://evil.example",
                                                "Access-Control-Request-Method": "GET"})
    assert (response.status_code, response.text) == (400, "Disallowed CORS origin")
    assert "access-control-allow-origin" not in response.headers
