"""StaticFiles: content types, validators, 304, HEAD, html mode, and refusing every way out of the directory."""

from __future__ import annotations

import os
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from zigmund_fast import App, StaticFiles
from zigmund_fast.testing import TestClient

from .conftest import read_response

BIG_SIZE = 3 * 1024 * 1024 + 17  # several read chunks, not a multiple of the chunk size


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "css").mkdir(parents=True)
    (root / "docs" / "guide").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "index.html").write_text("<h1>home</h1>")
    (root / "404.html").write_text("<h1>not here</h1>")
    (root / "css" / "site.css").write_text("body { color: red }")
    (root / "docs" / "guide" / "index.html").write_text("guide")
    (root / "data.json").write_text('{"a": 1}')
    (root / "notes.txt").write_text("plain notes")
    (root / "snow ☃.txt").write_text("unicode name")
    (root / "big.bin").write_bytes(os.urandom(BIG_SIZE))
    (tmp_path / "secret.txt").write_text("outside the site")
    (root / "link-out").symlink_to(tmp_path / "secret.txt")
    (root / "dir-out").symlink_to(tmp_path)
    (root / "link-in.txt").symlink_to(root / "notes.txt")
    return root


def client_for_site(site: Path, **options: Any) -> TestClient:
    app = App()
    app.mount("/static", StaticFiles(directory=site, **options))
    return TestClient(app)


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/static/css/site.css", "text/css; charset=utf-8", b"body { color: red }"),
        ("/static/data.json", "application/json", b'{"a": 1}'),
        ("/static/notes.txt", "text/plain; charset=utf-8", b"plain notes"),
        ("/static/index.html", "text/html; charset=utf-8", b"<h1>home</h1>"),
        ("/static/snow%20%E2%98%83.txt", "text/plain; charset=utf-8", b"unicode name"),
        ("/static/link-in.txt", "text/plain; charset=utf-8", b"plain notes"),
    ],
)
def test_files_are_served_with_type_length_and_validators(site: Path, path: str, content_type: str,
                                                          body: bytes) -> None:
    with client_for_site(site) as client:
        response = client.get(path)
    assert response.status_code == 200
    assert response.content == body
    assert response.headers["content-type"] == content_type
    assert response.headers["content-length"] == str(len(body))
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith(" GMT")


def test_a_big_file_arrives_whole(site: Path) -> None:
    with client_for_site(site) as client:
        response = client.get("/static/big.bin")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(BIG_SIZE)
    assert response.content == (site / "big.bin").read_bytes()


def test_conditional_requests_get_304(site: Path) -> None:
    with client_for_site(site) as client:
        first = client.get("/static/notes.txt")
        etag, last_modified = first.headers["etag"], first.headers["last-modified"]
        by_etag = client.get("/static/notes.txt", headers={"if-none-match": etag})
        assert by_etag.status_code == 304 and by_etag.content == b""
        assert client.get("/static/notes.txt", headers={"if-modified-since": last_modified}).status_code == 304
        assert client.get("/static/notes.txt", headers={"if-none-match": '"other"'}).status_code == 200
        old = formatdate(0, usegmt=True)
        assert client.get("/static/notes.txt", headers={"if-modified-since": old}).status_code == 200


def test_head_has_the_get_headers_and_no_body(site: Path) -> None:
    with client_for_site(site) as client:
        response = client.head("/static/notes.txt")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-length"] == str(len(b"plain notes"))
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_missing_files_and_directories_are_404_and_other_methods_405(site: Path) -> None:
    with client_for_site(site) as client:
        for path in ("/static/nope.txt", "/static/css/", "/static/css", "/static/", "/static/notes.txt/x"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert response.json() == {"detail": "Not Found"}
        refused = client.post("/static/notes.txt")
        assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.txt",
        "/static/css/../../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/css/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/static/..%2fsecret.txt",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/link-out",
        "/static/dir-out/secret.txt",
        "/static/notes.txt%00.css",
    ],
)
def test_every_way_out_of_the_directory_is_404(site: Path, path: str) -> None:
    with client_for_site(site) as client:
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"outside the site" not in response.content and b"root:" not in response.content
        with client_for_site(site, html=True) as html_client:
            page = html_client.get(path)
            assert page.status_code == 404 and page.content == b"<h1>not here</h1>"


