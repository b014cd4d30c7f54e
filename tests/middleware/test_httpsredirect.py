"""HTTPSRedirectMiddleware: 307 to https (default ports dropped), HTTPS requests pass through."""

from __future__ import annotations

from typing import Any

import pytest

from zigmund_fast import App, Request
from zigmund_fast.middleware import HTTPSRedirectMiddleware
from zigmund_fast.testing import TestClient

from ..conftest import read_response


def redirect_app() -> App:
    app = App()
    app.add_middleware(HTTPSRedirectMiddleware)
    app.get("/path", lambda: {"secure": True})
    app.post("/path", lambda: {"posted": True})
    sub = App()
    sub.get("/inner", lambda: "inner")
    app.mount("/sub", sub)
    return app


@pytest.mark.parametrize(
    ("target", "host", "location"),
    [
        ("/path", "example.com", "https://example.com/path"),
        ("/path?a=1&b=%20", "example.com", "https://example.com/path?a=1&b=%20"),
        ("/path", "example.com:80", "https://example.com/path"),
        ("/path", "example.com:443", "https://example.com/path"),
        ("/path", "example.com:8080", "https://example.com:8080/path"),
        ("/path", "[::1]:80", "https://[::1]/path"),
        ("/a%20b", "example.com", "https://example.com/a%20b"),
        ("/sub/inner", "example.com", "https://example.com/sub/inner"),
    ],
)
def test_plain_http_is_redirected_with_307(target: str, host: str, location: str) -> None:
    with TestClient(redirect_app(), base_url=f"http://{host}") as client:
        response = client.get(target)
        assert response.status_code == 307 and response.headers["location"] == location
        assert client.post(target).status_code == 307  # method and body kept by 307


def test_https_requests_pass_through() -> None:
    app = redirect_app()

    @app.middleware("http")  # outermost: plays the TLS listener
    async def as_https(request: Request, call_next: Any) -> Any:
        request.scheme = "https"
        return await call_next(request)

    with TestClient(app) as client:
        assert client.get("/path").json() == {"secure": True}


def test_a_request_without_host_is_refused(serve: Any) -> None:
    server = serve(redirect_app())
    with server.connect() as sock:
        sock.sendall(b"GET /path HTTP/1.0\r\n\r\n")
        response = read_response(sock)
    assert response.status == 400 and response.body == b"Invalid host header"


def test_behind_a_trusted_proxy_over_a_real_socket(serve: Any) -> None:
    server = serve(redirect_app(), proxy_headers=True, forwarded_allow_ips="127.0.0.1")
    with server.connect() as sock:
        sock.sendall(b"GET /path HTTP/1.1\r\nHost: example.com\r\n\r\n")
        redirected = read_response(sock)
        assert redirected.status == 307 and redirected.header("location") == "https://example.com/path"
        sock.sendall(b"GET /path HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-Proto: https\r\n\r\n")
        passed = read_response(sock)
        assert passed.status == 200 and passed.body == b'{"secure":true}'
