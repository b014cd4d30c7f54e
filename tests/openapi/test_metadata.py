"""App-level OpenAPI metadata: ``info`` (summary, terms, contact, license) and tag metadata, as FastAPI emits them."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from zigmund_fast import App
from zigmund_fast.openapi.metadata import check_app_metadata, info_object
from zigmund_fast.testing import TestClient

CONTACT = {"name": "Support", "url": "https://example.com/help", "email": "help@example.com", "x-team": "api"}
LICENSE = {"name": "Apache 2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0.html"}
TAGS = [
    {"name": "users", "description": "Operations with users."},
    {"name": "items", "description": "Manage items.",
     "externalDocs": {"description": "More", "url": "https://example.com/items"}},
    {"name": "unused"},
]


def document_of(app: App) -> dict[str, Any]:
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    validate(document)
    return document


def test_full_info_in_fastapi_order() -> None:
    app = App(title="Shop", version="1.2", description="All of it", summary="A shop",
              terms_of_service="https://example.com/terms", contact=CONTACT, license_info=LICENSE)
    app.get("/items/", lambda: ["item"])
    info = document_of(app)["info"]
    assert info == {"title": "Shop", "summary": "A shop", "description": "All of it",
                    "termsOfService": "https://example.com/terms", "contact": CONTACT, "license": LICENSE,
                    "version": "1.2"}
    assert list(info) == ["title", "summary", "description", "termsOfService", "contact", "license", "version"]


def test_a_license_with_an_spdx_identifier() -> None:
    document = document_of(App(license_info={"name": "MIT", "identifier": "MIT"}))
    assert document["info"]["license"] == {"name": "MIT", "identifier": "MIT"}


def test_no_metadata_leaves_info_minimal_and_no_tags() -> None:
    document = document_of(App(title="T", version="0"))
    assert document["info"] == {"title": "T", "version": "0"}
    assert "tags" not in document


def test_tag_metadata_is_the_top_level_tags_list_as_given() -> None:
    app = App(openapi_tags=TAGS)
    app.get("/items/", lambda: ["item"], tags=["items"])
    app.get("/users/", lambda: ["user"], tags=["users"])
    document = document_of(app)
    assert document["tags"] == TAGS
    assert list(document) == ["openapi", "info", "paths", "tags"]


def test_the_document_does_not_share_the_apps_dicts() -> None:
    contact = {"name": "Support"}
    tags = [{"name": "a", "externalDocs": {"url": "https://example.com"}}]
    app = App(contact=contact, openapi_tags=tags)
    document = app.openapi()
    document["info"]["contact"]["name"] = "changed"
    document["tags"][0]["externalDocs"]["url"] = "changed"
    assert contact == {"name": "Support"}
    assert tags == [{"name": "a", "externalDocs": {"url": "https://example.com"}}]


def test_info_object_leaves_out_empty_values() -> None:
    assert info_object(title="t", version="1", summary="", contact={}) == {"title": "t", "version": "1"}


@pytest.mark.parametrize(("options", "error", "message"), [
    ({"summary": 1}, TypeError, r"App\(summary=...\) must be a string"),
    ({"terms_of_service": b"x"}, TypeError, r"App\(terms_of_service=...\) must be a string"),
    ({"contact": "me"}, TypeError, r"App\(contact=...\) must be a dict"),
    ({"contact": {"phone": "1"}}, ValueError, r"unknown key 'phone'; expected some of email, name, url"),
    ({"contact": {"name": 1}}, TypeError, r"'name' must be a string"),
    ({"license_info": {"url": "https://x"}}, ValueError, r"license_info=...\) needs a 'name'"),
    ({"license_info": {"name": "MIT", "url": "https://x", "identifier": "MIT"}}, ValueError, "not both"),
    ({"openapi_tags": {"name": "a"}}, TypeError, r"must be a list of dicts"),
    ({"openapi_tags": [{"description": "no name"}]}, ValueError, r"\[0\] needs a 'name'"),
    ({"openapi_tags": [{"name": "a"}, {"name": "a"}]}, ValueError, r"tag 'a' is listed twice"),
    ({"openapi_tags": [{"name": "a", "externalDocs": {"description": "d"}}]}, ValueError,
     r"\['externalDocs'\] needs a 'url'"),
    ({"openapi_tags": [{"name": "a", "docs": "x"}]}, ValueError, r"unknown key 'docs'"),
])
def test_bad_metadata_is_refused_when_the_app_is_made(options: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        App(**options)


def test_extensions_are_allowed() -> None:
    check_app_metadata(summary=None, terms_of_service=None, contact={"x-slack": "#api"},
                       license_info={"name": "MIT", "x-note": {"any": "value"}},
                       openapi_tags=[{"name": "a", "x-order": 1}])
