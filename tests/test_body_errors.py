"""JSON body validation errors in FastAPI's vocabulary, through the TestClient.

Every expected ``detail`` here is what FastAPI 0.165 (pydantic 2.14) answers for
the same request to the same model written with pydantic; the last tests
compare with pydantic itself when it is installed.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

import msgspec
import pytest

from zigmund_fast import (
    App,
    Body,
    Depends,
    Header,
    JSONResponse,
    Request,
    RequestValidationError,
)
from zigmund_fast.body_errors import BodyShape
from zigmund_fast.testing import TestClient

JSON = {"content-type": "application/json"}


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


class Offer(msgspec.Struct):
    name: str
    items: list[Item]


class Constrained(msgspec.Struct):
    gt: Annotated[float, msgspec.Meta(gt=0)] = 1
    ge: Annotated[int, msgspec.Meta(ge=2)] = 2
    lt: Annotated[float, msgspec.Meta(lt=1.5)] = 0
    mo: Annotated[int, msgspec.Meta(multiple_of=3)] = 0
    s: Annotated[str, msgspec.Meta(min_length=2, max_length=3, pattern="^a")] = "ab"
    items: Annotated[list[int], msgspec.Meta(min_length=1, max_length=2)] = msgspec.field(default_factory=lambda: [1])


class Lax(msgspec.Struct):
    count: int
    price: float
    flag: bool
    when: datetime
    day: date
    at: time
    wait: timedelta


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    a: int


class Cat(msgspec.Struct, tag_field="kind", tag="cat"):
    lives: int


class Dog(msgspec.Struct, tag_field="kind", tag="dog"):
    good: bool


class Color(enum.Enum):
    red = "red"
    green = "green"


@dataclasses.dataclass
class Point:
    x: int
    y: int


def make_app() -> App:
    app = App()

    @app.post("/items/")
    async def create_item(item: Item) -> Any:
        return {"name": item.name, "price": item.price, "tags": sorted(item.tags)}

    @app.put("/items/{item_id}")
    async def update_item(item_id: int, item: Item, q: int = 0) -> Any:
        return {"item_id": item_id}

    @app.post("/offers/")
    async def create_offer(offer: Offer) -> Any:
        return {"items": len(offer.items)}

    @app.post("/constrained/")
    async def constrained(value: Constrained) -> Any:
        return {"ok": True}

    @app.post("/lax/")
    async def lax(value: Lax) -> Any:
        return {"count": value.count, "price": value.price, "flag": value.flag, "when": value.when.isoformat(),
                "day": value.day.isoformat(), "at": value.at.isoformat(), "wait": value.wait.total_seconds()}

    @app.post("/strict/")
    async def strict(value: Strict) -> Any:
        return {"a": value.a}

    @app.post("/pets/")
    async def pets(pet: Cat | Dog) -> Any:
        return {"kind": type(pet).__name__}

    @app.post("/mixed/")
    async def mixed(values: list[int | str]) -> Any:
        return {"values": values}

    @app.post("/colors/")
    async def colors(values: list[Color], labels: dict[int, Literal["b", "a"]]) -> Any:
        return {"values": [c.value for c in values]}

    @app.post("/points/")
    async def points(points: list[Point]) -> Any:
        return {"points": len(points)}

    @app.post("/embedded/")
    async def embedded(count: Annotated[int, Body()], note: Annotated[str | None, Body()] = None,
                       image: Annotated[Image | None, Body()] = None) -> Any:
        return {"count": count, "note": note}

    @app.post("/waits/")
    async def waits(wait: Annotated[timedelta, Body()], start: Annotated[datetime, Body()]) -> Any:
        return {"wait": wait, "end": start + wait, "twice": [wait, wait * 2]}

    @app.post("/text/")
    async def text(value: Annotated[str, Body()]) -> Any:
        return {"value": value}

    return app


def post(path: str, body: bytes, headers: dict[str, str] | None = None, method: str = "POST") -> Any:
    with TestClient(make_app()) as client:
        return client.request(method, path, content=body, headers=JSON if headers is None else headers)


def detail(path: str, sent: Any) -> list[dict[str, Any]]:
    response = post(path, json.dumps(sent).encode())
    assert response.status_code == 422, response.content
    return response.json()["detail"]  # type: ignore[no-any-return]


def test_every_error_of_a_body_is_reported_at_once() -> None:
    assert detail("/items/", {"name": 3, "price": "abc", "tags": "x", "image": {"url": 1}}) == [
        {"type": "string_type", "loc": ["body", "name"], "msg": "Input should be a valid string", "input": 3},
        {"type": "float_parsing", "loc": ["body", "price"],
         "msg": "Input should be a valid number, unable to parse string as a number", "input": "abc"},
        {"type": "set_type", "loc": ["body", "tags"], "msg": "Input should be a valid set", "input": "x"},
        {"type": "string_type", "loc": ["body", "image", "url"], "msg": "Input should be a valid string", "input": 1},
        {"type": "missing", "loc": ["body", "image", "name"], "msg": "Field required", "input": {"url": 1}},
    ]


def test_nested_and_list_index_locations() -> None:
    sent = {"name": "o", "items": [{"name": "a", "price": 1}, {"price": "x", "image": {"url": "u"}}]}
    assert detail("/offers/", sent) == [
        {"type": "missing", "loc": ["body", "items", 1, "name"], "msg": "Field required",
         "input": {"price": "x", "image": {"url": "u"}}},
        {"type": "float_parsing", "loc": ["body", "items", 1, "price"],
         "msg": "Input should be a valid number, unable to parse string as a number", "input": "x"},
        {"type": "missing", "loc": ["body", "items", 1, "image", "name"], "msg": "Field required",
         "input": {"url": "u"}},
    ]


def test_a_body_of_the_wrong_shape() -> None:
    assert detail("/items/", [1]) == [{"type": "model_attributes_type", "loc": ["body"],
                                       "msg": "Input should be a valid dictionary or object to extract fields from",
                                       "input": [1]}]
    assert detail("/points/", {"x": 1}) == [{"type": "list_type", "loc": ["body"],
                                             "msg": "Input should be a valid list", "input": {"x": 1}}]
    assert detail("/points/", [1]) == [{"type": "dataclass_type", "loc": ["body", 0],
                                        "msg": "Input should be a dictionary or an instance of Point", "input": 1,
                                        "ctx": {"class_name": "Point"}}]


def test_json_null_is_validated_against_the_type() -> None:
    assert detail("/items/", None) == [{"type": "model_attributes_type", "loc": ["body"],
                                        "msg": "Input should be a valid dictionary or object to extract fields from",
                                        "input": None}]


def test_constraint_errors_carry_their_bound() -> None:
    sent = {"gt": 0, "ge": 1, "lt": 2, "mo": 4, "s": "bcde", "items": []}
    assert detail("/constrained/", sent) == [
        {"type": "greater_than", "loc": ["body", "gt"], "msg": "Input should be greater than 0", "input": 0,
         "ctx": {"gt": 0.0}},
        {"type": "greater_than_equal", "loc": ["body", "ge"], "msg": "Input should be greater than or equal to 2",
         "input": 1, "ctx": {"ge": 2}},
        {"type": "less_than", "loc": ["body", "lt"], "msg": "Input should be less than 1.5", "input": 2,
         "ctx": {"lt": 1.5}},
        {"type": "multiple_of", "loc": ["body", "mo"], "msg": "Input should be a multiple of 3", "input": 4,
         "ctx": {"multiple_of": 3}},
        {"type": "string_too_long", "loc": ["body", "s"], "msg": "String should have at most 3 characters",
         "input": "bcde", "ctx": {"max_length": 3}},
        {"type": "too_short", "loc": ["body", "items"], "msg": "List should have at least 1 item after validation, "
         "not 0", "input": [], "ctx": {"field_type": "List", "min_length": 1, "actual_length": 0}},
    ]
    assert detail("/constrained/", {"s": "bcd", "items": [1, 2, 3]}) == [
        {"type": "string_pattern_mismatch", "loc": ["body", "s"], "msg": "String should match pattern '^a'",
         "input": "bcd", "ctx": {"pattern": "^a"}},
        {"type": "too_long", "loc": ["body", "items"], "msg": "List should have at most 2 items after validation, "
         "not 3", "input": [1, 2, 3], "ctx": {"field_type": "List", "max_length": 2, "actual_length": 3}},
    ]


def test_unknown_fields_of_a_forbidding_struct() -> None:
    assert detail("/strict/", {"a": 1, "b": 2}) == [
        {"type": "extra_forbidden", "loc": ["body", "b"], "msg": "Extra inputs are not permitted", "input": 2},
    ]


def test_union_errors_are_reported_per_member() -> None:
    assert detail("/mixed/", [1, "a", 1.5]) == [
        {"type": "int_from_float", "loc": ["body", 2, "int"],
         "msg": "Input should be a valid integer, got a number with a fractional part", "input": 1.5},
        {"type": "string_type", "loc": ["body", 2, "str"], "msg": "Input should be a valid string", "input": 1.5},
    ]
    ok = post("/mixed/", b'[1, "2"]')
    assert (ok.status_code, ok.json()) == (200, {"values": [1, "2"]})  # "2" matches str as it is


def test_tagged_union_errors_name_the_tag() -> None:
    assert detail("/pets/", {"kind": "cat", "lives": "many"}) == [
        {"type": "int_parsing", "loc": ["body", "cat", "lives"],
         "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "many"},
    ]
    assert detail("/pets/", {"kind": "cow"}) == [
        {"type": "union_tag_invalid", "loc": ["body"],
         "msg": "Input tag 'cow' found using 'kind' does not match any of the expected tags: 'cat', 'dog'",
         "input": {"kind": "cow"}, "ctx": {"discriminator": "'kind'", "tag": "cow", "expected_tags": "'cat', 'dog'"}},
    ]
    assert detail("/pets/", {"lives": 9}) == [
        {"type": "union_tag_not_found", "loc": ["body"], "msg": "Unable to extract tag using discriminator 'kind'",
         "input": {"lives": 9}, "ctx": {"discriminator": "'kind'"}},
    ]


def test_enum_literal_and_dict_key_errors() -> None:
    assert detail("/colors/", {"values": ["red", "blue"], "labels": {"x": "a", "2": "c"}}) == [
        {"type": "enum", "loc": ["body", "values", 1], "msg": "Input should be 'red' or 'green'", "input": "blue",
         "ctx": {"expected": "'red' or 'green'"}},
        {"type": "int_parsing", "loc": ["body", "labels", "x", "[key]"],
         "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "x"},
        {"type": "literal_error", "loc": ["body", "labels", "2"], "msg": "Input should be 'b' or 'a'", "input": "c",
         "ctx": {"expected": "'b' or 'a'"}},  # in the declared order
    ]


def test_malformed_json_is_the_only_error_at_its_character_offset() -> None:
    body = '{"name": "éé", "price": x}'
    response = post("/items/x?q=y", body.encode(), method="PUT")
    assert response.status_code == 422
    assert response.json() == {"detail": [{"type": "json_invalid", "loc": ["body", body.index("x")],
                                           "msg": "JSON decode error", "input": {},
                                           "ctx": {"error": "Expecting value"}}]}


def test_body_that_is_not_utf8_is_a_400() -> None:
    response = post("/items/", b'{"name": "\xe9", "price": 1}')
    assert (response.status_code, response.json()) == (400, {"detail": "There was an error parsing the body"})


@pytest.mark.parametrize("headers", [{"content-type": "text/plain"}, {"content-type": "application/jsonx"}, {}])
def test_a_body_that_is_not_json_is_validated_as_text(headers: dict[str, str]) -> None:
    sent = b'{"name": "Foo", "price": 1}'
    response = post("/items/", sent, headers)
    assert (response.status_code, response.json()["detail"]) == (422, [
        {"type": "model_attributes_type", "loc": ["body"],
         "msg": "Input should be a valid dictionary or object to extract fields from", "input": sent.decode()},
    ])
    text = post("/text/", b"hello", headers)
    assert (text.status_code, text.json()) == (200, {"value": "hello"})


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/vnd.api+json",
                                          "APPLICATION/JSON"])
def test_json_media_types(content_type: str) -> None:
    response = post("/items/", b'{"name": "Foo", "price": 1}', {"content-type": content_type})
    assert (response.status_code, response.json()) == (200, {"name": "Foo", "price": 1.0, "tags": []})


def test_lax_inputs_are_accepted_as_fastapi_accepts_them() -> None:
    sent = {"count": " 1_000 ", "price": "3.5", "flag": "yes", "when": "2018-12-22", "day": "2018-12-22T00:00:00Z",
            "at": "15:30", "wait": "1 day, 1:00:00"}
    response = post("/lax/", json.dumps(sent).encode())
    assert (response.status_code, response.json()) == (200, {
        "count": 1000, "price": 3.5, "flag": True, "when": "2018-12-22T00:00:00", "day": "2018-12-22",
        "at": "15:30:00", "wait": 90000.0,
    })


def test_bad_dates_and_durations() -> None:
    sent = {"count": 1, "price": 1, "flag": 2, "when": "yesterday", "day": "2018-12-22T10:00:00", "at": "25:00",
            "wait": "x"}
    assert detail("/lax/", sent) == [
        {"type": "bool_parsing", "loc": ["body", "flag"], "msg": "Input should be a valid boolean, unable to "
         "interpret input", "input": 2},
        {"type": "datetime_from_date_parsing", "loc": ["body", "when"], "msg": "Input should be a valid datetime or "
         "date, input is too short", "input": "yesterday", "ctx": {"error": "input is too short"}},
        {"type": "date_from_datetime_inexact", "loc": ["body", "day"], "msg": "Datetimes provided to dates should "
         "have zero time - e.g. be exact dates", "input": "2018-12-22T10:00:00"},
        {"type": "time_parsing", "loc": ["body", "at"], "msg": "Input should be in a valid time format, hour value is "
         "outside expected range of 0-23", "input": "25:00", "ctx": {"error": "hour value is outside expected range "
                                                                        "of 0-23"}},
        {"type": "time_delta_parsing", "loc": ["body", "wait"], "msg": "Input should be a valid timedelta, invalid "
         "digit in duration", "input": "x", "ctx": {"error": "invalid digit in duration"}},
    ]


@pytest.mark.parametrize("wait", [300, 300.0, "PT5M", "00:05:00", "300"])
def test_timedelta_bodies_are_read_from_seconds_or_iso_and_answered_in_seconds(wait: Any) -> None:
    response = post("/waits/", json.dumps({"wait": wait, "start": "2018-12-22T14:00:00+00:00"}).encode())
    assert (response.status_code, response.json()) == (200, {
        "wait": 300.0, "end": "2018-12-22T14:05:00+00:00", "twice": [300.0, 600.0],
    })


def test_embedded_body_values() -> None:
    assert detail("/embedded/", {"count": None}) == [
        {"type": "int_type", "loc": ["body", "count"], "msg": "Input should be a valid integer", "input": None},
    ]
    assert detail("/embedded/", {"count": "x", "image": {"url": 1}}) == [
        {"type": "int_parsing", "loc": ["body", "count"],
         "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "x"},
        {"type": "string_type", "loc": ["body", "image", "url"], "msg": "Input should be a valid string", "input": 1},
        {"type": "missing", "loc": ["body", "image", "name"], "msg": "Field required", "input": {"url": 1}},
    ]
    # As in FastAPI: JSON that is no object leaves every embedded value missing, even optional ones.
    assert detail("/embedded/", [1]) == [
        {"type": "missing", "loc": ["body", "count"], "msg": "Field required", "input": None},
        {"type": "missing", "loc": ["body", "note"], "msg": "Field required", "input": None},
        {"type": "missing", "loc": ["body", "image"], "msg": "Field required", "input": None},
    ]
    as_text = post("/embedded/", b'{"count": 1}', {"content-type": "text/plain"})
    assert as_text.json()["detail"] == [{"type": "missing", "loc": ["body", "count"], "msg": "Field required",
                                         "input": None}]
    ok = post("/embedded/", b'{"count": "7", "note": null}')
    assert (ok.status_code, ok.json()) == (200, {"count": 7, "note": None})


def body_echo_app() -> App:
    app = App()

    @app.exception_handler(RequestValidationError)
    async def handler(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"errors": len(exc.errors()), "body": repr(exc.body)}, status_code=422)

    @app.put("/items/{item_id}")
    async def update(item_id: int, item: Item) -> Any:
        return {"ok": True}

    @app.get("/plain/{item_id}")
    async def plain(item_id: int) -> Any:
        return {"ok": True}

    async def token(x_token: Annotated[str, Header()]) -> str:
        return x_token

    @app.post("/guarded/")
    async def guarded(item: Item, token: str = Depends(token)) -> Any:
        return {"ok": True}

    return app


@pytest.mark.parametrize(("url", "body", "headers", "received"), [
    ("/items/x", b'{"name": "a", "price": 1}', JSON, {"name": "a", "price": 1}),  # the body itself was fine
    ("/items/1", b'{"name": 1}', JSON, {"name": 1}),
    ("/items/1", b'{"name": ', JSON, '{"name": '),
    ("/items/1", b'{"name": 1}', {"content-type": "text/plain"}, b'{"name": 1}'),
    ("/plain/x", b"", {}, None),
    ("/guarded/", b'{"price": "x"}', JSON, {"price": "x"}),  # through the dependency graph
])
def test_the_validation_error_holds_the_received_body(url: str, body: bytes, headers: dict[str, str],
                                                      received: Any) -> None:
    with TestClient(body_echo_app()) as client:
        method = client.get if url.startswith("/plain") else client.post if url == "/guarded/" else client.put
        response = method(url, content=body, headers=headers)
    assert (response.status_code, response.json()["body"]) == (422, repr(received))


def test_a_valid_body_is_one_msgspec_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> Any:
        raise AssertionError("the slow path ran for a valid body")

    monkeypatch.setattr(BodyShape, "validate", refuse)
    response = post("/items/", b'{"name": "Foo", "price": "50.5", "tags": ["b", "a"]}')
    assert (response.status_code, response.json()) == (200, {"name": "Foo", "price": 50.5, "tags": ["a", "b"]})


try:
    from pydantic import BaseModel
except ImportError:  # pydantic is optional
    BaseModel = None

if BaseModel is not None:
    class Model(BaseModel):  # type: ignore[misc, valid-type]
        name: str
        price: float


def test_pydantic_bodies_share_the_json_handling() -> None:
    if BaseModel is None:
        pytest.skip("pydantic is not installed")
    app = App()

    @app.post("/models/")
    async def create(model: Model) -> Any:
        return {"name": model.name}

    @app.post("/embedded/")
    async def embedded(model: Annotated[Model, Body(embed=True)]) -> Any:
        return {"name": model.name}

    with TestClient(app) as client:
        as_text = client.post("/models/", content=b'{"name": "a", "price": 1}', headers={"content-type": "text/plain"})
        malformed = client.post("/models/", content=b'{"name": "a",', headers=JSON)
        null = client.post("/models/", content=b"null", headers=JSON)
        nested = client.post("/embedded/", json={"model": {"price": "x"}})
        ok = client.post("/models/", json={"name": "a", "price": "1.5"})
    assert as_text.json()["detail"] == [{"type": "model_attributes_type", "loc": ["body"],
                                         "msg": "Input should be a valid dictionary or object to extract fields from",
                                         "input": '{"name": "a", "price": 1}'}]
    assert malformed.json()["detail"] == [{"type": "json_invalid", "loc": ["body", 13], "msg": "JSON decode error",
                                           "input": {}, "ctx": {"error": "Expecting property name enclosed in double "
                                                                         "quotes"}}]
    assert null.json()["detail"][0]["type"] == "model_attributes_type"
    assert [(e["type"], e["loc"]) for e in nested.json()["detail"]] == [
        ("missing", ["body", "model", "name"]), ("float_parsing", ["body", "model", "price"]),
    ]
    assert (ok.status_code, ok.json()) == (200, {"name": "a"})
