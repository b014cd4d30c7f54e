"""FastAPI tutorial, "Metadata and Docs URLs": tutorial001 (app metadata), 002 (openapi_url),
003 (docs_url / redoc_url), 004 (tag metadata)."""

from __future__ import annotations

from typing import Any

from zigmund_fast import App
from zigmund_fast.testing import TestClient

DESCRIPTION = """
ChimichangApp API helps you do awesome stuff. 🚀

## Items

You can **read items**.

## Users

You will be able to:

* **Create users** (_not implemented_).
* **Read users** (_not implemented_).
"""
CONTACT = {"name": "Deadpoolio the Amazing", "url": "http://x-force.example.com/contact/",
           "email": "dp@x-force.example.com"}
LICENSE = {"name": "Apache 2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0.html"}
TAGS_METADATA = [
    {"name": "users", "description": "Operations with users. The **login** logic is also here."},
    {"name": "items", "description": "Manage items. So _fancy_ they have their own docs.",
     "externalDocs": {"description": "Items external docs", "url": "https://fastapi.tiangolo.com/"}},
]


def metadata_tutorial001() -> App:
    app = App(
        title="ChimichangApp",
        description=DESCRIPTION,
        summary="Deadpool's favorite app. Nuff said.",
        version="0.0.1",
        terms_of_service="http://example.com/terms/",
        contact=CONTACT,
        license_info=LICENSE,
    )

    @app.get("/items/")
    async def read_items() -> Any:
        return [{"name": "Katana"}]

    return app


def metadata_tutorial002() -> App:
    app = App(openapi_url="/api/v1/openapi.json")

    @app.get("/items/")
    async def read_items() -> Any:
        return [{"name": "Foo"}]

    return app


def metadata_tutorial003() -> App:
    app = App(docs_url="/documentation", redoc_url=None)

    @app.get("/items/")
    async def read_items() -> Any:
        return [{"name": "Foo"}]

    return app


def metadata_tutorial004() -> App:
    app = App(openapi_tags=TAGS_METADATA)

    @app.get("/users/", tags=["users"])
    async def get_users() -> Any:
        return [{"name": "Harry"}, {"name": "Ron"}]

    @app.get("/items/", tags=["items"])
    async def get_items() -> Any:
        return [{"name": "wand"}, {"name": "flying broom"}]

    return app


def test_tutorial001_app_metadata() -> None:
    with TestClient(metadata_tutorial001()) as client:
        items = client.get("/items/")
        schema = client.get("/openapi.json").json()
    assert (items.status_code, items.json()) == (200, [{"name": "Katana"}])
    assert schema["openapi"] == "3.1.0"
    assert schema["info"] == {
        "title": "ChimichangApp",
        "summary": "Deadpool's favorite app. Nuff said.",
        "description": DESCRIPTION,
        "termsOfService": "http://example.com/terms/",
        "contact": CONTACT,
        "license": LICENSE,
        "version": "0.0.1",
    }


def test_tutorial002_openapi_url() -> None:
    with TestClient(metadata_tutorial002()) as client:
        items = client.get("/items/")
        default_url = client.get("/openapi.json")
        moved = client.get("/api/v1/openapi.json")
        docs = client.get("/docs")
    assert (items.status_code, items.json()) == (200, [{"name": "Foo"}])
    assert (default_url.status_code, default_url.json()) == (404, {"detail": "Not Found"})
    assert moved.status_code == 200 and "/items/" in moved.json()["paths"]
    assert docs.status_code == 200 and "/api/v1/openapi.json" in docs.text


def test_tutorial003_docs_urls() -> None:
    with TestClient(metadata_tutorial003()) as client:
        documentation = client.get("/documentation")
        docs = client.get("/docs")
        redoc = client.get("/redoc")
        schema = client.get("/openapi.json")
    assert documentation.status_code == 200
    assert documentation.headers["content-type"] == "text/html; charset=utf-8"
    assert (docs.status_code, docs.json()) == (404, {"detail": "Not Found"})
    assert (redoc.status_code, redoc.json()) == (404, {"detail": "Not Found"})
    assert schema.status_code == 200


def test_tutorial004_tag_metadata() -> None:
    with TestClient(metadata_tutorial004()) as client:
        users = client.get("/users/")
        items = client.get("/items/")
        schema = client.get("/openapi.json").json()
    assert (users.status_code, users.json()) == (200, [{"name": "Harry"}, {"name": "Ron"}])
    assert (items.status_code, items.json()) == (200, [{"name": "wand"}, {"name": "flying broom"}])
    assert schema["tags"] == TAGS_METADATA
