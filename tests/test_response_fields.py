"""``response_model_include`` / ``response_model_exclude``: the response model's fields that are sent."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
import pytest

from zigmund_fast import App, Router
from zigmund_fast.response_fields import field_names, pick_fields
from zigmund_fast.responses import HTMLResponse, JSONResponse
from zigmund_fast.testing import TestClient


class Sub(msgspec.Struct):
    a: int = 1


class Item(msgspec.Struct):
    name: str
    description: str | None = None
    price: float = 1.0
    tax: float | None = None
    sub: Sub = msgspec.field(default_factory=Sub)


class Renamed(msgspec.Struct, rename="camel"):
    item_name: str
    unit_price: float = 0.0


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0
    label: str = "p"


RAW = {"name": "Foo", "price": 50.2, "tax": 10.5, "sub": {"a": 3}, "secret": "dropped by the model"}


def app_with(**options: Any) -> App:
    app = App()
    app.get("/item", lambda: RAW, response_model=Item, **options)
    return app


@pytest.mark.parametrize(("options", "expected"), [
    ({"response_model_include": {"name", "description"}}, {"name": "Foo", "description": None}),
    ({"response_model_include": ["name", "sub"]}, {"name": "Foo", "sub": {"a": 3}}),
    ({"response_model_exclude": {"tax", "sub"}}, {"name": "Foo", "description": None, "price": 50.2}),
    ({"response_model_include": {"name", "tax"}, "response_model_exclude": {"tax"}}, {"name": "Foo"}),
    ({"response_model_include": {"name", "nope"}}, {"name": "Foo"}),
    ({"response_model_include": set()}, {}),
    ({"response_model_exclude": {"description"}, "response_model_exclude_none": True},
     {"name": "Foo", "price": 50.2, "tax": 10.5, "sub": {"a": 3}}),
])
def test_include_and_exclude_pick_top_level_fields(options: dict[str, Any], expected: Any) -> None:
    with TestClient(app_with(**options)) as client:
        response = client.get("/item")
    assert (response.status_code, response.json()) == (200, expected)


def test_with_exclude_unset() -> None:
    app = App()
    app.get("/item", lambda: {"name": "Foo", "price": 2}, response_model=Item,
            response_model_exclude_unset=True, response_model_exclude={"name"})
    with TestClient(app) as client:
        assert client.get("/item").json() == {"price": 2.0}


def test_a_return_annotation_is_the_model() -> None:
    app = App()

    @app.get("/point", response_model_exclude={"label"})
    async def point() -> Point:
        return Point(1, 2)

    with TestClient(app) as client:
        assert client.get("/point").json() == {"x": 1, "y": 2}


def test_an_optional_model_that_is_none() -> None:
    app = App()
    app.get("/maybe", lambda: None, response_model=Item | None, response_model_include={"name"})
    app.get("/some", lambda: RAW, response_model=Item | None, response_model_include={"name"})
    with TestClient(app) as client:
        assert client.get("/maybe").json() is None
        assert client.get("/some").json() == {"name": "Foo"}


def test_renamed_struct_fields_are_named_by_their_python_names() -> None:
    app = App()
    app.get("/r", lambda: {"itemName": "x", "unitPrice": 2.0}, response_model=Renamed,
            response_model_include={"item_name"})
    with TestClient(app) as client:
        assert client.get("/r").json() == {"itemName": "x"}


def test_with_a_response_class() -> None:
    app = App()
    app.get("/item", lambda: RAW, response_model=Item, response_class=JSONResponse,
            response_model_include={"name"}, status_code=201)
    with TestClient(app) as client:
        response = client.get("/item")
    assert (response.status_code, response.json()) == (201, {"name": "Foo"})


def test_router_routes_take_them_too() -> None:
    router = Router(prefix="/v1")
    router.get("/item", lambda: RAW, response_model=Item, response_model_exclude={"sub", "tax", "description"})
    app = App()
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/v1/item").json() == {"name": "Foo", "price": 50.2}


def test_a_pydantic_model() -> None:
    pydantic = pytest.importorskip("pydantic")

    class User(pydantic.BaseModel):
        name: str
        email: str
        password: str = "secret"

    app = App()
    app.get("/user", lambda: {"name": "n", "email": "e"}, response_model=User,
            response_model_exclude={"password"})
    app.get("/classed", lambda: {"name": "n", "email": "e"}, response_model=User, response_class=JSONResponse,
            response_model_include={"email"})
    with TestClient(app) as client:
        assert client.get("/user").json() == {"name": "n", "email": "e"}
        assert client.get("/classed").json() == {"email": "e"}


def test_unchanged_routes_keep_every_field() -> None:
    with TestClient(app_with()) as client:
        assert client.get("/item").json() == {"name": "Foo", "description": None, "price": 50.2, "tax": 10.5,
                                              "sub": {"a": 3}}


@pytest.mark.parametrize(("options", "message"), [
    ({"response_model_include": "name"}, r"must be a set of field names, got the string 'name'"),
    ({"response_model_exclude": {"sub": {"a"}}}, r"the nested dict form is not supported"),
    ({"response_model_include": {1}}, r"must hold field names \(strings\), got 1"),
    ({"response_model_include": 3}, r"must be a set of field names, got int"),
])
def test_bad_name_sets_are_refused_at_registration(options: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        App().get("/item", lambda: RAW, response_model=Item, **options)


def test_a_name_set_needs_a_model_with_fields() -> None:
    app = App()
    with pytest.raises(TypeError, match="need a response_model"):
        app.get("/plain", lambda: {"a": 1}, response_model_include={"a"})
    with pytest.raises(TypeError, match="a sequence"):
        app.get("/list", lambda: [RAW], response_model=list[Item], response_model_include={"name"})
    router = Router()
    router.get("/x", response_model_exclude={"a"}, response_class=HTMLResponse)(lambda: "")
    with pytest.raises(TypeError, match="need a response_model"):
        App().include_router(router)  # a router records routes; the App builds (and checks) them


def test_field_names_and_pick_fields() -> None:
    assert field_names(None, "response_model_include", "route") is None
    assert field_names(("a", "b", "a"), "response_model_include", "route") == frozenset({"a", "b"})
    assert pick_fields({"a": 1, "b": 2}, frozenset({"a", "b"}), frozenset({"b"})) == {"a": 1}
    assert pick_fields(None, frozenset({"a"}), None) is None
