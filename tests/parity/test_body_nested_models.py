"""FastAPI tutorial, "Body - Nested Models": tutorial004 (set + sub-model), 007 (deeply nested),
008 (a bare list of models), 009 (``dict[int, float]``)."""

from __future__ import annotations

from typing import Any

import msgspec

from zigmund_fast import App
from zigmund_fast.testing import TestClient

from ._helpers import assert_422, float_parsing, int_parsing, missing


class Image(msgspec.Struct):
    url: str
    name: str


class Item(msgspec.Struct, kw_only=True):
    name: str
    description: str | None = None
    price: float
    tax: float | None = None
    tags: set[str] = set()
    image: Image | None = None


class OfferItem(msgspec.Struct, kw_only=True):
    name: str
    description: str | None = None
    price: float
    tax: float | None = None
    tags: set[str] = set()
    images: list[Image] | None = None


class Offer(msgspec.Struct, kw_only=True):
    name: str
    description: str | None = None
    price: float
    items: list[OfferItem]


def nested_models_tutorial004() -> App:
    app = App()

    @app.put("/items/{item_id}")
    async def update_item(item_id: int, item: Item) -> dict[str, Any]:
        return {"item_id": item_id, "item": item}

    return app


def nested_models_tutorial007() -> App:
    app = App()

    @app.post("/offers/")
    async def create_offer(offer: Offer) -> Offer:
        return offer

    return app


def nested_models_tutorial008() -> App:
    app = App()

    @app.post("/images/multiple/")
    async def create_multiple_images(images: list[Image]) -> list[Image]:
        return images

    return app


def nested_models_tutorial009() -> App:
    app = App()

    @app.post("/index-weights/")
    async def create_index_weights(weights: dict[int, float]) -> dict[int, float]:
        return weights

    return app


def test_tutorial004_set_is_deduplicated_and_sub_model_read() -> None:
    sent = {"name": "Foo", "price": 42.0, "tags": ["rock", "rock"],
            "image": {"url": "http://example.com/baz.jpg", "name": "The Foo live"}}
    with TestClient(nested_models_tutorial004()) as client:
        response = client.put("/items/5", json=sent)
    assert response.status_code == 200
    assert response.json() == {"item_id": 5, "item": {
        "name": "Foo", "description": None, "price": 42.0, "tax": None, "tags": ["rock"],
        "image": {"url": "http://example.com/baz.jpg", "name": "The Foo live"},
    }}


def test_tutorial004_errors_inside_the_sub_model() -> None:
    with TestClient(nested_models_tutorial004()) as client:
        no_name = client.put("/items/5", json={"name": "Foo", "price": 42.0,
                                               "image": {"url": "http://example.com/baz.jpg"}})
        not_a_set = client.put("/items/5", json={"name": "Foo", "price": 42.0, "tags": "rock"})
    assert_422(no_name, [{**missing("body", "image", "name"), "input": {"url": "http://example.com/baz.jpg"}}])
    assert_422(not_a_set, [{"type": "set_type", "loc": ["body", "tags"], "msg": "Input should be a valid set",
                            "input": "rock"}])


def test_tutorial007_deeply_nested() -> None:
    sent = {"name": "Foo", "price": 50.5, "items": [
        {"name": "Bar", "price": 1, "tags": ["x"], "images": [{"url": "http://a/b.png", "name": "b"}]},
    ]}
    with TestClient(nested_models_tutorial007()) as client:
        ok = client.post("/offers/", json=sent)
        bad = client.post("/offers/", json={"name": "Foo", "price": 50.5, "items": [
            {"name": "Bar", "price": 1, "images": [{"url": "http://a/b.png"}]},
        ]})
    assert ok.status_code == 200
    assert ok.json() == {"name": "Foo", "description": None, "price": 50.5, "items": [
        {"name": "Bar", "description": None, "price": 1.0, "tax": None, "tags": ["x"],
         "images": [{"url": "http://a/b.png", "name": "b"}]},
    ]}
    assert_422(bad, [{**missing("body", "items", 0, "images", 0, "name"), "input": {"url": "http://a/b.png"}}])


def test_tutorial008_a_bare_list_body() -> None:
    images = [{"url": "http://example.com/1.png", "name": "one"}, {"url": "http://example.com/2.png", "name": "two"}]
    with TestClient(nested_models_tutorial008()) as client:
        ok = client.post("/images/multiple/", json=images)
        missing_name = client.post("/images/multiple/", json=[{"url": "http://example.com/1.png"}])
        not_a_list = client.post("/images/multiple/", json={"url": "x", "name": "y"})
    assert (ok.status_code, ok.json()) == (200, images)
    assert_422(missing_name, [{**missing("body", 0, "name"), "input": {"url": "http://example.com/1.png"}}])
    assert_422(not_a_list, [{"type": "list_type", "loc": ["body"], "msg": "Input should be a valid list",
                             "input": {"url": "x", "name": "y"}}])


def test_tutorial009_int_keys_are_converted() -> None:
    with TestClient(nested_models_tutorial009()) as client:
        ok = client.post("/index-weights/", json={"2": 2.2, "3": 3.3})
        bad_key = client.post("/index-weights/", json={"foo": 2.2, "3": 3.3})
        bad_value = client.post("/index-weights/", json={"1": "x"})
    assert (ok.status_code, ok.json()) == (200, {"2": 2.2, "3": 3.3})
    assert_422(bad_key, [int_parsing("foo", "body", "foo", "[key]")])
    assert_422(bad_value, [float_parsing("x", "body", "1")])
