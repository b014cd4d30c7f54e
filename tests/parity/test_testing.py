"""FastAPI tutorial, "Testing": tutorial001 (a first test), tutorial002 (extended testing: headers, 400/404/409),
and "Testing Dependencies with Overrides" (``app.dependency_overrides``)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest

from zigmund_fast import App, Depends, Header, HTTPException
from zigmund_fast.testing import TestClient

from ._helpers import assert_422, missing


def tutorial001_app() -> App:
    app = App()

    @app.get("/")
    async def read_main() -> dict[str, Any]:
        return {"msg": "Hello World"}

    return app


FAKE_SECRET_TOKEN = "coneofsilence"


class Item(msgspec.Struct, kw_only=True):
    id: str
    title: str
    description: str | None = None


def tutorial002_app() -> App:
    fake_db: dict[str, Any] = {
        "foo": {"id": "foo", "title": "Foo", "description": "There goes my hero"},
        "bar": {"id": "bar", "title": "Bar", "description": "The bartenders"},
    }
    app = App()

    @app.get("/items/{item_id}", response_model=Item)
    async def read_main(item_id: str, x_token: Annotated[str, Header()]) -> Any:
        if x_token != FAKE_SECRET_TOKEN:
            raise HTTPException(status_code=400, detail="Invalid X-Token header")
        if item_id not in fake_db:
            raise HTTPException(status_code=404, detail="Item not found")
        return fake_db[item_id]

    @app.post("/items/", response_model=Item)
    async def create_item(item: Item, x_token: Annotated[str, Header()]) -> Any:
        if x_token != FAKE_SECRET_TOKEN:
            raise HTTPException(status_code=400, detail="Invalid X-Token header")
        if item.id in fake_db:
            raise HTTPException(status_code=409, detail="Item already exists")
        fake_db[item.id] = item
        return item

    return app


async def common_parameters(q: str | None = None, skip: int = 0, limit: int = 100) -> dict[str, Any]:
    return {"q": q, "skip": skip, "limit": limit}


async def override_dependency(q: str | None = None) -> dict[str, Any]:
    return {"q": q, "skip": 5, "limit": 10}


def overrides_tutorial001_app() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(commons: Annotated[dict[str, Any], Depends(common_parameters)]) -> dict[str, Any]:
        return {"message": "Hello Items!", "params": commons}

    @app.get("/users/")
    async def read_users(commons: Annotated[dict[str, Any], Depends(common_parameters)]) -> dict[str, Any]:
        return {"message": "Hello Users!", "params": commons}

    return app


def test_tutorial001_read_main() -> None:
    client = TestClient(tutorial001_app())
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {"msg": "Hello World"}
    client.close()


TOKEN = {"X-Token": "coneofsilence"}


@pytest.mark.parametrize(("method", "url", "headers", "sent", "status", "expected"), [
    ("GET", "/items/foo", TOKEN, None, 200, {"id": "foo", "title": "Foo", "description": "There goes my hero"}),
    ("GET", "/items/foo", {"X-Token": "hailhydra"}, None, 400, {"detail": "Invalid X-Token header"}),
    ("GET", "/items/baz", TOKEN, None, 404, {"detail": "Item not found"}),
    ("POST", "/items/", TOKEN, {"id": "foobar", "title": "Foo Bar", "description": "The Foo Barters"}, 200,
     {"id": "foobar", "title": "Foo Bar", "description": "The Foo Barters"}),
    ("POST", "/items/", {"X-Token": "hailhydra"}, {"id": "bazz", "title": "Bazz", "description": "Drop the bazz"},
     400, {"detail": "Invalid X-Token header"}),
    ("POST", "/items/", TOKEN, {"id": "foo", "title": "The Foo ID Stealers", "description": "There goes my stealer"},
     409, {"detail": "Item already exists"}),
    ("GET", "/items/foo", {}, None, 422, {"detail": [missing("header", "x-token")]}),
])
def test_tutorial002_extended_testing(method: str, url: str, headers: dict[str, str], sent: Any, status: int,
                                      expected: Any) -> None:
    with TestClient(tutorial002_app()) as client:
        response = client.request(method, url, headers=headers, json=sent)
    assert (response.status_code, response.json()) == (status, expected)


def test_tutorial002_an_incomplete_item() -> None:
    with TestClient(tutorial002_app()) as client:
        response = client.post("/items/", headers=TOKEN, json={"id": "x"})
    assert_422(response, [{**missing("body", "title"), "input": {"id": "x"}}])


@pytest.mark.parametrize(("url", "expected"), [
    ("/items/", {"message": "Hello Items!", "params": {"q": None, "skip": 5, "limit": 10}}),
    ("/items/?q=foo", {"message": "Hello Items!", "params": {"q": "foo", "skip": 5, "limit": 10}}),
    ("/items/?q=foo&skip=100&limit=200", {"message": "Hello Items!", "params": {"q": "foo", "skip": 5, "limit": 10}}),
    ("/users/", {"message": "Hello Users!", "params": {"q": None, "skip": 5, "limit": 10}}),
    ("/users/?q=foo&skip=100&limit=200", {"message": "Hello Users!", "params": {"q": "foo", "skip": 5, "limit": 10}}),
])
def test_dependency_overrides(url: str, expected: Any) -> None:
    app = overrides_tutorial001_app()
    app.dependency_overrides[common_parameters] = override_dependency
    with TestClient(app) as client:
        response = client.get(url)
    assert (response.status_code, response.json()) == (200, expected)


def test_dependency_overrides_can_be_cleared() -> None:
    app = overrides_tutorial001_app()
    app.dependency_overrides[common_parameters] = override_dependency
    with TestClient(app) as client:
        overridden = client.get("/users/?skip=1")
        app.dependency_overrides = {}
        original = client.get("/users/?skip=1")
    assert overridden.json()["params"] == {"q": None, "skip": 5, "limit": 10}
    assert original.json()["params"] == {"q": None, "skip": 1, "limit": 100}
