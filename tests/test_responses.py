"""Response classes, cookies, the ``response: Response`` parameter, response_model and response_class,
generator handlers, and the OpenAPI they produce (in-process; the wire-level streaming tests are in
``server/test_streaming.py``).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import AsyncIterator, Iterator
from typing import TypedDict

import msgspec
import pydantic
import pytest

from zigmund_fast import (
    App,
    BackgroundTasks,
    EventSourceResponse,
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    ServerSentEvent,
    StreamingResponse,
)
from zigmund_fast.fileresponse import parse_range_header
from zigmund_fast.sse import format_event
from zigmund_fast.testing import TestClient

HTTP_DATE = r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT"


class Item(msgspec.Struct):
    name: str
    price: float = 1.0
    tax: float | None = None


@dataclasses.dataclass
class ItemData:
    name: str
    price: float = 2.0


class ItemDict(TypedDict):
    name: str


class ItemModel(pydantic.BaseModel):
    name: str
    price: float = 1.0
    tax: float | None = None


@pytest.fixture
def app() -> App:
    return App()


# Response classes


def test_response_classes_set_their_media_types(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    app.get("/json", lambda: JSONResponse({"a": [1, 2]}, status_code=201, headers={"x-one": "1"}))
    app.get("/html", lambda: HTMLResponse("<b>hi</b>"))
    app.get("/text", lambda: PlainTextResponse("hi", status_code=202))
    client = client_for(app)
    response = client.get("/json")
    assert (response.status_code, response.content) == (201, b'{"a":[1,2]}')
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-one"] == "1"
    assert client.get("/html").headers["content-type"] == "text/html; charset=utf-8"
    text = client.get("/text")
    assert (text.status_code, text.text, text.headers["content-type"]) == (202, "hi", "text/plain; charset=utf-8")


def test_redirect_response_quotes_the_location(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    app.get("/old", lambda: RedirectResponse("/new path?q=a b"))
    app.get("/moved", lambda: RedirectResponse("https://example.com/x", status_code=301))
    client = client_for(app)
    response = client.get("/old")
    assert response.status_code == 307
    assert response.headers["location"] == "/new%20path?q=a%20b"
    assert response.content == b""
    assert client.get("/moved").status_code == 301


def test_a_subclass_may_declare_its_media_type_as_starlette_does(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    class XMLResponse(Response):
        media_type = "application/xml"

    app.get("/xml", lambda: XMLResponse(b"<a/>"))
    response = client_for(app).get("/xml")
    assert response.headers["content-type"] == "application/xml"
    assert response.content == b"<a/>"


def test_streaming_response_rejects_a_single_body() -> None:
    with pytest.raises(TypeError, match="use Response for a complete body"):
        StreamingResponse(b"whole body")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="iterable"):
        StreamingResponse(42)  # type: ignore[arg-type]


def test_streamed_and_file_responses_are_collected_by_the_test_client(app: App, client_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "notes.txt"
    path.write_text("0123456789")

    async def chunks() -> AsyncIterator[str]:
        yield "a"
        yield "b"

    app.get("/stream", lambda: StreamingResponse(chunks()))
    app.get("/file", lambda: FileResponse(path, filename="notes.txt"))
    client = client_for(app)
    assert client.get("/stream").content == b"ab"
    file = client.get("/file", headers={"range": "bytes=2-4"})
    assert (file.status_code, file.content) == (206, b"234")
    assert file.headers["content-type"] == "text/plain; charset=utf-8"
    assert file.headers["content-disposition"] == 'attachment; filename="notes.txt"'


# Cookies (formatted as Starlette formats them)


def test_set_cookie_defaults() -> None:
    response = Response()
    response.set_cookie("a", "b")
    assert response.headers.items() == [("set-cookie", "a=b; Path=/; SameSite=lax")]


def test_set_cookie_with_every_attribute() -> None:
    response = Response()
    response.set_cookie("k", "v w", max_age=10, expires=20, path="/p", domain="ex.com", secure=True, httponly=True,
                        samesite="strict", partitioned=True)
    value = response.headers["set-cookie"]
    assert re.fullmatch(
        rf'k="v w"; Domain=ex.com; expires={HTTP_DATE}; HttpOnly; Max-Age=10; Path=/p; SameSite=strict; Secure; '
        r"Partitioned", value,
    ), value


def test_set_cookie_with_a_datetime_and_no_path_or_samesite() -> None:
    response = Response()
    response.set_cookie("d", "x", expires=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC), path=None,
                        samesite=None)
    assert response.headers["set-cookie"] == "d=x; expires=Tue, 01 Jan 2030 00:00:00 GMT"


def test_delete_cookie_expires_it_now() -> None:
    response = Response()
    response.delete_cookie("gone")
    assert re.fullmatch(rf'gone=""; expires={HTTP_DATE}; Max-Age=0; Path=/; SameSite=lax',
                        response.headers["set-cookie"])


def test_bad_cookie_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="samesite"):
        Response().set_cookie("a", "b", samesite="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="invalid cookie name"):
        Response().set_cookie("a;b", "c")


def test_several_cookies_are_separate_headers(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    def login() -> Response:
        response = JSONResponse({"ok": True})
        response.set_cookie("session", "abc", httponly=True)
        response.set_cookie("theme", "dark")
        return response

    app.post("/login", login)
    response = client_for(app).post("/login")
    assert response.headers.getlist("set-cookie") == [
        "session=abc; HttpOnly; Path=/; SameSite=lax", "theme=dark; Path=/; SameSite=lax",
    ]


# The `response: Response` parameter


def test_response_parameter_sets_status_headers_and_cookies(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    @app.post("/items")
    async def create(response: Response, tasks: BackgroundTasks) -> dict[str, int]:
        response.status_code = 201
        response.headers["x-created"] = "yes"
        response.set_cookie("last", "1")
        return {"id": 1}

    response = client_for(app).post("/items")
    assert response.status_code == 201
    assert response.json() == {"id": 1}
    assert response.headers["x-created"] == "yes"
    assert response.headers["set-cookie"] == "last=1; Path=/; SameSite=lax"


def test_response_parameter_without_changes_keeps_the_route_status(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    @app.get("/plain", status_code=202)
    def plain(response: Response) -> str:
        return "text"

    response = client_for(app).get("/plain")
    assert (response.status_code, response.json(), response.headers["content-type"]) == (
        202, "text", "application/json")


def test_a_returned_response_ignores_the_parameter_as_in_fastapi(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    @app.get("/own")
    async def own(response: Response) -> Response:
        response.headers["x-lost"] = "1"
        response.status_code = 202
        return JSONResponse({"x": 1})

    response = client_for(app).get("/own")
    assert response.status_code == 200
    assert "x-lost" not in response.headers


# response_model


def test_response_model_drops_extra_fields_and_fills_defaults(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    @app.get("/item", response_model=Item)
    async def item() -> dict[str, object]:
        return {"name": "n", "secret": "hidden", "price": "3"}

    assert client_for(app).get("/item").json() == {"name": "n", "price": 3.0, "tax": None}


def test_response_model_exclude_unset_and_none(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    app.get("/unset", lambda: {"name": "n", "extra": 1}, response_model=Item, response_model_exclude_unset=True)
    app.get("/none", lambda: {"name": "n", "extra": 1}, response_model=Item, response_model_exclude_none=True)
    app.get("/nested", lambda: [{"name": "a"}, {"name": "b", "tax": None}], response_model=list[Item],
            response_model_exclude_unset=True)
    client = client_for(app)
    assert client.get("/unset").json() == {"name": "n"}
    assert client.get("/none").json() == {"name": "n", "price": 1.0}
    assert client.get("/nested").json() == [{"name": "a"}, {"name": "b", "tax": None}]


def test_return_annotation_is_the_response_model(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    @app.get("/annotated")
    async def annotated() -> Item:
        return {"name": "n", "secret": 1}  # type: ignore[return-value]

    @app.get("/off", response_model=None)
    async def off() -> Item:
        return {"name": "n", "secret": 1}  # type: ignore[return-value]

    client = client_for(app)
    assert client.get("/annotated").json() == {"name": "n", "price": 1.0, "tax": None}
    assert client.get("/off").json() == {"name": "n", "secret": 1}


def test_plain_annotations_keep_the_plain_path(app: App) -> None:
    def handler() -> dict[str, int]:
        return {}

    route = app.add_route("/plain", handler)
    assert route.options["response_model"] is None


def test_response_model_from_objects_dataclasses_and_typeddicts(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    app.get("/struct", lambda: ItemData("from-dataclass"), response_model=Item)
    app.get("/dataclass", lambda: {"name": "d", "other": 1}, response_model=ItemData)
    app.get("/typeddict", lambda: {"name": "t", "other": 1}, response_model=ItemDict)
    app.get("/list", lambda: [Item("a"), {"name": "b"}], response_model=list[ItemDict])
    client = client_for(app)
    assert client.get("/struct").json() == {"name": "from-dataclass", "price": 2.0, "tax": None}
    assert client.get("/dataclass").json() == {"name": "d", "price": 2.0}
    assert client.get("/typeddict").json() == {"name": "t"}
    assert client.get("/list").json() == [{"name": "a"}, {"name": "b"}]


def test_pydantic_response_model(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    app.get("/p", lambda: {"name": "n", "extra": 1}, response_model=ItemModel, response_model_exclude_unset=True)
    app.get("/q", lambda: ItemModel(name="m"), response_model=ItemModel, response_model_exclude_none=True)
    client = client_for(app)
    assert client.get("/p").json() == {"name": "n"}
    assert client.get("/q").json() == {"name": "m", "price": 1.0}


def test_a_value_that_does_not_match_the_model_is_a_500(app: App, client_for, caplog) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    @app.get("/bad", response_model=Item)
    async def bad(tasks: BackgroundTasks) -> dict[str, int]:
        tasks.add(calls.append, 1)
        return {"price": 1}

    response = client_for(app).get("/bad")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert calls == []  # as when the handler raises: its tasks are dropped
    assert any("does not match its response_model" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_response_model_registration_errors(app: App) -> None:
    with pytest.raises(TypeError, match="response_class must be a Response subclass"):
        app.get("/x", lambda: None, response_class=dict)
    with pytest.raises(TypeError, match="response_model"):
        app.get("/y", lambda: None, response_model=object())


# response_class


def test_response_class_wraps_plain_values(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    app.get("/html", lambda: "<p>x</p>", response_class=HTMLResponse)
    app.get("/json-string", lambda: "x", response_class=JSONResponse)
    app.get("/go", lambda: "/there", response_class=RedirectResponse)
    app.get("/model-html", lambda: {"name": "n", "x": 1}, response_class=JSONResponse, response_model=ItemDict,
            status_code=201)
    client = client_for(app)
    html = client.get("/html")
    assert (html.text, html.headers["content-type"]) == ("<p>x</p>", "text/html; charset=utf-8")
    assert client.get("/json-string").content == b'"x"'
    redirect = client.get("/go")
    assert (redirect.status_code, redirect.headers["location"]) == (307, "/there")
    model = client.get("/model-html")
    assert (model.status_code, model.json()) == (201, {"name": "n"})


# Generator handlers


def test_a_generator_handler_streams_json_lines(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    @app.get("/items")
    async def items() -> AsyncIterator[Item]:
        yield Item("a")
        yield {"name": "b", "secret": 1}  # type: ignore[misc]

    @app.get("/sync-items")
    def sync_items() -> Iterator[dict[str, int]]:
        yield {"n": 1}
        yield {"n": 2}

    client = client_for(app)
    response = client.get("/items")
    assert response.headers["content-type"] == "application/jsonl"
    assert response.content == b'{"name":"a","price":1.0,"tax":null}\n{"name":"b","price":1.0,"tax":null}\n'
    assert client.get("/sync-items").content == b'{"n":1}\n{"n":2}\n'


def test_a_generator_handler_with_a_streaming_response_class(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    class PNGStreamingResponse(StreamingResponse):
        media_type = "image/png"

    @app.get("/image", response_class=PNGStreamingResponse)
    def image() -> Iterator[bytes]:
        yield b"\x89PNG"
        yield b"rest"

    response = client_for(app).get("/image")
    assert (response.headers["content-type"], response.content) == ("image/png", b"\x89PNGrest")


def test_event_source_response_validates_items_against_the_annotation(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    @app.get("/events", response_class=EventSourceResponse, status_code=201)
    async def events() -> AsyncIterator[ItemDict]:
        yield {"name": "a", "x": 1}  # type: ignore[typeddict-unknown-key]
        yield ServerSentEvent(comment="keep going")  # type: ignore[misc]

    response = client_for(app).get("/events")
    assert response.status_code == 201
    assert response.content == b'data: {"name":"a"}\n\n: keep going\n\n'


def test_returned_event_source_response_passes_preformatted_text(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    app.get("/raw", lambda: EventSourceResponse(["data: one\n\n", ServerSentEvent(data="two", id="2"), {"n": 3}]))
    assert client_for(app).get("/raw").content == b'data: one\n\ndata: "two"\nid: 2\n\ndata: {"n":3}\n\n'


def test_server_sent_event_validation() -> None:
    with pytest.raises(ValueError, match="not both"):
        ServerSentEvent(data=1, raw_data="1")
    with pytest.raises(ValueError, match="single line"):
        ServerSentEvent(event="a\nb")
    with pytest.raises(ValueError, match="single line"):
        ServerSentEvent(id="a\0b")
    with pytest.raises(ValueError, match="non-negative"):
        ServerSentEvent(retry=-1)
    assert format_event(data="a\r\nb\rc") == b"data: a\ndata: b\ndata: c\n\n"
    assert format_event() == b"\n"


# Ranges (unit level; the wire behaviour is in server/test_streaming.py)


@pytest.mark.parametrize(("header", "expected"), [
    ("bytes=0-9", [(0, 9)]),
    ("bytes=90-", [(90, 99)]),
    ("bytes=-5", [(95, 99)]),
    ("bytes=-500", [(0, 99)]),
    ("bytes=0-200", [(0, 99)]),
    ("bytes=0-9,5-19,30-39", [(0, 19), (30, 39)]),
    ("bytes=10-19,20-29", [(10, 29)]),
    ("BYTES = 1-2", [(1, 2)]),
    ("bytes=100-", []),
    ("bytes=-0", []),
    ("bytes=100-,0-0", [(0, 0)]),
    ("bytes=5-1", None),
    ("bytes=x-1", None),
    ("bytes=-", None),
    ("lines=0-1", None),
    ("bytes", None),
    ("bytes=" + ",".join(["0-1"] * 101), None),
])
def test_parse_range_header(header: str, expected: list[tuple[int, int]] | None) -> None:
    assert parse_range_header(header, 100) == expected


def test_any_range_of_an_empty_file_is_unsatisfiable() -> None:
    assert parse_range_header("bytes=0-", 0) == []
    assert parse_range_header("bytes=-5", 0) == []


# OpenAPI


def test_openapi_documents_the_response_model_and_class(app: App) -> None:
    app.get("/item", lambda: {}, response_model=Item)  # noqa: PIE807
    app.get("/page", lambda: "", response_class=HTMLResponse)
    app.get("/go", lambda: "/", response_class=RedirectResponse)

    @app.get("/lines")
    async def lines() -> AsyncIterator[Item]:
        yield Item("a")

    document = app.openapi()
    paths = document["paths"]
    assert paths["/item"]["get"]["responses"]["200"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}
    assert "Item" in document["components"]["schemas"]
    assert paths["/page"]["get"]["responses"]["200"]["content"] == {"text/html": {"schema": {"type": "string"}}}
    assert paths["/go"]["get"]["responses"] == {"307": {"description": "Successful Response"}}
    assert paths["/lines"]["get"]["responses"]["200"]["content"] == {
        "application/jsonl": {"schema": {"type": "string"}}}


def test_openapi_with_response_models_validates(app: App) -> None:
    from openapi_spec_validator import validate

    app.get("/item", lambda: {}, response_model=list[Item])  # noqa: PIE807
    app.get("/page", lambda: "", response_class=PlainTextResponse)
    validate(app.openapi())


def test_test_client_collects_an_empty_stream() -> None:
    app = App()
    app.get("/empty", lambda: StreamingResponse([]))
    with TestClient(app) as client:
        response = client.get("/empty")
    assert (response.status_code, response.content) == (200, b"")


def test_a_stream_whose_head_cannot_be_encoded_is_a_500(app: App, client_for) -> None:  # type: ignore[no-untyped-def]
    app.get("/euro", lambda: StreamingResponse([b"x"], headers={"x-price": "5 €"}))
    app.get("/ok", lambda: "fine")
    client = client_for(app)
    response = client.get("/euro")
    assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})
    assert client.get("/ok").json() == "fine"


def test_a_declared_media_type_is_still_readable_on_the_class_and_settable_per_response() -> None:
    class CSVResponse(Response):
        media_type = "text/csv"

    assert CSVResponse.media_type == "text/csv"
    response = CSVResponse(b"a,b")
    assert response.media_type == "text/csv"
    response.media_type = "text/plain"
    assert response.media_type == "text/plain" and CSVResponse.media_type == "text/csv"
