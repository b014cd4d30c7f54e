"""FastAPI tutorial, "Cookie Parameters" tutorial001 and "Header Parameters" tutorial001-003
(underscore conversion, ``convert_underscores=False``, repeated headers as a list)."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from zigmund_fast import App, Cookie, Header
from zigmund_fast.testing import TestClient

from ..conftest import read_response
from ._helpers import cookie_header


def cookie_params_tutorial001() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(ads_id: Annotated[str | None, Cookie()] = None) -> dict[str, Any]:
        return {"ads_id": ads_id}

    return app


def header_params_tutorial001() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(user_agent: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        return {"User-Agent": user_agent}

    return app


def header_params_tutorial002() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(
        strange_header: Annotated[str | None, Header(convert_underscores=False)] = None,
    ) -> dict[str, Any]:
        return {"strange_header": strange_header}

    return app


def header_params_tutorial003() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(x_token: Annotated[list[str] | None, Header()] = None) -> dict[str, Any]:
        return {"X-Token values": x_token}

    return app


@pytest.mark.parametrize(("cookies", "expected"), [
    ({}, None),
    ({"ads_id": "ads_track"}, "ads_track"),
    ({"ads_id": "ads_track", "session": "cookiesession"}, "ads_track"),
    ({"session": "cookiesession"}, None),
])
def test_cookie_tutorial001(cookies: dict[str, str], expected: str | None) -> None:
    with TestClient(cookie_params_tutorial001()) as client:
        response = client.get("/items/", headers=cookie_header(cookies) if cookies else {})
    assert response.status_code == 200
    assert response.json() == {"ads_id": expected}


@pytest.mark.parametrize(("headers", "expected"), [
    ({"User-Agent": "testclient"}, "testclient"),  # what FastAPI's client sends by default
    ({"User-Agent": "FastAPI test"}, "FastAPI test"),
    ({}, None),
])
def test_header_tutorial001_underscores_become_hyphens(headers: dict[str, str], expected: str | None) -> None:
    with TestClient(header_params_tutorial001()) as client:
        response = client.get("/items/", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"User-Agent": expected}


@pytest.mark.parametrize(("headers", "expected"), [
    ({}, None),
    ({"strange_header": "FastAPI test"}, "FastAPI test"),
    ({"strange-header": "Not really underscore"}, None),
])
def test_header_tutorial002_no_conversion(headers: dict[str, str], expected: str | None) -> None:
    with TestClient(header_params_tutorial002()) as client:
        response = client.get("/items/", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"strange_header": expected}


def test_header_tutorial003_absent() -> None:
    with TestClient(header_params_tutorial003()) as client:
        response = client.get("/items/")
    assert (response.status_code, response.json()) == (200, {"X-Token values": None})


def test_header_tutorial003_repeated_header_over_a_real_socket(serve: Any) -> None:
    server = serve(header_params_tutorial003())
    with server.connect() as sock:
        sock.sendall(b"GET /items/ HTTP/1.1\r\nHost: x\r\nX-Token: foo\r\nX-Token: bar\r\n\r\n")
        response = read_response(sock)
    assert response.status == 200
    assert response.body == b'{"X-Token values":["foo","bar"]}'


def test_cookie_tutorial001_over_a_real_socket(serve: Any) -> None:
    server = serve(cookie_params_tutorial001())
    with server.connect() as sock:
        sock.sendall(b"GET /items/ HTTP/1.1\r\nHost: x\r\nCookie: ads_id=ads_track; session=cookiesession\r\n\r\n")
        response = read_response(sock)
    assert response.status == 200
    assert response.body == b'{"ads_id":"ads_track"}'
