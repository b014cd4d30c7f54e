"""FastAPI tutorial, "Static Files": tutorial001 (``app.mount("/static", StaticFiles(...), name="static")``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from zigmund_fast import App, StaticFiles
from zigmund_fast.testing import TestClient

from ..conftest import read_response


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    (tmp_path / "sample.txt").write_text("This is a sample static file.")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "page.html").write_text("<h1>hi</h1>")
    return tmp_path


def static_files_tutorial001(directory: Path) -> App:
    app = App()
    app.mount("/static", StaticFiles(directory=directory), name="static")

    @app.get("/items/")
    async def read_items() -> Any:
        return [1]

    return app


def test_tutorial001_serves_files(static_dir: Path) -> None:
    with TestClient(static_files_tutorial001(static_dir)) as client:
        text = client.get("/static/sample.txt")
        html = client.get("/static/sub/page.html")
        head = client.head("/static/sample.txt")
        route = client.get("/items/")
    assert (text.status_code, text.text) == (200, "This is a sample static file.")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.headers["accept-ranges"] == "bytes"
    assert "etag" in text.headers and "last-modified" in text.headers
    assert (html.status_code, html.text) == (200, "<h1>hi</h1>")
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"] == "text/plain; charset=utf-8"
    assert (route.status_code, route.json()) == (200, [1])


def test_tutorial001_missing_file_and_wrong_method(static_dir: Path) -> None:
    with TestClient(static_files_tutorial001(static_dir)) as client:
        missing = client.get("/static/nope.txt")
        post = client.post("/static/sample.txt")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    assert (post.status_code, post.json()) == (405, {"detail": "Method Not Allowed"})
    assert post.headers["allow"] == "GET, HEAD"


def test_tutorial001_over_a_real_socket(serve: Any, static_dir: Path) -> None:
    server = serve(static_files_tutorial001(static_dir))
    with server.connect() as sock:
        sock.sendall(b"GET /static/sample.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        response = read_response(sock)
    assert (response.status, response.body) == (200, b"This is a sample static file.")
