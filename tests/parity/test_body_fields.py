"""FastAPI tutorial, "Body - Fields": tutorial001 (field constraints and metadata on a model, embedded).

pydantic's ``Field(gt=0, max_length=300, ...)`` is msgspec's ``Annotated[..., Meta(...)]``.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from zigmund_fast import App, Body
from zigmund_fast.testing import TestClient

from ._helpers import assert_422


class Item(msgspec.Struct, kw_only=True):
    name: str
    description: Annotated[str, Meta(title="The description of the item", max_length=300)] | None = None
    price: Annotated[float, Meta(gt=0, description="The price must be greater than zero")]
    tax: float | None = None


def body_fields_tutorial001() -> App:
    app = App()

    @app.put("/items/{item_id}")
    async def update_item(item_id: int, item: Annotated[Item, Body(embed=True)]) -> dict[str, Any]:
        return {"item_id": item_id, "item": item}

    return app


def test_tutorial001_valid_items() -> None:
    with TestClient(body_fields_tutorial001()) as client:
        minimal = client.put("/items/5", json={"item": {"name": "Foo", "price": 3.0}})
        full = client.put("/items/5", json={"item": {"name": "Foo", "price": 3.0, "description": "Some Foo", "tax": 1}})
    assert (minimal.status_code, minimal.json()) == (
        200, {"item_id": 5, "item": {"name": "Foo", "description": None, "price": 3.0, "tax": None}},
    )
    assert (full.status_code, full.json()) == (
        200, {"item_id": 5, "item": {"name": "Foo", "description": "Some Foo", "price": 3.0, "tax": 1.0}},
    )


def test_tutorial001_price_must_be_greater_than_zero() -> None:
    with TestClient(body_fields_tutorial001()) as client:
        response = client.put("/items/5", json={"item": {"name": "Foo", "price": -3.0}})
    assert_422(response, [{"type": "greater_than", "loc": ["body", "item", "price"],
                           "msg": "Input should be greater than 0", "input": -3.0, "ctx": {"gt": 0.0}}])


def test_tutorial001_description_max_length() -> None:
    long = "x" * 301
    with TestClient(body_fields_tutorial001()) as client:
        response = client.put("/items/5", json={"item": {"name": "Foo", "price": 3.0, "description": long}})
    assert_422(response, [{"type": "string_too_long", "loc": ["body", "item", "description"],
                           "msg": "String should have at most 300 characters", "input": long,
                           "ctx": {"max_length": 300}}])


def test_tutorial001_field_metadata_reaches_the_schema() -> None:
    with TestClient(body_fields_tutorial001()) as client:
        schema = client.get("/openapi.json").json()
    properties = schema["components"]["schemas"]["Item"]["properties"]
    assert properties["price"]["exclusiveMinimum"] == 0
    assert properties["price"]["description"] == "The price must be greater than zero"
