"""FastAPI tutorial, "Handling Errors": tutorial001-006 (HTTPException, its headers, a custom exception
handler, overriding the HTTPException and validation handlers, ``exc.body``, reusing the defaults)."""

from __future__ import annotations

from typing import Any

import msgspec

from zigmund_fast import (
    App,
    HTTPException,
    JSONResponse,
    PlainTextResponse,
    Request,
    RequestValidationError,
)
from zigmund_fast.testing import TestClient

from ..conftest import read_response
from ._helpers import int_parsing

ITEMS = {"foo": "The Foo Wrestlers"}


def handling_errors_tutorial001() -> App:
    app = App()

    @app.get("/items/{item_id}")
    async def read_item(item_id: str) -> dict[str, Any]:
        if item_id not in ITEMS:
            raise HTTPException(status_code=404, detail="Item not found")
        return {"item": ITEMS[item_id]}

    return app


def handling_errors_tutorial002() -> App:
    app = App()

    @app.get("/items-header/{item_id}")
    async def read_item_header(item_id: str) -> dict[str, Any]:
        if item_id not in ITEMS:
            raise HTTPException(status_code=404, detail="Item not found", headers={"X-Error": "There goes my error"})
        return {"item": ITEMS[item_id]}

    return app


class UnicornException(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


def handling_errors_tutorial003() -> App:
    app = App()

    @app.exception_handler(UnicornException)
    async def unicorn_exception_handler(request: Request, exc: UnicornException) -> JSONResponse:
        return JSONResponse(status_code=418,
                            content={"message": f"Oops! {exc.name} did something. There goes a rainbow..."})

    @app.get("/unicorns/{name}")
    async def read_unicorn(name: str) -> dict[str, Any]:
        if name == "yolo":
            raise UnicornException(name=name)
        return {"unicorn_name": name}

    return app


def handling_errors_tutorial004() -> App:
    app = App()

    @app.exception_handler(HTTPException)
    async def http_exception_handler(request: Request, exc: HTTPException) -> PlainTextResponse:
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_exception_handler(request: Request, exc: RequestValidationError) -> PlainTextResponse:
        message = "Validation errors:"
        for error in exc.errors():
            message += f"\nField: {error['loc']}, Error: {error['msg']}"
        return PlainTextResponse(message, status_code=400)

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, Any]:
        if item_id == 3:
            raise HTTPException(status_code=418, detail="Nope! I don't like 3.")
        return {"item_id": item_id}

    return app


class SizedItem(msgspec.Struct):
    title: str
    size: int


def handling_errors_tutorial005() -> App:
    app = App()

    @app.exception_handler(RequestValidationError)
    async def validation_exception_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": exc.errors(), "body": exc.body})

    @app.post("/items/")
    async def create_item(item: SizedItem) -> SizedItem:
        return item

    return app


def handling_errors_tutorial006(log: list[str]) -> App:
    from zigmund_fast.exception_handlers import (
        http_exception_handler,
        request_validation_exception_handler,
    )

    app = App()

    @app.exception_handler(HTTPException)
    async def custom_http_exception_handler(request: Request, exc: HTTPException) -> Any:
        log.append(f"OMG! An HTTP error!: {exc!r}")
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_exception_handler(request: Request, exc: RequestValidationError) -> Any:
        log.append("OMG! The client sent invalid data!")
        return await request_validation_exception_handler(request, exc)

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, Any]:
        if item_id == 3:
            raise HTTPException(status_code=418, detail="Nope! I don't like 3.")
        return {"item_id": item_id}

    return app


def test_tutorial001_not_found_detail() -> None:
    with TestClient(handling_errors_tutorial001()) as client:
        found = client.get("/items/foo")
        missing = client.get("/items/bar")
    assert (found.status_code, found.json()) == (200, {"item": "The Foo Wrestlers"})
    assert (missing.status_code, missing.json()) == (404, {"detail": "Item not found"})


def test_tutorial002_custom_headers() -> None:
    with TestClient(handling_errors_tutorial002()) as client:
        found = client.get("/items-header/foo")
        missing = client.get("/items-header/bar")
    assert (found.status_code, found.json()) == (200, {"item": "The Foo Wrestlers"})
    assert (missing.status_code, missing.json()) == (404, {"detail": "Item not found"})
    assert missing.headers["x-error"] == "There goes my error"


def test_tutorial002_custom_headers_over_a_real_socket(serve: Any) -> None:
    server = serve(handling_errors_tutorial002())
    with server.connect() as sock:
        sock.sendall(b"GET /items-header/bar HTTP/1.1\r\nHost: x\r\n\r\n")
        response = read_response(sock)
    assert response.status == 404
    assert response.header("x-error") == "There goes my error"
    assert response.body == b'{"detail":"Item not found"}'


def test_tutorial003_custom_exception_handler() -> None:
    with TestClient(handling_errors_tutorial003()) as client:
        fine = client.get("/unicorns/shinny")
        yolo = client.get("/unicorns/yolo")
    assert (fine.status_code, fine.json()) == (200, {"unicorn_name": "shinny"})
    assert yolo.status_code == 418
    assert yolo.json() == {"message": "Oops! yolo did something. There goes a rainbow..."}


def test_tutorial004_plain_text_handlers() -> None:
    with TestClient(handling_errors_tutorial004()) as client:
        ok = client.get("/items/2")
        teapot = client.get("/items/3")
        invalid = client.get("/items/foo")
    assert (ok.status_code, ok.json()) == (200, {"item_id": 2})
    assert (teapot.status_code, teapot.text) == (418, "Nope! I don't like 3.")
    assert teapot.headers["content-type"] == "text/plain; charset=utf-8"
    assert invalid.status_code == 400
    assert invalid.text == (
        "Validation errors:\n"
        "Field: ('path', 'item_id'), Error: Input should be a valid integer, unable to parse string as an integer"
    )


def test_tutorial004_the_http_handler_also_answers_unknown_routes() -> None:
    with TestClient(handling_errors_tutorial004()) as client:
        response = client.get("/nope")
    assert (response.status_code, response.text) == (404, "Not Found")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_tutorial005_the_handler_sees_the_received_body() -> None:
    with TestClient(handling_errors_tutorial005()) as client:
        invalid = client.post("/items/", json={"title": "towel", "size": "XL"})
        valid = client.post("/items/", json={"title": "towel", "size": 5})
    assert invalid.status_code == 422
    assert invalid.json() == {"detail": [int_parsing("XL", "body", "size")], "body": {"title": "towel", "size": "XL"}}
    assert (valid.status_code, valid.json()) == (200, {"title": "towel", "size": 5})


def test_tutorial006_reusing_the_default_handlers() -> None:
    log: list[str] = []
    with TestClient(handling_errors_tutorial006(log)) as client:
        ok = client.get("/items/2")
        teapot = client.get("/items/3")
        invalid = client.get("/items/foo")
        unknown = client.get("/nope")
    assert (ok.status_code, ok.json()) == (200, {"item_id": 2})
    assert (teapot.status_code, teapot.json()) == (418, {"detail": "Nope! I don't like 3."})
    assert (invalid.status_code, invalid.json()) == (422, {"detail": [int_parsing("foo", "path", "item_id")]})
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Not Found"})
    assert log == [
        "OMG! An HTTP error!: HTTPException(status_code=418, detail=\"Nope! I don't like 3.\")",
        "OMG! The client sent invalid data!",
        "OMG! An HTTP error!: HTTPException(status_code=404, detail='Not Found')",
    ]
