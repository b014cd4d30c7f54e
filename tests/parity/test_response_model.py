"""FastAPI tutorial, "Response Model - Return Type": tutorial001, 003, 003_01, 003_02, 004, 005."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from zigmund_fast import App, JSONResponse, RedirectResponse, Response
from zigmund_fast.testing import TestClient

from ..conftest import read_response


class Item(msgspec.Struct, kw_only=True):
    name: str
    description: str | None = None
    price: float
    tax: float | None = None
    tags: list[str] = []


class UserIn(msgspec.Struct, kw_only=True):
    username: str
    password: str
    email: str
    full_name: str | None = None


class UserOut(msgspec.Struct, kw_only=True):
    username: str
    email: str
    full_name: str | None = None


class BaseUser(msgspec.Struct, kw_only=True):
    username: str
    email: str
    full_name: str | None = None


class UserInWithPassword(BaseUser, kw_only=True):
    password: str


def response_model_tutorial001() -> App:
    app = App()

    @app.post("/items/", response_model=Item)
    async def create_item(item: Item) -> Any:
        return item

    @app.get("/items/", response_model=list[Item])
    async def read_items() -> Any:
        return [{"name": "Portal Gun", "price": 42.0}, {"name": "Plumbus", "price": 32.0}]

    return app


def response_model_tutorial003() -> App:
    app = App()

    @app.post("/user/", response_model=UserOut)
    async def create_user(user: UserIn) -> Any:
        return user

    return app


def response_model_tutorial003_01() -> App:
    app = App()

    @app.post("/user/")
    async def create_user(user: UserInWithPassword) -> BaseUser:
        return user

    return app


def response_model_tutorial003_02() -> App:
    app = App()

    @app.get("/portal")
    async def get_portal(teleport: bool = False) -> Response:
        if teleport:
            return RedirectResponse(url="https://www.youtube.com/watch?v=dQw4w9WgXcQ")
        return JSONResponse(content={"message": "Here's your interdimensional portal."})

    return app


class DefaultsItem(msgspec.Struct, kw_only=True):
    name: str
    description: str | None = None
    price: float
    tax: float = 10.5
    tags: list[str] = []


EXCLUDE_UNSET_ITEMS: dict[str, dict[str, Any]] = {
    "foo": {"name": "Foo", "price": 50.2},
    "bar": {"name": "Bar", "description": "The bartenders", "price": 62, "tax": 20.2},
    "baz": {"name": "Baz", "description": None, "price": 50.2, "tax": 10.5, "tags": []},
}


def response_model_tutorial004() -> App:
    app = App()

    @app.get("/items/{item_id}", response_model=DefaultsItem, response_model_exclude_unset=True)
    async def read_item(item_id: str) -> Any:
        return EXCLUDE_UNSET_ITEMS[item_id]

    return app


class TaxedItem(msgspec.Struct, kw_only=True):
    name: str
    description: str | None = None
    price: float
    tax: float = 10.5


INCLUDE_ITEMS: dict[str, dict[str, Any]] = {
    "foo": {"name": "Foo", "price": 50.2},
    "bar": {"name": "Bar", "description": "The Bar fighters", "price": 62, "tax": 20.2},
    "baz": {"name": "Baz", "description": "There goes my baz", "price": 50.2, "tax": 10.5},
}


def response_model_tutorial005() -> App:
    app = App()

    @app.get("/items/{item_id}/name", response_model=TaxedItem, response_model_include={"name", "description"})
    async def read_item_name(item_id: str) -> Any:
        return INCLUDE_ITEMS[item_id]

    @app.get("/items/{item_id}/public", response_model=TaxedItem, response_model_exclude={"tax"})
    async def read_item_public_data(item_id: str) -> Any:
        return INCLUDE_ITEMS[item_id]

    return app


def test_tutorial001_model_fills_defaults_and_drops_extras() -> None:
    with TestClient(response_model_tutorial001()) as client:
        created = client.post("/items/", json={"name": "Foo", "price": 1.5, "extra": 1})
        listed = client.get("/items/")
    assert created.status_code == 200
    assert created.json() == {"name": "Foo", "description": None, "price": 1.5, "tax": None, "tags": []}
    assert listed.status_code == 200
    assert listed.json() == [
        {"name": "Portal Gun", "description": None, "price": 42.0, "tax": None, "tags": []},
        {"name": "Plumbus", "description": None, "price": 32.0, "tax": None, "tags": []},
    ]


def test_tutorial003_output_model_hides_the_password() -> None:
    with TestClient(response_model_tutorial003()) as client:
        response = client.post("/user/", json={"username": "foo", "password": "fighter", "email": "foo@example.com"})
    assert response.status_code == 200
    assert response.json() == {"username": "foo", "email": "foo@example.com", "full_name": None}


def test_tutorial003_01_return_annotation_filters_a_subclass() -> None:
    with TestClient(response_model_tutorial003_01()) as client:
        response = client.post("/user/", json={"username": "foo", "password": "fighter", "email": "foo@example.com",
                                               "full_name": "Grave Dohl"})
    assert response.status_code == 200
    assert response.json() == {"username": "foo", "email": "foo@example.com", "full_name": "Grave Dohl"}


def test_tutorial003_02_returning_responses_directly() -> None:
    with TestClient(response_model_tutorial003_02()) as client:
        portal = client.get("/portal")
        teleport = client.get("/portal?teleport=true")
    assert (portal.status_code, portal.json()) == (200, {"message": "Here's your interdimensional portal."})
    assert teleport.status_code == 307
    assert teleport.headers["location"] == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


@pytest.mark.parametrize(("item_id", "expected"), [
    ("foo", {"name": "Foo", "price": 50.2}),
    ("bar", {"name": "Bar", "description": "The bartenders", "price": 62.0, "tax": 20.2}),
    ("baz", {"name": "Baz", "description": None, "price": 50.2, "tax": 10.5, "tags": []}),
])
def test_tutorial004_exclude_unset(item_id: str, expected: Any) -> None:
    with TestClient(response_model_tutorial004()) as client:
        response = client.get(f"/items/{item_id}")
    assert response.status_code == 200
    assert response.json() == expected


def test_tutorial004_exclude_unset_over_a_real_socket(serve: Any) -> None:
    server = serve(response_model_tutorial004())
    with server.connect() as sock:
        sock.sendall(b"GET /items/foo HTTP/1.1\r\nHost: x\r\n\r\n")
        response = read_response(sock)
    assert response.status == 200
    assert msgspec.json.decode(response.body) == {"name": "Foo", "price": 50.2}


@pytest.mark.parametrize(("url", "expected"), [
    ("/items/bar/name", {"name": "Bar", "description": "The Bar fighters"}),
    ("/items/bar/public", {"name": "Bar", "description": "The Bar fighters", "price": 62.0}),
    ("/items/foo/public", {"name": "Foo", "description": None, "price": 50.2}),
])
def test_tutorial005_include_and_exclude(url: str, expected: Any) -> None:
    with TestClient(response_model_tutorial005()) as client:
        response = client.get(url)
    assert response.status_code == 200
    assert response.json() == expected
