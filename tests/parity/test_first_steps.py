"""FastAPI tutorial, "First Steps": tutorial001 (a root route, its OpenAPI operation)."""

from __future__ import annotations

from typing import Any

from zigmund_fast import App
from zigmund_fast.testing import TestClient

from ..conftest import read_response


def first_steps_tutorial001() -> App:
    app = App()

    @app.get("/")
    async def root() -> dict[str, Any]:
        return {"message": "Hello World"}

    return app


def test_root_answers_hello_world() -> None:
    with TestClient(first_steps_tutorial001()) as client:
        response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {"message": "Hello World"}
    assert response.headers["content-type"] == "application/json"


def test_unknown_path_is_404_not_found() -> None:
    with TestClient(first_steps_tutorial001()) as client:
        response = client.get("/nonexistent")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_the_operation_is_documented_as_fastapi_does() -> None:
    with TestClient(first_steps_tutorial001()) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    operation = response.json()["paths"]["/"]["get"]
    assert operation["summary"] == "Root"
    assert operation["operationId"] == "root__get"
    assert operation["responses"]["200"]["description"] == "Successful Response"


def test_root_over_a_real_socket(serve: Any) -> None:
    server = serve(first_steps_tutorial001())
    with server.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        response = read_response(sock)
    assert response.status == 200
    assert response.body == b'{"message":"Hello World"}'
