"""FastAPI advanced tutorial, "Response Cookies" (tutorial001/002), "Response Headers" (tutorial001/002)
and "Response - Change Status Code" (tutorial001)."""

from __future__ import annotations

from typing import Any

from zigmund_fast import App, JSONResponse, Response
from zigmund_fast.testing import TestClient

from ..conftest import read_response

COOKIES_MESSAGE = {"message": "Come to the dark side, we have cookies"}
SESSION_COOKIE = "fakesession=fake-cookie-session-value; Path=/; SameSite=lax"


def response_cookies_and_headers_app() -> App:
    app = App()

    @app.post("/cookie/")
    def create_cookie() -> Response:
        response = JSONResponse(content=COOKIES_MESSAGE)
        response.set_cookie(key="fakesession", value="fake-cookie-session-value")
        return response

    @app.post("/cookie-and-object/")
    def create_cookie_on_the_sub_response(response: Response) -> dict[str, Any]:
        response.set_cookie(key="fakesession", value="fake-cookie-session-value")
        return COOKIES_MESSAGE

    @app.get("/headers/")
    def get_headers() -> Response:
        content = {"message": "Hello World"}
        headers = {"X-Cat-Dog": "alone in the world", "Content-Language": "en-US"}
        return JSONResponse(content=content, headers=headers)

    @app.get("/headers-and-object/")
    def get_headers_on_the_sub_response(response: Response) -> dict[str, Any]:
        response.headers["X-Cat-Dog"] = "cats-dogs"
        return {"message": "Hello World"}

    @app.get("/status/", status_code=200)
    def change_status(response: Response) -> dict[str, Any]:
        response.status_code = 201
        return {"x": 1}

    return app


def test_response_cookies_tutorial001_on_a_returned_response() -> None:
    with TestClient(response_cookies_and_headers_app()) as client:
        response = client.post("/cookie/")
    assert (response.status_code, response.json()) == (200, COOKIES_MESSAGE)
    assert response.headers["set-cookie"] == SESSION_COOKIE


def test_response_cookies_tutorial002_on_the_response_parameter() -> None:
    with TestClient(response_cookies_and_headers_app()) as client:
        response = client.post("/cookie-and-object/")
    assert (response.status_code, response.json()) == (200, COOKIES_MESSAGE)
    assert response.headers["set-cookie"] == SESSION_COOKIE


def test_response_headers_tutorial001_on_a_returned_response() -> None:
    with TestClient(response_cookies_and_headers_app()) as client:
        response = client.get("/headers/")
    assert (response.status_code, response.json()) == (200, {"message": "Hello World"})
    assert response.headers["x-cat-dog"] == "alone in the world"
    assert response.headers["content-language"] == "en-US"


def test_response_headers_tutorial002_on_the_response_parameter() -> None:
    with TestClient(response_cookies_and_headers_app()) as client:
        response = client.get("/headers-and-object/")
    assert (response.status_code, response.json()) == (200, {"message": "Hello World"})
    assert response.headers["x-cat-dog"] == "cats-dogs"


def test_response_change_status_code_tutorial001() -> None:
    with TestClient(response_cookies_and_headers_app()) as client:
        response = client.get("/status/")
    assert (response.status_code, response.json()) == (201, {"x": 1})


def test_cookie_over_a_real_socket(serve: Any) -> None:
    server = serve(response_cookies_and_headers_app())
    with server.connect() as sock:
        sock.sendall(b"POST /cookie-and-object/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        response = read_response(sock)
    assert response.status == 200
    assert response.header("set-cookie") == SESSION_COOKIE
