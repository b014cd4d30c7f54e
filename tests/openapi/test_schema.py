"""The generated OpenAPI 3.1 document: valid, and carrying each route's metadata and parameters."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from openapi_spec_validator import validate

from zigmund_fast import App, BackgroundTasks, Header, Request
from zigmund_fast.testing import TestClient


class Item(msgspec.Struct):
    name: str
    price: float


def make_app() -> App:
    app = App(title="Shop", version="2.0", description="A shop")

    @app.post("/tutorial/notify", summary="Queue a notification", tags=["parity", "tutorial"])
    async def notify(req: Request, tasks: BackgroundTasks) -> dict[str, bool]:
        return {"queued": True}

    @app.get("/items/{item_id}", deprecated=True)
    async def read_item(item_id: int, q: str | None = None, limit: int = 10, x_token: str = Header("t")) -> Any:
        return {}

    @app.put("/items/{item_id}", status_code=201, operation_id="replace_item")
    async def replace_item(item_id: uuid.UUID, item: Item) -> Item:
        return item

    @app.get("/hidden", include_in_schema=False)
    async def hidden() -> None:
        return None

    return app


def openapi_of(app: App) -> dict[str, Any]:
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return response.json()  # type: ignore[no-any-return]


def test_document_is_valid_openapi_3_1() -> None:
    document = openapi_of(make_app())
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Shop", "version": "2.0", "description": "A shop"}


def test_operations_carry_summary_tags_and_ids() -> None:
    paths = openapi_of(make_app())["paths"]
    notify = paths["/tutorial/notify"]["post"]
    assert notify["summary"] == "Queue a notification"
    assert notify["tags"] == ["parity", "tutorial"]
    assert "parameters" not in notify and "422" not in notify["responses"]
    read = paths["/items/{item_id}"]["get"]
    assert read["summary"] == "Read Item"
    assert read["operationId"] == "read_item_items__item_id__get"
    assert read["deprecated"] is True
    assert paths["/items/{item_id}"]["put"]["operationId"] == "replace_item"
    assert "/hidden" not in paths and "/openapi.json" not in paths and "/docs" not in paths


def test_parameters_and_bodies() -> None:
    document = openapi_of(make_app())
    read = document["paths"]["/items/{item_id}"]["get"]
    params = {p["name"]: p for p in read["parameters"]}
    assert params["item_id"]["in"] == "path" and params["item_id"]["required"] is True
    assert params["item_id"]["schema"]["type"] == "integer"
    assert params["q"]["required"] is False and params["q"]["schema"]["type"] == "string"
    assert params["limit"]["schema"]["default"] == 10
    assert params["x-token"]["in"] == "header"
    assert read["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HTTPValidationError"
    }
    put = document["paths"]["/items/{item_id}"]["put"]
    assert put["parameters"][0]["schema"] == {"type": "string", "format": "uuid", "title": "Item Id"}
    assert put["requestBody"]["required"] is True
    assert put["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Item"}
    assert "201" in put["responses"]
    item = document["components"]["schemas"]["Item"]
    assert item["properties"]["price"]["type"] == "number"
    assert set(item["required"]) == {"name", "price"}


def test_openapi_can_be_disabled() -> None:
    app = App(openapi_url=None)
    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/docs").status_code == 404


def test_document_tracks_routes_added_later() -> None:
    app = App()
    with TestClient(app) as client:
        assert client.get("/openapi.json").json()["paths"] == {}
        app.get("/late", lambda: 1)
        assert "/late" in client.get("/openapi.json").json()["paths"]
