"""CORSMiddleware: preflights and simple responses, header for header as Starlette 1.10 answers them."""

from __future__ import annotations

from typing import Any

import pytest

from zigmund_fast import App, Response
from zigmund_fast.middleware import CORSMiddleware
from zigmund_fast.testing import TestClient, TestResponse

from ..conftest import read_response

PREFLIGHT_VARY = ("Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
                  "Access-Control-Request-Private-Network")
SAFELISTED = "Accept, Accept-Language, Content-Language, Content-Type"


def cors_client(**options: Any) -> TestClient:
    app = App()
    app.add_middleware(CORSMiddleware, **options)
    app.get("/", lambda: {"ok": True})
    app.post("/", lambda: {"ok": True})
    app.get("/vary", lambda: Response.text("x", headers={"vary": "Accept-Encoding"}))
    return TestClient(app)


def cors_headers(response: TestResponse) -> dict[str, str]:
    return {name: value for name, value in response.headers.items()
            if name.startswith("access-control-") or name == "vary"}


LISTED = {"allow_origins": ["https://a.com"], "allow_methods": ["GET", "POST"], "allow_headers": ["X-Custom"],
          "expose_headers": ["X-E"], "max_age": 100}


def test_simple_requests_from_listed_and_other_origins() -> None:
    with cors_client(**LISTED) as client:
        allowed = client.get("/", headers={"origin": "https://a.com"})
        assert allowed.json() == {"ok": True}
        assert cors_headers(allowed) == {"access-control-expose-headers": "X-E",
                                         "access-control-allow-origin": "https://a.com", "vary": "Origin"}
        other = client.get("/", headers={"origin": "https://b.com"})
        assert other.status_code == 200
        assert cors_headers(other) == {"access-control-expose-headers": "X-E", "vary": "Origin"}
        no_origin = client.get("/")
        assert cors_headers(no_origin) == {"vary": "Origin"}
        merged = client.get("/vary", headers={"origin": "https://a.com"})
        assert merged.headers["vary"] == "Accept-Encoding, Origin"


def test_a_preflight_that_is_allowed() -> None:
    with cors_client(**LISTED) as client:
        response = client.options("/", headers={"origin": "https://a.com", "access-control-request-method": "POST",
                                                "access-control-request-headers": "x-custom"})
    assert response.status_code == 200 and response.text == "OK"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert cors_headers(response) == {
        "vary": PREFLIGHT_VARY,
        "access-control-allow-methods": "GET, POST",
        "access-control-max-age": "100",
        "access-control-allow-headers": f"{SAFELISTED}, X-Custom",
        "access-control-allow-origin": "https://a.com",
    }


@pytest.mark.parametrize(
    ("origin", "method", "request_headers", "text", "echoes_origin"),
    [
        ("https://b.com", "POST", None, "Disallowed CORS origin", False),
        ("https://a.com", "PUT", None, "Disallowed CORS method", True),
        ("https://a.com", "GET", "x-other, x-custom", "Disallowed CORS headers", True),
        ("https://b.com", "PUT", "x-other", "Disallowed CORS origin, method, headers", False),
    ],
)
def test_disallowed_preflights_are_400_naming_what_was_refused(
    origin: str, method: str, request_headers: str | None, text: str, echoes_origin: bool,
) -> None:
    headers = {"origin": origin, "access-control-request-method": method}
    if request_headers is not None:
        headers["access-control-request-headers"] = request_headers
    with cors_client(**LISTED) as client:
        response = client.options("/", headers=headers)
    assert response.status_code == 400 and response.text == text
    assert response.headers["vary"] == PREFLIGHT_VARY
    assert response.headers["access-control-allow-methods"] == "GET, POST"
    assert (response.headers.get("access-control-allow-origin") == origin) is echoes_origin


def test_options_without_a_requested_method_is_not_a_preflight() -> None:
    with cors_client(**LISTED) as client:
        response = client.options("/", headers={"origin": "https://a.com"})
    assert response.status_code == 405  # reached the routes
    assert response.headers["access-control-allow-origin"] == "https://a.com"


