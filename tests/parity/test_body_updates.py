"""FastAPI tutorial, "Body - Updates": tutorial001 (PUT replaces), tutorial002 (PATCH updates what was sent).

pydantic's ``model_dump(exclude_unset=True)`` / ``model_copy(update=...)`` become msgspec's ``UNSET``
defaults and ``msgspec.structs.replace``; ``jsonable_encoder`` of a Struct is ``msgspec.to_builtins``.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from zigmund_fast import App
from zigmund_fast.testing import TestClient


class Item(msgspec.Struct, kw_only=True):
    name: str | None = None
    description: str | None = None
    price: float | None = None
    tax: float = 10.5
    tags: list[str] = []


class ItemUpdate(msgspec.Struct, kw_only=True):
    """The same fields, but a field that was not sent stays ``UNSET`` (pydantic: not in ``model_fields_set``)."""

    name: str | None | msgspec.UnsetType = msgspec.UNSET
    description: str | None | msgspec.UnsetType = msgspec.UNSET
    price: float | None | msgspec.UnsetType = msgspec.UNSET
    tax: float | msgspec.UnsetType = msgspec.UNSET
    tags: list[str] | msgspec.UnsetType = msgspec.UNSET


def _fresh_items() -> dict[str, dict[str, Any]]:
    return {
        "foo": {"name": "Foo", "price": 50.2},
        "bar": {"name": "Bar", "description": "The bartenders", "price": 62, "tax": 20.2},
        "baz": {"name": "Baz", "description": None, "price": 50.2, "tax": 10.5, "tags": []},
    }


def body_updates_app(items: dict[str, dict[str, Any]]) -> App:
    """tutorial001 (GET + PUT) and tutorial002 (PATCH) share the same store."""
    app = App()

    @app.get("/items/{item_id}", response_model=Item)
    async def read_item(item_id: str) -> Any:
        return items[item_id]

    @app.put("/items/{item_id}", response_model=Item)
    async def update_item(item_id: str, item: Item) -> Any:
        update_item_encoded = msgspec.to_builtins(item)
        items[item_id] = update_item_encoded
        return update_item_encoded

    @app.patch("/items/{item_id}", response_model=Item)
    async def patch_item(item_id: str, item: ItemUpdate) -> Any:
        stored_item_model = msgspec.convert(items[item_id], Item)
        update_data = {k: v for k, v in msgspec.structs.asdict(item).items() if v is not msgspec.UNSET}
        updated_item = msgspec.structs.replace(stored_item_model, **update_data)
        items[item_id] = msgspec.to_builtins(updated_item)
        return updated_item

    return app


@pytest.mark.parametrize(("item_id", "expected"), [
    ("foo", {"name": "Foo", "description": None, "price": 50.2, "tax": 10.5, "tags": []}),
    ("baz", {"name": "Baz", "description": None, "price": 50.2, "tax": 10.5, "tags": []}),
])
def test_get_fills_defaults(item_id: str, expected: Any) -> None:
    with TestClient(body_updates_app(_fresh_items())) as client:
        response = client.get(f"/items/{item_id}")
    assert (response.status_code, response.json()) == (200, expected)


def test_tutorial001_put_replaces_the_whole_item() -> None:
    items = _fresh_items()
    replaced = {"name": "Barz", "description": None, "price": 3.0, "tax": 10.5, "tags": []}
    with TestClient(body_updates_app(items)) as client:
        put = client.put("/items/bar", json={"name": "Barz", "price": 3, "description": None})
        read_back = client.get("/items/bar")
    assert (put.status_code, put.json()) == (200, replaced)
    assert (read_back.status_code, read_back.json()) == (200, replaced)  # the tax of 20.2 is gone
    assert items["bar"] == replaced


def test_tutorial002_patch_keeps_what_was_not_sent() -> None:
    items = _fresh_items()
    with TestClient(body_updates_app(items)) as client:
        patched = client.patch("/items/bar", json={"name": "Barz", "price": 3})
        read_back = client.get("/items/bar")
        tagged = client.patch("/items/foo", json={"tags": ["x"]})
    barz = {"name": "Barz", "description": "The bartenders", "price": 3.0, "tax": 20.2, "tags": []}
    assert (patched.status_code, patched.json()) == (200, barz)
    assert (read_back.status_code, read_back.json()) == (200, barz)
    assert (tagged.status_code, tagged.json()) == (
        200, {"name": "Foo", "description": None, "price": 50.2, "tax": 10.5, "tags": ["x"]},
    )
    assert items["foo"] == {"name": "Foo", "description": None, "price": 50.2, "tax": 10.5, "tags": ["x"]}
