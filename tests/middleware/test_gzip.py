"""GZipMiddleware: what is compressed, what is left alone, Vary, Content-Length, streams and files."""

from __future__ import annotations

import gzip
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from zigmund_fast import App, FileResponse, Response, StaticFiles, StreamingResponse
from zigmund_fast.middleware import GZipMiddleware
from zigmund_fast.middleware.gzip import accepts_gzip
from zigmund_fast.testing import TestClient

from ..conftest import read_response

TEXT = ("All work and no play makes Jack a dull boy. " * 40).encode()  # 1760 bytes, compresses well
SMALL = b"x" * 499
GZIP = {"accept-encoding": "gzip, deflate"}


def gzip_app(closed: list[str] | None = None, **options: Any) -> App:
    app = App()
    app.add_middleware(GZipMiddleware, **options)
    app.get("/text", lambda: Response(TEXT, media_type="text/plain"))
    app.get("/small", lambda: Response(SMALL, media_type="text/plain"))
    app.get("/json", lambda: {"items": list(range(300))})
    app.get("/png", lambda: Response(TEXT, media_type="image/png"))
    app.get("/encoded", lambda: Response(TEXT, headers={"content-encoding": "br"}))
    app.get("/empty", lambda: Response(b"", 204))
    app.get("/huge", lambda: Response(TEXT * 200))

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            try:
                for index in range(50):
                    yield f"line {index}\n".encode() * 10
            finally:
                if closed is not None:
                    closed.append("closed")

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/events")
    async def events() -> StreamingResponse:
        return StreamingResponse(["data: x\n\n"] * 100, media_type="text/event-stream")

    return app


def test_big_enough_bodies_are_compressed_for_clients_that_accept_gzip() -> None:
    with TestClient(gzip_app()) as client:
        response = client.get("/text", headers=GZIP)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["content-length"] == str(len(response.content)) and len(response.content) < len(TEXT)
    assert gzip.decompress(response.content) == TEXT
    assert response.headers["content-type"] == "text/plain"


def test_json_from_a_plain_handler_is_compressed_too() -> None:
    with TestClient(gzip_app()) as client:
        response = client.get("/json", headers=GZIP)
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(response.content) == b'{"items":[' + ",".join(map(str, range(300))).encode() + b"]}"


def test_small_bodies_are_left_alone_without_vary() -> None:
    with TestClient(gzip_app()) as client:
        response = client.get("/small", headers=GZIP)
    assert response.content == SMALL and "content-encoding" not in response.headers
    assert "vary" not in response.headers


def test_clients_that_do_not_accept_gzip_get_identity_with_vary() -> None:
    with TestClient(gzip_app()) as client:
        for headers in ({}, {"accept-encoding": "br"}, {"accept-encoding": "gzip;q=0, br"}, {"accept-encoding": ""}):
            response = client.get("/text", headers=headers)
            assert response.content == TEXT, headers
            assert "content-encoding" not in response.headers
            assert response.headers["vary"] == "Accept-Encoding"
            assert response.headers["content-length"] == str(len(TEXT))


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("gzip", True), ("GZIP", True), ("br, gzip;q=0.5", True), ("*", True), ("br;q=1, *;q=0.1", True),
     ("gzip;q=0", False), ("gzip; q=0.0", False), ("*;q=0", False), ("gzip;q=0, *", False), ("deflate", False),
     ("", False), (None, False), ("gzip;q=bogus", False), ("x-gzip", True)],
)
def test_accept_encoding_parsing(value: str | None, accepted: bool) -> None:
    assert accepts_gzip(value) is accepted


def test_encoded_excluded_and_bodiless_responses_are_left_alone() -> None:
    with TestClient(gzip_app()) as client:
        encoded = client.get("/encoded", headers=GZIP)
        assert encoded.headers["content-encoding"] == "br" and encoded.content == TEXT
        assert "vary" not in encoded.headers
        image = client.get("/png", headers=GZIP)
        assert "content-encoding" not in image.headers and image.content == TEXT
        assert client.get("/empty", headers=GZIP).status_code == 204


def test_huge_bodies_are_compressed_off_the_loop_and_arrive_intact() -> None:
    with TestClient(gzip_app()) as client:
        response = client.get("/huge", headers=GZIP)
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(response.content) == TEXT * 200


def test_head_gets_the_length_of_the_compressed_get() -> None:
    with TestClient(gzip_app()) as client:
        get = client.get("/text", headers=GZIP)
        head = client.head("/text", headers=GZIP)
    assert head.content == b"" and head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-encoding"] == "gzip"


def test_streams_are_compressed_as_one_gzip_stream_and_closed() -> None:
    closed: list[str] = []
    with TestClient(gzip_app(closed)) as client:
        response = client.get("/stream", headers=GZIP)
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["transfer-encoding"] == "chunked" and "content-length" not in response.headers
        expected = b"".join(f"line {index}\n".encode() * 10 for index in range(50))
        assert gzip.decompress(response.content) == expected
        assert closed == ["closed"]
        plain = client.get("/stream")
        assert "content-encoding" not in plain.headers and plain.content == expected
        assert plain.headers["vary"] == "Accept-Encoding"
        events = client.get("/events", headers=GZIP)
        assert "content-encoding" not in events.headers and events.content == b"data: x\n\n" * 100


def test_files_are_compressed_unless_small_partial_or_not_modified(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_bytes(TEXT * 100)
    (tmp_path / "small.txt").write_bytes(SMALL)
    (tmp_path / "photo.jpg").write_bytes(os.urandom(4000))
    app = App()
    app.add_middleware(GZipMiddleware)
    app.mount("/files", StaticFiles(directory=tmp_path))
    app.get("/download", lambda: FileResponse(tmp_path / "big.txt"))
    with TestClient(app) as client:
        for path in ("/files/big.txt", "/download"):
            big = client.get(path, headers=GZIP)
            assert big.headers["content-encoding"] == "gzip" and gzip.decompress(big.content) == TEXT * 100
            assert big.headers["vary"] == "Accept-Encoding"
        small = client.get("/files/small.txt", headers=GZIP)
        assert "content-encoding" not in small.headers and small.headers["content-length"] == "499"
        photo = client.get("/files/photo.jpg", headers=GZIP)
        assert "content-encoding" not in photo.headers and photo.headers["content-length"] == "4000"
        partial = client.get("/files/big.txt", headers={**GZIP, "range": "bytes=0-99"})
        assert partial.status_code == 206 and partial.content == (TEXT * 100)[:100]
        assert "content-encoding" not in partial.headers
        etag = big.headers["etag"]
        not_modified = client.get("/files/big.txt", headers={**GZIP, "if-none-match": etag})
        assert not_modified.status_code == 304 and "content-encoding" not in not_modified.headers


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="compresslevel"):
        GZipMiddleware(compresslevel=10)
    with pytest.raises(ValueError, match="minimum_size"):
        GZipMiddleware(minimum_size=-1)


def test_compression_over_a_real_socket(serve: Any) -> None:
    server = serve(gzip_app(minimum_size=100, compresslevel=1))
    with server.connect() as sock:
        sock.sendall(b"GET /text HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n")
        compressed = read_response(sock)
        assert compressed.status == 200 and compressed.header("content-encoding") == "gzip"
        assert compressed.header("content-length") == str(len(compressed.body))
        assert gzip.decompress(compressed.body) == TEXT
        sock.sendall(b"GET /text HTTP/1.1\r\nHost: t\r\n\r\n")
        identity = read_response(sock)
        assert identity.body == TEXT and identity.header("vary") == "Accept-Encoding"
