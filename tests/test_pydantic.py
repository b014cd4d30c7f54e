"""pydantic models as request bodies (optional: skipped when pydantic is not installed)."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

pydantic = pytest.importorskip("pydantic")

from zigmund_fast import App, Body  # noqa: E402
from zigmund_fast.testing import TestClient  # noqa: E402


class Image(pydantic.BaseModel):
    url: str
    name: str


class Item(pydantic.BaseModel):
    name: str
    price: float = pydantic.Field(gt=0)
    tags: list[str] = []
    image: Image | None = None


def make_app() -> App:
    app = App()

    @app.post("/items")
    async def create(item: Item) -> dict[str, Any]:
        return {"type": type(item).__name__, **item.model_dump()}

    @app.put("/items/{item_id}")
    async def update(item_id: int, item: Annotated[Item, Body(embed=True)], note: str = Body("")) -> dict[str, Any]:
        return {"item_id": item_id, "name": item.name, "note": note}

    return app


def test_a_pydantic_body_is_validated_into_the_model() -> None:
    with TestClient(make_app()) as client:
        response = client.post("/items", json={"name": "pen", "price": 2.5, "image": {"url": "u", "name": "n"}})
    assert response.status_code == 200
    assert response.json() == {"type": "Item", "name": "pen", "price": 2.5, "tags": [],
                               "image": {"url": "u", "name": "n"}}


def test_pydantic_errors_are_fastapi_shaped_422s() -> None:
    with TestClient(make_app()) as client:
        response = client.post("/items", json={"price": -1, "image": {"url": "u"}})
        embedded = client.put("/items/3", json={"item": {"name": "x", "price": 0}})
        invalid_json = client.post("/items", content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 422
    found = {(tuple(e["loc"]), e["type"]) for e in response.json()["detail"]}
    assert found == {(("body", "name"), "missing"), (("body", "price"), "greater_than"),
                     (("body", "image", "name"), "missing")}
    price = next(e for e in response.json()["detail"] if e["type"] == "greater_than")
    assert price["ctx"] == {"gt": 0} and price["input"] == -1
    assert embedded.status_code == 422
    assert [e["loc"] for e in embedded.json()["detail"]] == [["body", "item", "price"]]
    assert invalid_json.status_code == 422 and invalid_json.json()["detail"][0]["type"] == "json_invalid"


def test_pydantic_models_are_in_the_openapi_components() -> None:
    from openapi_spec_validator import validate

    document = make_app().openapi()
    validate(document)
    body = document["paths"]["/items"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Item"}
    schemas = document["components"]["schemas"]
    assert schemas["Item"]["properties"]["price"]["exclusiveMinimum"] == 0 and "Image" in schemas
