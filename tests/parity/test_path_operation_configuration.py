"""FastAPI tutorial, "Path Operation Configuration": tutorial001-006 and 002b (status code, tags incl. an
Enum, summary, description, docstring description, response_description, deprecated): requests and OpenAPI."""

from __future__ import annotations

from enum import Enum
from typing import Any

import msgspec

from zigmund_fast import App
from zigmund_fast.testing import TestClient


class Item(msgspec.Struct, kw_only=True):
    name: str
    description: str | None = None
    price: float
    tax: float | None = None
    tags: set[str] = set()


FOO_OUT = {"name": "Foo", "description": None, "price": 42.0, "tax": None, "tags": []}
DOCSTRING_DESCRIPTION = (
    "Create an item with all the information:\n\n"
    "- **name**: each item must have a name\n"
    "- **description**: a long description\n"
    "- **price**: required\n"
    "- **tax**: if the item doesn't have tax, you can omit this\n"
    "- **tags**: a set of unique tag strings for this item"
)


def path_operation_configuration_tutorial001() -> App:
    app = App()

    @app.post("/items/", response_model=Item, status_code=201)
    async def create_item(item: Item) -> Any:
        return item

    return app


def path_operation_configuration_tutorial002() -> App:
    app = App()

    @app.post("/items/", response_model=Item, tags=["items"])
    async def create_item(item: Item) -> Any:
        return item

    @app.get("/items/", tags=["items"])
    async def read_items() -> Any:
        return [{"name": "Foo", "price": 42}]

    @app.get("/users/", tags=["users"])
    async def read_users() -> Any:
        return [{"username": "johndoe"}]

    return app


class Tags(Enum):
    items = "items"
    users = "users"


def path_operation_configuration_tutorial002b() -> App:
    app = App()

    @app.get("/items/", tags=[Tags.items])
    async def get_items() -> Any:
        return ["Portal gun", "Plumbus"]

    @app.get("/users/", tags=[Tags.users])
    async def read_users() -> Any:
        return ["Rick", "Morty"]

    return app


def path_operation_configuration_tutorial003() -> App:
    app = App()

    @app.post("/items/", response_model=Item, summary="Create an item",
              description="Create an item with all the information, name, description, price, tax and a set of "
                          "unique tags")
    async def create_item(item: Item) -> Any:
        return item

    return app


def path_operation_configuration_tutorial004() -> App:
    app = App()

    @app.post("/items/", response_model=Item, summary="Create an item")
    async def create_item(item: Item) -> Any:
        """
        Create an item with all the information:

        - **name**: each item must have a name
        - **description**: a long description
        - **price**: required
        - **tax**: if the item doesn't have tax, you can omit this
        - **tags**: a set of unique tag strings for this item
        """
        return item

    return app


def path_operation_configuration_tutorial005() -> App:
    app = App()

    @app.post("/items/", response_model=Item, summary="Create an item", response_description="The created item")
    async def create_item(item: Item) -> Any:
        """
        Create an item with all the information:

        - **name**: each item must have a name
        - **description**: a long description
        - **price**: required
        - **tax**: if the item doesn't have tax, you can omit this
        - **tags**: a set of unique tag strings for this item
        """
        return item

    return app


def path_operation_configuration_tutorial006() -> App:
    app = App()

    @app.get("/items/", tags=["items"])
    async def read_items() -> Any:
        return [{"name": "Foo", "price": 42}]

    @app.get("/users/", tags=["users"])
    async def read_users() -> Any:
        return [{"username": "johndoe"}]

    @app.get("/elements/", tags=["items"], deprecated=True)
    async def read_elements() -> Any:
        return [{"item_id": "Foo"}]

    return app


def _operation(client: TestClient, path: str, method: str) -> dict[str, Any]:
    return client.get("/openapi.json").json()["paths"][path][method]  # type: ignore[no-any-return]


def test_tutorial001_status_code_and_response_model() -> None:
    with TestClient(path_operation_configuration_tutorial001()) as client:
        response = client.post("/items/", json={"name": "Foo", "price": 42})
        operation = _operation(client, "/items/", "post")
    assert (response.status_code, response.json()) == (201, FOO_OUT)
    assert sorted(operation["responses"]) == ["201", "422"]


def test_tutorial002_tags() -> None:
    with TestClient(path_operation_configuration_tutorial002()) as client:
        created = client.post("/items/", json={"name": "Foo", "price": 42})
        items = client.get("/items/")
        users = client.get("/users/")
        schema = client.get("/openapi.json").json()
    assert (created.status_code, created.json()) == (200, FOO_OUT)
    assert (items.status_code, items.json()) == (200, [{"name": "Foo", "price": 42}])
    assert (users.status_code, users.json()) == (200, [{"username": "johndoe"}])
    assert schema["paths"]["/items/"]["post"]["tags"] == ["items"]
    assert schema["paths"]["/items/"]["get"]["tags"] == ["items"]
    assert schema["paths"]["/users/"]["get"]["tags"] == ["users"]


def test_tutorial002b_enum_tags() -> None:
    with TestClient(path_operation_configuration_tutorial002b()) as client:
        items = client.get("/items/")
        users = client.get("/users/")
        schema = client.get("/openapi.json").json()
    assert (items.status_code, items.json()) == (200, ["Portal gun", "Plumbus"])
    assert (users.status_code, users.json()) == (200, ["Rick", "Morty"])
    assert schema["paths"]["/items/"]["get"]["tags"] == ["items"]
    assert schema["paths"]["/users/"]["get"]["tags"] == ["users"]


def test_tutorial003_summary_and_description() -> None:
    with TestClient(path_operation_configuration_tutorial003()) as client:
        response = client.post("/items/", json={"name": "Foo", "price": 42})
        operation = _operation(client, "/items/", "post")
    assert (response.status_code, response.json()) == (200, FOO_OUT)
    assert operation["summary"] == "Create an item"
    assert operation["description"] == (
        "Create an item with all the information, name, description, price, tax and a set of unique tags"
    )


def test_tutorial004_docstring_is_the_description() -> None:
    with TestClient(path_operation_configuration_tutorial004()) as client:
        response = client.post("/items/", json={"name": "Foo", "price": 42})
        operation = _operation(client, "/items/", "post")
    assert (response.status_code, response.json()) == (200, FOO_OUT)
    assert operation["summary"] == "Create an item"
    assert operation["description"] == DOCSTRING_DESCRIPTION


def test_tutorial005_response_description() -> None:
    with TestClient(path_operation_configuration_tutorial005()) as client:
        response = client.post("/items/", json={"name": "Foo", "price": 42})
        operation = _operation(client, "/items/", "post")
    assert (response.status_code, response.json()) == (200, FOO_OUT)
    assert operation["responses"]["200"]["description"] == "The created item"
    assert operation["description"] == DOCSTRING_DESCRIPTION


def test_tutorial006_deprecated() -> None:
    with TestClient(path_operation_configuration_tutorial006()) as client:
        elements = client.get("/elements/")
        schema = client.get("/openapi.json").json()
    assert (elements.status_code, elements.json()) == (200, [{"item_id": "Foo"}])
    assert schema["paths"]["/elements/"]["get"]["deprecated"] is True
    assert "deprecated" not in schema["paths"]["/items/"]["get"]
    assert schema["paths"]["/elements/"]["get"]["tags"] == ["items"]
