"""TrustedHostMiddleware: exact and wildcard hosts, ports, the www redirect, and 400 Invalid host header."""

from __future__ import annotations

from typing import Any

import pytest

from zigmund_fast import App
from zigmund_fast.middleware import TrustedHostMiddleware
from zigmund_fast.middleware.trustedhost import host_name
from zigmund_fast.testing import TestClient

from ..conftest import read_response


def client_with(host: str = "testserver", **options: Any) -> TestClient:
    app = App()
    app.add_middleware(TrustedHostMiddleware, **options)
    app.get("/path", lambda: {"ok": True})
    return TestClient(app, base_url=f"http://{host}")  # the client sends this as the Host header


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("example.com", 200),
        ("EXAMPLE.com:8000", 200),
        ("api.example.org", 200),
        ("deep.api.example.org", 200),
        ("example.org", 400),  # "*.example.org" covers subdomains only
        ("badexample.org", 400),
        ("evil.com", 400),
        ("example.com.evil.com", 400),
        ("[::1]:8000", 200),
    ],
)
def test_allowed_hosts(host: str, status: int) -> None:
    with client_with(host, allowed_hosts=["example.com", "*.example.org", "[::1]"]) as client:
        response = client.get("/path")
    assert response.status_code == status
    if status == 400:
        assert response.text == "Invalid host header"
        assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_www_redirect_keeps_port_path_and_query() -> None:
    with client_with("example.com:8080", allowed_hosts=["www.example.com"]) as client:
        response = client.get("/path?x=1")
        assert response.status_code == 307
        assert response.headers["location"] == "http://www.example.com:8080/path?x=1"
    with client_with("example.com", allowed_hosts=["www.example.com"], www_redirect=False) as client:
        assert client.get("/path").status_code == 400


def test_any_host_by_default() -> None:
    with client_with("whatever.test") as client:
        assert client.get("/path").status_code == 200


@pytest.mark.parametrize("pattern", ["example.*", "*example.com", "a.*.example.com"])
def test_bad_wildcards_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match=r"must be like '\*\.example\.com'"):
        TrustedHostMiddleware(allowed_hosts=[pattern])


def test_host_name() -> None:
    assert host_name("Example.COM:80") == "example.com"
    assert host_name("[::1]:8000") == "[::1]"
    assert host_name("[::1") == ""
    assert host_name(None) == ""


def test_invalid_host_over_a_real_socket(serve: Any) -> None:
    app = App()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["good.test"])
    app.get("/", lambda: "hi")
    server = serve(app)
    with server.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: bad.test\r\n\r\nGET / HTTP/1.1\r\nHost: good.test\r\n\r\n")
        buffer = bytearray()
        refused = read_response(sock, buffer=buffer)
        assert refused.status == 400 and refused.body == b"Invalid host header"
        allowed = read_response(sock, buffer=buffer)
        assert allowed.status == 200 and allowed.body == b'"hi"'  # a str is sent as a JSON string
    with server.connect() as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")  # no Host at all
        missing = read_response(sock)
        assert missing.status == 400 and missing.body == b"Invalid host header"
