"""FastAPI tutorial, "Body - Multiple Parameters": tutorial001, 002, 003, 005 (optional body, two bodies,
a singular ``Body()`` value, ``Body(embed=True)``)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest

from zigmund_fast import App, Body, Path
from zigmund_fast.testing import TestClient

from ._helpers import assert_422, int_parsing, missing


class Item(msgspec.Struct, kw_only=True):
    name: str
    description: str | None = None
    price: float
    tax: float | None = None


class User(msgspec.Struct, kw_only=True):
    username: str
    full_name: str | None = None


FOO = {"name": "Foo", "description": None, "price": 50.5, "tax": None}
DAVE = {"username": "Dave", "full_name": None}


def multiple_params_tutorial001() -> App:
    app = App()

    @app.put("/items/{item_id}")
    async def update_item(
        item_id: Annotated[int, Path(title="The ID of the item to get", ge=0, le=1000)],
        q: str | None = None,
        item: Item | None = None,
    ) -> dict[str, Any]:
        results: dict[str, Any] = {"item_id": item_id}
        if q:
            results.update({"q": q})
        if item:
            results.update({"item": item})
        return results

    return app


def multiple_params_tutorial002() -> App:
    app = App()

    @app.put("/items/{item_id}")
    async def update_item(item_id: int, item: Item, user: User) -> dict[str, Any]:
        return {"item_id": item_id, "item": item, "user": user}

    return app


def multiple_params_tutorial003() -> App:
    app = App()

    @app.put("/items/{item_id}")
    async def update_item(item_id: int, item: Item, user: User, importance: Annotated[int, Body()]) -> Any:
        return {"item_id": item_id, "item": item, "user": user, "importance": importance}

    return app


def multiple_params_tutorial005() -> App:
    app = App()

    @app.put("/items/{item_id}")
    async def update_item(item_id: int, item: Annotated[Item, Body(embed=True)]) -> dict[str, Any]:
        return {"item_id": item_id, "item": item}

    return app


def test_tutorial001_optional_body() -> None:
    with TestClient(multiple_params_tutorial001()) as client:
        full = client.put("/items/5?q=bar", json={"name": "Foo", "price": 50.5})
        no_body = client.put("/items/5?q=bar")
        bare = client.put("/items/5")
        invalid = client.put("/items/5", json={"price": 1})
    assert (full.status_code, full.json()) == (200, {"item_id": 5, "q": "bar", "item": FOO})
    assert (no_body.status_code, no_body.json()) == (200, {"item_id": 5, "q": "bar"})
    assert (bare.status_code, bare.json()) == (200, {"item_id": 5})
    assert_422(invalid, [{**missing("body", "name"), "input": {"price": 1}}])


def test_tutorial002_two_bodies_are_keys_of_one_object() -> None:
    with TestClient(multiple_params_tutorial002()) as client:
        response = client.put("/items/5", json={"item": {"name": "Foo", "price": 50.5}, "user": {"username": "Dave"}})
    assert response.status_code == 200
    assert response.json() == {"item_id": 5, "item": FOO, "user": DAVE}


@pytest.mark.parametrize(("sent", "fastapi_detail"), [
    ({"item": {"name": "Foo", "price": 50.5}}, [missing("body", "user")]),
    ({"name": "Foo", "price": 50.5}, [missing("body", "item"), missing("body", "user")]),
    (None, [missing("body", "item"), missing("body", "user")]),
])
def test_tutorial002_missing_bodies(sent: Any, fastapi_detail: list[Any]) -> None:
    with TestClient(multiple_params_tutorial002()) as client:
        response = client.put("/items/5", json=sent)
    assert_422(response, fastapi_detail)


def test_tutorial003_singular_body_value() -> None:
    sent: dict[str, Any] = {"item": {"name": "Foo", "price": 50.5}, "user": {"username": "Dave"}}
    with TestClient(multiple_params_tutorial003()) as client:
        ok = client.put("/items/5", json={**sent, "importance": 5})
        bad = client.put("/items/5", json={**sent, "importance": "x"})
        absent = client.put("/items/5", json=sent)
    assert (ok.status_code, ok.json()) == (200, {"item_id": 5, "item": FOO, "user": DAVE, "importance": 5})
    assert_422(bad, [int_parsing("x", "body", "importance")])
    assert_422(absent, [missing("body", "importance")])


def test_tutorial005_embedded_body() -> None:
    with TestClient(multiple_params_tutorial005()) as client:
        ok = client.put("/items/5", json={"item": {"name": "Foo", "price": 50.5}})
        not_embedded = client.put("/items/5", json={"name": "Foo", "price": 50.5})
        inner_missing = client.put("/items/5", json={"item": {"name": "Foo"}})
        no_body = client.put("/items/5")
    assert (ok.status_code, ok.json()) == (200, {"item_id": 5, "item": FOO})
    assert_422(not_embedded, [missing("body", "item")])
    assert_422(inner_missing, [{**missing("body", "item", "price"), "input": {"name": "Foo"}}])
    assert_422(no_body, [missing("body", "item")])
