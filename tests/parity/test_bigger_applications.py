"""FastAPI tutorial, "Bigger Applications - Multiple Files" (the app in ``bigger_app/``)."""

from __future__ import annotations

from typing import Any

import pytest

from zigmund_fast.testing import TestClient

from ..conftest import read_response
from ._helpers import missing
from .bigger_app.main import app

TOKEN = {"X-Token": "fake-super-secret-token"}
NO_HEADERS: dict[str, str] = {}


@pytest.mark.parametrize(("method", "url", "headers", "status", "expected"), [
    ("GET", "/users/?token=jessica", NO_HEADERS, 200, [{"username": "Rick"}, {"username": "Morty"}]),
    ("GET", "/users/", NO_HEADERS, 422, {"detail": [missing("query", "token")]}),
    ("GET", "/users/?token=monica", NO_HEADERS, 400, {"detail": "No Jessica token provided"}),
    ("GET", "/users/foo?token=jessica", NO_HEADERS, 200, {"username": "foo"}),
    ("GET", "/users/me?token=jessica", NO_HEADERS, 200, {"username": "fakecurrentuser"}),
    ("GET", "/items/?token=jessica", TOKEN, 200, {"plumbus": {"name": "Plumbus"}, "gun": {"name": "Portal Gun"}}),
    ("GET", "/items/?token=jessica", NO_HEADERS, 422, {"detail": [missing("header", "x-token")]}),
    ("GET", "/items/?token=jessica", {"X-Token": "invalid"}, 400, {"detail": "X-Token header invalid"}),
    ("GET", "/items/plumbus?token=jessica", TOKEN, 200, {"name": "Plumbus", "item_id": "plumbus"}),
    ("GET", "/items/bar?token=jessica", TOKEN, 404, {"detail": "Item not found"}),
    ("PUT", "/items/plumbus?token=jessica", TOKEN, 200, {"item_id": "plumbus", "name": "The great Plumbus"}),
    ("PUT", "/items/bar?token=jessica", TOKEN, 403, {"detail": "You can only update the item: plumbus"}),
    ("POST", "/admin/?token=jessica", TOKEN, 200, {"message": "Admin getting schwifty"}),
    ("POST", "/admin/?token=jessica", NO_HEADERS, 422, {"detail": [missing("header", "x-token")]}),
    ("GET", "/?token=jessica", NO_HEADERS, 200, {"message": "Hello Bigger Applications!"}),
    ("GET", "/", NO_HEADERS, 422, {"detail": [missing("query", "token")]}),
    ("GET", "/items/", NO_HEADERS, 422, {"detail": [missing("query", "token"), missing("header", "x-token")]}),
])
def test_requests(method: str, url: str, headers: dict[str, str], status: int, expected: Any) -> None:
    with TestClient(app) as client:
        response = client.request(method, url, headers=headers)
    assert (response.status_code, response.json()) == (status, expected)


@pytest.mark.parametrize(("path", "method", "tags", "responses"), [
    ("/users/", "get", ["users"], ["200"]),
    ("/users/me", "get", ["users"], ["200"]),
    ("/users/{username}", "get", ["users"], ["200", "422"]),
    ("/items/", "get", ["items"], ["200", "404"]),
    ("/items/{item_id}", "get", ["items"], ["200", "404", "422"]),
    ("/items/{item_id}", "put", ["items", "custom"], ["200", "403", "404", "422"]),
    ("/admin/", "post", ["admin"], ["200", "418"]),
    ("/", "get", None, ["200"]),
])
def test_openapi_tags_and_responses(path: str, method: str, tags: list[str] | None, responses: list[str]) -> None:
    operation = app.openapi()["paths"][path][method]
    assert operation.get("tags") == tags
    # Every operation also gets a 422 in FastAPI: the global token dependency is a required query parameter.
    assert sorted(operation["responses"]) == sorted({*responses, "422"})


def test_over_a_real_socket(serve: Any) -> None:
    server = serve(app)
    with server.connect() as sock:
        sock.sendall(b"PUT /items/plumbus?token=jessica HTTP/1.1\r\nHost: x\r\nX-Token: fake-super-secret-token\r\n"
                     b"Content-Length: 0\r\n\r\n")
        response = read_response(sock)
    assert (response.status, response.body) == (200, b'{"item_id":"plumbus","name":"The great Plumbus"}')
