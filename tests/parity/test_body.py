"""FastAPI tutorial, "Request Body": tutorial001-004 (a model body, using it, with path and query)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from zigmund_fast import App
from zigmund_fast.testing import TestClient

from ..conftest import read_response
from ._helpers import assert_422, float_parsing, int_parsing, missing


class Item(msgspec.Struct, kw_only=True):
    name: str
    description: str | None = None
    price: float
    tax: float | None = None


def body_tutorial001() -> App:
    app = App()

    @app.post("/items/")
    async def create_item(item: Item) -> Item:
        return item

    return app


def body_tutorial002() -> App:
    app = App()

    @app.post("/items/")
    async def create_item(item: Item) -> dict[str, Any]:
        item_dict = msgspec.structs.asdict(item)
        if item.tax is not None:
            item_dict.update({"price_with_tax": item.price + item.tax})
        return item_dict

    return app


def body_tutorial003() -> App:
    app = App()

    @app.put("/items/{item_id}")
    async def update_item(item_id: int, item: Item) -> dict[str, Any]:
        return {"item_id": item_id, **msgspec.structs.asdict(item)}

    return app


def body_tutorial004() -> App:
    app = App()

    @app.put("/items/{item_id}")
    async def update_item(item_id: int, item: Item, q: str | None = None) -> dict[str, Any]:
        result = {"item_id": item_id, **msgspec.structs.asdict(item)}
        if q:
            result.update({"q": q})
        return result

    return app


FOO = {"name": "Foo", "description": None, "price": 50.5, "tax": None}


@pytest.mark.parametrize(("sent", "expected"), [
    ({"name": "Foo", "price": 50.5}, FOO),
    ({"name": "Foo", "price": "50.5"}, FOO),  # a numeric string is accepted (lax mode)
    ({"name": "Foo", "price": 50.5, "description": "Some Foo", "tax": 0.3},
     {"name": "Foo", "description": "Some Foo", "price": 50.5, "tax": 0.3}),
    ({"name": "Foo", "price": 50.5, "extra": 1}, FOO),  # unknown keys are ignored
])
def test_tutorial001_valid_bodies(sent: Any, expected: Any) -> None:
    with TestClient(body_tutorial001()) as client:
        response = client.post("/items/", json=sent)
    assert response.status_code == 200
    assert response.json() == expected


@pytest.mark.parametrize(("sent", "fastapi_detail"), [
    ({"name": "Foo", "price": "twenty"}, [float_parsing("twenty", "body", "price")]),
    ({"price": 50.5}, [{**missing("body", "name"), "input": {"price": 50.5}}]),
    ({"name": 3, "price": None}, [
        {"type": "string_type", "loc": ["body", "name"], "msg": "Input should be a valid string", "input": 3},
        {"type": "float_type", "loc": ["body", "price"], "msg": "Input should be a valid number", "input": None},
    ]),
    ([1], [{"type": "model_attributes_type", "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from", "input": [1]}]),
])
def test_tutorial001_invalid_bodies(sent: Any, fastapi_detail: list[Any]) -> None:
    with TestClient(body_tutorial001()) as client:
        response = client.post("/items/", json=sent)
    assert_422(response, fastapi_detail)


def test_tutorial001_no_body_is_missing() -> None:
    with TestClient(body_tutorial001()) as client:
        response = client.post("/items/", content=b"", headers={"content-type": "application/json"})
    assert_422(response, [missing("body")])


def test_tutorial001_a_null_body_is_not_an_object() -> None:
    """FastAPI 0.165 validates a JSON ``null`` against the model (it is not "missing")."""
    with TestClient(body_tutorial001()) as client:
        response = client.post("/items/", content=b"null", headers={"content-type": "application/json"})
    assert_422(response, [{"type": "model_attributes_type", "loc": ["body"],
                           "msg": "Input should be a valid dictionary or object to extract fields from",
                           "input": None}])


def test_tutorial001_broken_json_is_json_invalid() -> None:
    with TestClient(body_tutorial001()) as client:
        response = client.post("/items/", content=b"{not json", headers={"content-type": "application/json"})
    # loc carries the offset of the error in the document.
    assert_422(response, [{"type": "json_invalid", "loc": ["body", 1], "msg": "JSON decode error", "input": {},
                           "ctx": {"error": "Expecting property name enclosed in double quotes"}}])


@pytest.mark.parametrize("content_type", ["application/json", "application/geo+json", "application/json; charset=utf-8"])
def test_tutorial001_json_content_types_are_parsed(content_type: str) -> None:
    with TestClient(body_tutorial001()) as client:
        response = client.post("/items/", content=b'{"name": "Foo", "price": 50.5}',
                               headers={"content-type": content_type})
    assert response.status_code == 200
    assert response.json() == FOO


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/geo+json-seq", "application/not-really-json", "application/x-www-form-urlencoded", None,
])
def test_tutorial001_other_content_types_are_not_parsed_as_json(content_type: str | None) -> None:
    sent = '{"name": "Foo", "price": 50.5}'
    headers = {"content-type": content_type} if content_type else {}
    with TestClient(body_tutorial001()) as client:
        response = client.post("/items/", content=sent, headers=headers)
    assert_422(response, [{"type": "model_attributes_type", "loc": ["body"],
                           "msg": "Input should be a valid dictionary or object to extract fields from",
                           "input": sent}])


@pytest.mark.parametrize(("sent", "expected"), [
    ({"name": "Foo", "price": 50.5, "tax": 0.5}, {**FOO, "tax": 0.5, "price_with_tax": 51.0}),
    ({"name": "Foo", "price": 50.5}, FOO),
])
def test_tutorial002_computed_field(sent: Any, expected: Any) -> None:
    with TestClient(body_tutorial002()) as client:
        response = client.post("/items/", json=sent)
    assert response.status_code == 200
    assert response.json() == expected


def test_tutorial003_body_and_path() -> None:
    with TestClient(body_tutorial003()) as client:
        ok = client.put("/items/5", json={"name": "Foo", "price": 50.5})
        bad = client.put("/items/x", json={"name": "Foo"})
    assert (ok.status_code, ok.json()) == (200, {"item_id": 5, **FOO})
    assert_422(bad, [int_parsing("x", "path", "item_id"), {**missing("body", "price"), "input": {"name": "Foo"}}])


@pytest.mark.parametrize(("url", "expected"), [
    ("/items/5?q=bar", {"item_id": 5, **FOO, "q": "bar"}),
    ("/items/5", {"item_id": 5, **FOO}),
])
def test_tutorial004_body_path_and_query(url: str, expected: Any) -> None:
    with TestClient(body_tutorial004()) as client:
        response = client.put(url, json={"name": "Foo", "price": 50.5})
    assert response.status_code == 200
    assert response.json() == expected


def test_tutorial001_over_a_real_socket(serve: Any) -> None:
    body = b'{"name":"Foo","price":50.5}'
    server = serve(body_tutorial001())
    with server.connect() as sock:
        sock.sendall(b"POST /items/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        response = read_response(sock)
    assert response.status == 200
    assert msgspec.json.decode(response.body) == FOO
