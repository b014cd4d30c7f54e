"""FastAPI tutorial, "Query Parameters": tutorial001-006 (defaults, optional, bool, mixed, required)."""

from __future__ import annotations

from typing import Any

import pytest

from zigmund_fast import App
from zigmund_fast.testing import TestClient

from ..conftest import read_response
from ._helpers import int_parsing, missing

FAKE_ITEMS_DB = [{"item_name": "Foo"}, {"item_name": "Bar"}, {"item_name": "Baz"}]
LONG_DESCRIPTION = "This is an amazing item that has a long description"


def query_params_tutorial001() -> App:
    app = App()

    @app.get("/items/")
    async def read_item(skip: int = 0, limit: int = 10) -> list[dict[str, str]]:
        return FAKE_ITEMS_DB[skip : skip + limit]

    return app


def query_params_tutorial002() -> App:
    app = App()

    @app.get("/items/{item_id}")
    async def read_item(item_id: str, q: str | None = None) -> dict[str, Any]:
        if q:
            return {"item_id": item_id, "q": q}
        return {"item_id": item_id}

    return app


def query_params_tutorial003() -> App:
    app = App()

    @app.get("/items/{item_id}")
    async def read_item(item_id: str, q: str | None = None, short: bool = False) -> dict[str, Any]:
        item: dict[str, Any] = {"item_id": item_id}
        if q:
            item.update({"q": q})
        if not short:
            item.update({"description": LONG_DESCRIPTION})
        return item

    return app


def query_params_tutorial004() -> App:
    app = App()

    @app.get("/users/{user_id}/items/{item_id}")
    async def read_user_item(user_id: int, item_id: str, q: str | None = None, short: bool = False) -> dict[str, Any]:
        item: dict[str, Any] = {"item_id": item_id, "owner_id": user_id}
        if q:
            item.update({"q": q})
        if not short:
            item.update({"description": LONG_DESCRIPTION})
        return item

    return app


def query_params_tutorial005() -> App:
    app = App()

    @app.get("/items/{item_id}")
    async def read_user_item(item_id: str, needy: str) -> dict[str, Any]:
        return {"item_id": item_id, "needy": needy}

    return app


def query_params_tutorial006() -> App:
    app = App()

    @app.get("/items/{item_id}")
    async def read_user_item(item_id: str, needy: str, skip: int = 0, limit: int | None = None) -> dict[str, Any]:
        return {"item_id": item_id, "needy": needy, "skip": skip, "limit": limit}

    return app


@pytest.mark.parametrize(("url", "expected"), [
    ("/items/", FAKE_ITEMS_DB),
    ("/items/?skip=1", FAKE_ITEMS_DB[1:]),
    ("/items/?skip=1&limit=1", [{"item_name": "Bar"}]),
])
def test_tutorial001_defaults_and_slicing(url: str, expected: Any) -> None:
    with TestClient(query_params_tutorial001()) as client:
        response = client.get(url)
    assert response.status_code == 200
    assert response.json() == expected


def test_tutorial001_a_bad_int_is_422() -> None:
    with TestClient(query_params_tutorial001()) as client:
        response = client.get("/items/?limit=x")
    assert response.status_code == 422
    assert response.json() == {"detail": [int_parsing("x", "query", "limit")]}


@pytest.mark.parametrize(("url", "expected"), [
    ("/items/foo", {"item_id": "foo"}),
    ("/items/foo?q=bar", {"item_id": "foo", "q": "bar"}),
    ("/items/foo?q=", {"item_id": "foo"}),
])
def test_tutorial002_optional_query(url: str, expected: Any) -> None:
    with TestClient(query_params_tutorial002()) as client:
        response = client.get(url)
    assert response.status_code == 200
    assert response.json() == expected


@pytest.mark.parametrize(("url", "expected"), [
    ("/items/foo", {"item_id": "foo", "description": LONG_DESCRIPTION}),
    ("/items/foo?q=fooquery", {"item_id": "foo", "q": "fooquery", "description": LONG_DESCRIPTION}),
    ("/items/foo?q=fooquery&short=1", {"item_id": "foo", "q": "fooquery"}),
    ("/items/foo?short=True", {"item_id": "foo"}),
    ("/items/foo?short=yes", {"item_id": "foo"}),
    ("/items/foo?short=on", {"item_id": "foo"}),
    ("/items/foo?short=off", {"item_id": "foo", "description": LONG_DESCRIPTION}),
])
def test_tutorial003_bool_conversion(url: str, expected: Any) -> None:
    with TestClient(query_params_tutorial003()) as client:
        response = client.get(url)
    assert response.status_code == 200
    assert response.json() == expected


def test_tutorial003_a_bad_bool_is_422() -> None:
    with TestClient(query_params_tutorial003()) as client:
        response = client.get("/items/foo?short=maybe")
    assert response.status_code == 422
    assert response.json() == {"detail": [{
        "type": "bool_parsing", "loc": ["query", "short"],
        "msg": "Input should be a valid boolean, unable to interpret input", "input": "maybe",
    }]}


@pytest.mark.parametrize(("url", "status", "expected"), [
    ("/users/1/items/foo", 200, {"item_id": "foo", "owner_id": 1, "description": LONG_DESCRIPTION}),
    ("/users/1/items/foo?q=x&short=true", 200, {"item_id": "foo", "owner_id": 1, "q": "x"}),
    ("/users/x/items/foo", 422, {"detail": [int_parsing("x", "path", "user_id")]}),
])
def test_tutorial004_path_and_query_together(url: str, status: int, expected: Any) -> None:
    with TestClient(query_params_tutorial004()) as client:
        response = client.get(url)
    assert response.status_code == status
    assert response.json() == expected


def test_tutorial005_required_query() -> None:
    with TestClient(query_params_tutorial005()) as client:
        given = client.get("/items/foo?needy=very")
        absent = client.get("/items/foo")
    assert (given.status_code, given.json()) == (200, {"item_id": "foo", "needy": "very"})
    assert absent.status_code == 422
    assert absent.json() == {"detail": [missing("query", "needy")]}


@pytest.mark.parametrize(("url", "status", "expected"), [
    ("/items/foo?needy=very", 200, {"item_id": "foo", "needy": "very", "skip": 0, "limit": None}),
    ("/items/foo?needy=very&skip=a&limit=b", 422,
     {"detail": [int_parsing("a", "query", "skip"), int_parsing("b", "query", "limit")]}),
    ("/items/foo?skip=a&limit=b", 422, {"detail": [
        missing("query", "needy"), int_parsing("a", "query", "skip"), int_parsing("b", "query", "limit"),
    ]}),
])
def test_tutorial006_required_default_and_optional(url: str, status: int, expected: Any) -> None:
    with TestClient(query_params_tutorial006()) as client:
        response = client.get(url)
    assert response.status_code == status
    assert response.json() == expected


def test_tutorial006_over_a_real_socket(serve: Any) -> None:
    server = serve(query_params_tutorial006())
    with server.connect() as sock:
        sock.sendall(b"GET /items/foo?needy=very&skip=2 HTTP/1.1\r\nHost: x\r\n\r\n")
        response = read_response(sock)
    assert response.status == 200
    assert response.body == b'{"item_id":"foo","needy":"very","skip":2,"limit":null}'
