"""FastAPI tutorial, "Response Status Code": tutorial001 (``status_code=201``), tutorial002 (``status``)."""

from __future__ import annotations

from typing import Any

from zigmund_fast import App
from zigmund_fast.testing import TestClient

from ..conftest import read_response


def response_status_code_tutorial001() -> App:
    app = App()

    @app.post("/items/", status_code=201)
    async def create_item(name: str) -> dict[str, Any]:
        return {"name": name}

    return app


def response_status_code_tutorial002() -> App:
    from zigmund_fast import status  # FastAPI users write `from fastapi import status`

    app = App()

    @app.post("/items/", status_code=status.HTTP_201_CREATED)
    async def create_item(name: str) -> dict[str, Any]:
        return {"name": name}

    return app


def test_tutorial001_created() -> None:
    with TestClient(response_status_code_tutorial001()) as client:
        response = client.post("/items/?name=foo")
    assert (response.status_code, response.json()) == (201, {"name": "foo"})


def test_tutorial001_documents_the_status() -> None:
    with TestClient(response_status_code_tutorial001()) as client:
        schema = client.get("/openapi.json").json()
    assert "201" in schema["paths"]["/items/"]["post"]["responses"]


def test_tutorial002_status_constants() -> None:
    with TestClient(response_status_code_tutorial002()) as client:
        response = client.post("/items/?name=foo")
    assert (response.status_code, response.json()) == (201, {"name": "foo"})


def test_tutorial001_over_a_real_socket(serve: Any) -> None:
    server = serve(response_status_code_tutorial001())
    with server.connect() as sock:
        sock.sendall(b"POST /items/?name=foo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        response = read_response(sock)
    assert (response.status, response.body) == (201, b'{"name":"foo"}')