def test_traversal_over_a_real_socket_is_404(site: Path, serve: Any) -> None:
    app = App()
    app.mount("/static", StaticFiles(directory=site))
    server = serve(app)
    for target in (b"/static/../secret.txt", b"/static/%2e%2e/secret.txt", b"/static/link-out"):
        with server.connect() as sock:
            sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: t\r\n\r\n")
            response = read_response(sock)
            assert response.status == 404 and b"outside" not in response.body, target


def test_html_mode_serves_index_redirects_directories_and_uses_404_html(site: Path) -> None:
    with client_for_site(site, html=True) as client:
        home = client.get("/static/")
        assert home.status_code == 200 and home.content == b"<h1>home</h1>"
        assert home.headers["content-type"] == "text/html; charset=utf-8"
        redirect = client.get("/static/docs/guide?x=1")
        assert redirect.status_code == 307
        assert redirect.headers["location"] == "http://testserver/static/docs/guide/?x=1"
        assert client.get("/static/docs/guide/").content == b"guide"
        missing = client.get("/static/missing.txt")
        assert missing.status_code == 404 and missing.content == b"<h1>not here</h1>"
        assert missing.headers["content-type"] == "text/html; charset=utf-8"
        assert client.get("/static/empty/").status_code == 404  # a directory without index.html
        assert client.head("/static/missing.txt").status_code == 404


def test_html_mode_without_404_html_answers_json_404(site: Path) -> None:
    (site / "404.html").unlink()
    with client_for_site(site, html=True) as client:
        missing = client.get("/static/missing.txt")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}


def test_static_files_mounted_at_root_behind_the_routes(site: Path) -> None:
    app = App()
    app.get("/api/ping", lambda: {"pong": True})
    app.mount("/", StaticFiles(directory=site, html=True))
    with TestClient(app) as client:
        assert client.get("/api/ping").json() == {"pong": True}
        assert client.get("/").content == b"<h1>home</h1>"
        assert client.get("/css/site.css").content == b"body { color: red }"


def test_directory_checks(tmp_path: Path, site: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(directory=tmp_path / "missing")
    with pytest.raises(RuntimeError, match="is not a directory"):
        StaticFiles(directory=site / "notes.txt")
    late = tmp_path / "late"
    app = App()
    app.mount("/late", StaticFiles(directory=late, check_dir=False))
    with TestClient(app) as client:
        assert client.get("/late/a.txt").status_code == 404
        late.mkdir()
        (late / "a.txt").write_text("arrived")
        assert client.get("/late/a.txt").content == b"arrived"


def test_get_head_and_304_over_a_real_socket(site: Path, serve: Any) -> None:
    app = App()
    app.mount("/static", StaticFiles(directory=site))
    server = serve(app)
    with server.connect() as sock:
        sock.sendall(b"GET /static/css/site.css HTTP/1.1\r\nHost: t\r\n\r\n")
        response = read_response(sock)
        assert response.status == 200 and response.body == b"body { color: red }"
        assert response.header("content-type") == "text/css; charset=utf-8"
        assert response.header("content-length") == "19"
        etag = response.header("etag")
        assert etag is not None and response.header("last-modified") is not None

        sock.sendall(b"HEAD /static/css/site.css HTTP/1.1\r\nHost: t\r\n\r\n")
        head = read_response(sock, head=True)
        assert head.status == 200 and head.header("content-length") == "19" and head.header("etag") == etag

        sock.sendall(b"GET /static/css/site.css HTTP/1.1\r\nHost: t\r\nIf-None-Match: " + etag.encode()
                     + b"\r\n\r\n")
        not_modified = read_response(sock)
        assert not_modified.status == 304 and not_modified.body == b""

        # The connection is still usable after the bodiless 304.
        sock.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        big = read_response(sock)
        assert big.status == 200 and big.body == (site / "big.bin").read_bytes()
