"""Requests no route takes: trailing-slash redirects, and 404/405 through the app's exception handlers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import read_response
from zigmund_fast import App, HTTPException, Request, Router
from zigmund_fast.responses import PlainTextResponse, Response
from zigmund_fast.testing import TestClient
from zigmund_fast.unmatched import slash_twin


def slashed_app(**options: Any) -> App:
    app = App(**options)
    app.get("/items/", lambda: ["item"])
    app.get("/users", lambda: ["user"])
    app.get("/files/{name}", lambda name: {"name": name})
    return app


@pytest.mark.parametrize(("path", "twin"), [
    ("/items", "/items/"),
    ("/items/", "/items"),
    ("/items///", "/items"),
    ("/a/b", "/a/b/"),
    ("/", None),
    ("///", None),
])
def test_slash_twin(path: str, twin: str | None) -> None:
    assert slash_twin(path) == twin


@pytest.mark.parametrize(("method", "url", "location"), [
    ("GET", "/items", "http://testserver/items/"),
    ("GET", "/items?q=foo&x=%20", "http://testserver/items/?q=foo&x=%20"),
    ("POST", "/items", "http://testserver/items/"),  # any method: a 307 keeps it
    ("GET", "/users/", "http://testserver/users"),
    ("GET", "/users//", "http://testserver/users"),
    ("GET", "/files/a.txt/", "http://testserver/files/a.txt"),
    ("HEAD", "/items", "http://testserver/items/"),
])
def test_a_path_matching_only_with_or_without_its_trailing_slash_is_redirected(
    method: str, url: str, location: str,
) -> None:
    with TestClient(slashed_app()) as client:
        response = client.request(method, url)
    assert response.status_code == 307
    assert response.headers["location"] == location
    assert response.content == b""


def test_matched_paths_and_true_misses_are_not_redirected() -> None:
    with TestClient(slashed_app()) as client:
        assert client.get("/items/").json() == ["item"]
        assert client.get("/users").json() == ["user"]
        missing = client.get("/nope/")
        root = client.get("/")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    assert (root.status_code, root.json()) == (404, {"detail": "Not Found"})


def test_redirect_slashes_false_answers_404() -> None:
    with TestClient(slashed_app(redirect_slashes=False)) as client:
        response = client.get("/items")
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})
    assert "location" not in response.headers


def test_router_routes_are_redirected_too() -> None:
    router = Router(prefix="/api")
    router.get("/things/", lambda: ["thing"])
    app = App()
    app.include_router(router)
    with TestClient(app) as client:
        response = client.get("/api/things?page=2")
    assert (response.status_code, response.headers["location"]) == (307, "http://testserver/api/things/?page=2")


def test_a_mounted_app_redirects_under_its_prefix() -> None:
    sub = App(openapi_url=None)
    sub.get("/items/", lambda: ["sub"])
    app = App()
    app.mount("/v1", sub)
    with TestClient(app) as client:
        response = client.get("/v1/items?q=1")
    assert (response.status_code, response.headers["location"]) == (307, "http://testserver/v1/items/?q=1")


def test_a_location_that_would_name_another_host_is_not_redirected() -> None:
    app = App()
    app.get("/{rest:path}/", lambda rest: rest)
    with TestClient(app) as client:
        response = client.get("//evil.example")
    # "//evil.example/" would be read as a host by a client when the location is not absolute.
    assert response.status_code == 404


def test_redirect_over_a_real_socket(serve: Any) -> None:
    server = serve(slashed_app())
    with server.connect() as sock:
        sock.sendall(b"GET /items?page=1 HTTP/1.1\r\nHost: api.test:8080\r\n\r\n"
                     b"GET /items/ HTTP/1.1\r\nHost: api.test:8080\r\n\r\n")
        buffer = bytearray()
        redirect = read_response(sock, buffer=buffer)
        followed = read_response(sock, buffer=buffer)
    assert redirect.status == 307
    assert redirect.header("location") == "http://api.test:8080/items/?page=1"
    assert (followed.status, followed.body) == (200, b'["item"]')


# 404 and 405 through the exception handlers


def test_without_handlers_404_and_405_are_the_default_json() -> None:
    app = App()
    app.get("/only-get", lambda: "ok")
    with TestClient(app) as client:
        missing = client.get("/nope")
        not_allowed = client.post("/only-get")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    assert missing.headers["content-type"] == "application/json"
    assert (not_allowed.status_code, not_allowed.json()) == (405, {"detail": "Method Not Allowed"})
    assert not_allowed.headers["allow"] == "GET, HEAD"


def test_an_http_exception_handler_answers_unknown_routes_and_wrong_methods() -> None:
    seen: list[tuple[int, Any, Any]] = []
    app = App()

    @app.exception_handler(HTTPException)
    async def plain(request: Request, exc: HTTPException) -> Response:
        seen.append((exc.status_code, exc.detail, exc.headers))
        return PlainTextResponse(f"{exc.status_code}: {exc.detail}", exc.status_code, headers=exc.headers)

    app.get("/only-get", lambda: "ok")
    with TestClient(app) as client:
        missing = client.get("/nope")
        not_allowed = client.delete("/only-get")
    assert (missing.status_code, missing.text) == (404, "404: Not Found")
    assert missing.headers["content-type"] == "text/plain; charset=utf-8"
    assert (not_allowed.status_code, not_allowed.text) == (405, "405: Method Not Allowed")
    assert not_allowed.headers["allow"] == "GET, HEAD"
    assert seen == [(404, "Not Found", None), (405, "Method Not Allowed", {"allow": "GET, HEAD"})]


def test_a_status_code_handler_comes_before_the_class_handler() -> None:
    app = App()
    app.exception_handler(404, lambda request, exc: PlainTextResponse(f"custom 404 for {request.path}", 404))
    app.exception_handler(HTTPException, lambda request, exc: PlainTextResponse("class", exc.status_code))

    @app.get("/items/{item_id}")
    async def read(item_id: int) -> Any:
        raise HTTPException(404 if item_id == 1 else 418)

    with TestClient(app) as client:
        unknown = client.get("/nope")
        raised = client.get("/items/1")
        teapot = client.get("/items/2")
        not_allowed = client.post("/items/1")
    assert (unknown.status_code, unknown.text) == (404, "custom 404 for /nope")
    assert (raised.status_code, raised.text) == (404, "custom 404 for /items/1")
    assert (teapot.status_code, teapot.text) == (418, "class")
    assert (not_allowed.status_code, not_allowed.text) == (405, "class")


def test_a_404_handler_alone_leaves_405_to_the_default() -> None:
    app = App()
    app.exception_handler(404, lambda request, exc: PlainTextResponse("gone", 404))
    app.get("/x", lambda: "x")
    with TestClient(app) as client:
        assert client.get("/y").text == "gone"
        assert client.post("/x").json() == {"detail": "Method Not Allowed"}


def test_the_handler_sees_paths_no_mount_took() -> None:
    app = App()
    app.exception_handler(HTTPException, lambda request, exc: PlainTextResponse("handled", exc.status_code))
    sub = App(openapi_url=None)
    app.mount("/sub", sub)
    with TestClient(app) as client:
        outside = client.get("/elsewhere")
        inside = client.get("/sub/nothing")
    assert (outside.status_code, outside.text) == (404, "handled")
    # The mounted app answers with its own (default) handlers, as in Starlette.
    assert (inside.status_code, inside.json()) == (404, {"detail": "Not Found"})


def test_an_exception_handler_takes_neither_http_exceptions_nor_validation_errors() -> None:
    # FastAPI: HTTPException and RequestValidationError keep their own answers; Exception gets the rest.
    app = App()
    app.exception_handler(Exception, lambda request, exc: PlainTextResponse(f"oops {type(exc).__name__}", 500))

    @app.get("/items/{item_id}")
    async def read(item_id: int) -> Any:
        if item_id == 1:
            raise HTTPException(418, "tea")
        raise RuntimeError("boom")

    with TestClient(app) as client:
        teapot = client.get("/items/1")
        broken = client.get("/items/2")
        invalid = client.get("/items/x")
        unknown = client.get("/nope")
    assert (teapot.status_code, teapot.json()) == (418, {"detail": "tea"})
    assert (broken.status_code, broken.text) == (500, "oops RuntimeError")
    assert invalid.status_code == 422
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Not Found"})


def test_a_500_handler_takes_unhandled_errors() -> None:
    app = App()
    app.exception_handler(500, lambda request, exc: PlainTextResponse(f"500: {exc}", 500))

    @app.get("/broken")
    async def broken() -> Any:
        raise RuntimeError("boom")

    with TestClient(app) as client:
        response = client.get("/broken")
    assert (response.status_code, response.text) == (500, "500: boom")


@pytest.mark.parametrize("key", ["404", 99, 600, True, object, None])
def test_exception_handler_keys_are_checked_at_registration(key: Any) -> None:
    app = App()
    with pytest.raises(TypeError, match="an exception class or an HTTP status code"):
        app.exception_handler(key, lambda request, exc: Response(b""))