def test_wildcards_for_origins_methods_and_headers() -> None:
    with cors_client(allow_origins=["*"], allow_methods=["*"], allow_headers=["*"]) as client:
        simple = client.get("/", headers={"origin": "https://a.com"})
        assert cors_headers(simple) == {"access-control-allow-origin": "*", "vary": "Origin"}
        with_cookie = client.get("/", headers={"origin": "https://a.com", "cookie": "a=1"})
        assert with_cookie.headers["access-control-allow-origin"] == "*"
        preflight = client.options("/", headers={"origin": "https://a.com", "access-control-request-method": "DELETE",
                                                 "access-control-request-headers": "X-Foo, x-bar"})
    assert preflight.status_code == 200
    assert cors_headers(preflight) == {
        "vary": PREFLIGHT_VARY,
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, QUERY",
        "access-control-max-age": "600",
        "access-control-allow-headers": "X-Foo, x-bar",
    }


def test_credentials_with_any_origin_echo_the_origin() -> None:
    with cors_client(allow_origins=["*"], allow_credentials=True) as client:
        simple = client.get("/", headers={"origin": "https://a.com"})
        assert cors_headers(simple) == {"access-control-allow-origin": "https://a.com",
                                        "access-control-allow-credentials": "true", "vary": "Origin"}
        preflight = client.options("/", headers={"origin": "https://a.com", "access-control-request-method": "GET"})
    assert cors_headers(preflight) == {
        "vary": PREFLIGHT_VARY,
        "access-control-allow-methods": "GET",
        "access-control-max-age": "600",
        "access-control-allow-headers": SAFELISTED,
        "access-control-allow-credentials": "true",
        "access-control-allow-origin": "https://a.com",
    }


def test_origin_regex_must_match_in_full() -> None:
    with cors_client(allow_origin_regex=r"https://.*\.example\.org") as client:
        assert client.get("/", headers={"origin": "https://x.example.org"}).headers[
            "access-control-allow-origin"] == "https://x.example.org"
        evil = client.get("/", headers={"origin": "https://x.example.org.evil.com"})
        assert "access-control-allow-origin" not in evil.headers
        preflight = client.options("/", headers={"origin": "https://x.example.org",
                                                 "access-control-request-method": "GET"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://x.example.org"


def test_the_defaults_refuse_every_cross_origin_preflight() -> None:
    with cors_client() as client:
        response = client.options("/", headers={"origin": "https://x", "access-control-request-method": "GET"})
    assert response.status_code == 400 and response.text == "Disallowed CORS origin"


def test_private_network_preflights() -> None:
    headers = {"origin": "https://a.com", "access-control-request-method": "GET",
               "access-control-request-private-network": "true"}
    with cors_client(allow_origins=["https://a.com"]) as client:
        refused = client.options("/", headers=headers)
        assert refused.status_code == 400 and refused.text == "Disallowed CORS private-network"
    with cors_client(allow_origins=["https://a.com"], allow_private_network=True) as client:
        allowed = client.options("/", headers=headers)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-private-network"] == "true"


def test_a_string_instead_of_a_list_is_refused() -> None:
    with pytest.raises(TypeError, match="allow_origins must be a list"):
        CORSMiddleware(allow_origins="https://a.com")


def test_preflight_over_a_real_socket(serve: Any) -> None:
    app = App()
    app.add_middleware(CORSMiddleware, allow_origins=["https://a.com"], allow_methods=["GET", "POST"])
    app.post("/items", lambda: {"created": True})
    server = serve(app)
    with server.connect() as sock:
        sock.sendall(b"OPTIONS /items HTTP/1.1\r\nHost: t\r\nOrigin: https://a.com\r\n"
                     b"Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\r\n")
        preflight = read_response(sock)
        assert preflight.status == 200 and preflight.body == b"OK"
        assert preflight.header("access-control-allow-origin") == "https://a.com"
        assert preflight.header("access-control-allow-methods") == "GET, POST"
        sock.sendall(b"POST /items HTTP/1.1\r\nHost: t\r\nOrigin: https://a.com\r\nContent-Length: 0\r\n\r\n")
        actual = read_response(sock)
        assert actual.status == 200 and actual.body == b'{"created":true}'
        assert actual.header("access-control-allow-origin") == "https://a.com" and actual.header("vary") == "Origin"
        sock.sendall(b"OPTIONS /items HTTP/1.1\r\nHost: t\r\nOrigin: https://evil.com\r\n"
                     b"Access-Control-Request-Method: POST\r\n\r\n")
        refused = read_response(sock)
        assert refused.status == 400 and refused.body == b"Disallowed CORS origin"
