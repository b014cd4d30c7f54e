"""FastAPI tutorial, "Form Data" (tutorial001), "Request Files" (tutorial001, 001_02, 002) and
"Request Forms and Files" (tutorial001)."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from zigmund_fast import App, File, Form, UploadFile
from zigmund_fast.testing import TestClient

from ..conftest import read_response
from ._helpers import assert_422, form_body, missing, multipart_body

TEXT_FILE = ("file", "test.txt", b"<file content>", "text/plain")
TWO_FILES = [("files", "a.txt", b"abc", "text/plain"), ("files", "b.txt", b"defgh", "text/plain")]


def form_data_tutorial001() -> App:
    app = App()

    @app.post("/login/")
    async def login(username: Annotated[str, Form()], password: Annotated[str, Form()]) -> dict[str, Any]:
        return {"username": username}

    return app


def request_files_tutorial001() -> App:
    app = App()

    @app.post("/files/")
    async def create_file(file: Annotated[bytes, File()]) -> dict[str, Any]:
        return {"file_size": len(file)}

    @app.post("/uploadfile/")
    async def create_upload_file(file: UploadFile) -> dict[str, Any]:
        return {"filename": file.filename}

    return app


def request_files_tutorial001_02() -> App:
    app = App()

    @app.post("/files/")
    async def create_file(file: Annotated[bytes | None, File()] = None) -> dict[str, Any]:
        if not file:
            return {"message": "No file sent"}
        return {"file_size": len(file)}

    @app.post("/uploadfile/")
    async def create_upload_file(file: UploadFile | None = None) -> dict[str, Any]:
        if not file:
            return {"message": "No upload file sent"}
        return {"filename": file.filename}

    return app


def request_files_tutorial002() -> App:
    app = App()

    @app.post("/files/")
    async def create_files(files: Annotated[list[bytes], File()]) -> dict[str, Any]:
        return {"file_sizes": [len(file) for file in files]}

    @app.post("/uploadfiles/")
    async def create_upload_files(files: list[UploadFile]) -> dict[str, Any]:
        return {"filenames": [file.filename for file in files]}

    return app


def request_forms_and_files_tutorial001() -> App:
    app = App()

    @app.post("/files/")
    async def create_file(
        file: Annotated[bytes, File()], fileb: Annotated[UploadFile, File()], token: Annotated[str, Form()],
    ) -> dict[str, Any]:
        return {"file_size": len(file), "token": token, "fileb_content_type": fileb.content_type}

    return app


def test_form_data_tutorial001_login() -> None:
    with TestClient(form_data_tutorial001()) as client:
        response = client.post("/login/", **form_body({"username": "Foo", "password": "secret"}))  # type: ignore[arg-type]
    assert (response.status_code, response.json()) == (200, {"username": "Foo"})


@pytest.mark.parametrize(("kwargs", "fastapi_detail"), [
    (form_body({"username": "Foo"}), [missing("body", "password")]),
    (form_body({"password": "secret"}), [missing("body", "username")]),
    ({"json": {"username": "Foo", "password": "secret"}}, [missing("body", "username"), missing("body", "password")]),
    ({}, [missing("body", "username"), missing("body", "password")]),
])
def test_form_data_tutorial001_missing_fields(kwargs: dict[str, Any], fastapi_detail: list[Any]) -> None:
    with TestClient(form_data_tutorial001()) as client:
        response = client.post("/login/", **kwargs)
    assert_422(response, fastapi_detail)


def test_request_files_tutorial001_bytes_and_upload_file() -> None:
    with TestClient(request_files_tutorial001()) as client:
        as_bytes = client.post("/files/", **multipart_body(files=[TEXT_FILE]))  # type: ignore[arg-type]
        as_upload = client.post("/uploadfile/", **multipart_body(files=[TEXT_FILE]))  # type: ignore[arg-type]
    assert (as_bytes.status_code, as_bytes.json()) == (200, {"file_size": 14})
    assert (as_upload.status_code, as_upload.json()) == (200, {"filename": "test.txt"})


@pytest.mark.parametrize("url", ["/files/", "/uploadfile/"])
def test_request_files_tutorial001_no_file(url: str) -> None:
    with TestClient(request_files_tutorial001()) as client:
        nothing = client.post(url)
        other_field = client.post(url, **form_body({"x": "y"}))  # type: ignore[arg-type]
    assert_422(nothing, [missing("body", "file")])
    assert_422(other_field, [missing("body", "file")])


def test_request_files_tutorial001_02_optional_files() -> None:
    with TestClient(request_files_tutorial001_02()) as client:
        as_bytes = client.post("/files/", **multipart_body(files=[TEXT_FILE]))  # type: ignore[arg-type]
        no_bytes = client.post("/files/")
        as_upload = client.post("/uploadfile/", **multipart_body(files=[TEXT_FILE]))  # type: ignore[arg-type]
        no_upload = client.post("/uploadfile/")
    assert (as_bytes.status_code, as_bytes.json()) == (200, {"file_size": 14})
    assert (no_bytes.status_code, no_bytes.json()) == (200, {"message": "No file sent"})
    assert (as_upload.status_code, as_upload.json()) == (200, {"filename": "test.txt"})
    assert (no_upload.status_code, no_upload.json()) == (200, {"message": "No upload file sent"})


def test_request_files_tutorial002_several_files() -> None:
    with TestClient(request_files_tutorial002()) as client:
        sizes = client.post("/files/", **multipart_body(files=TWO_FILES))  # type: ignore[arg-type]
        names = client.post("/uploadfiles/", **multipart_body(files=TWO_FILES))  # type: ignore[arg-type]
        nothing = client.post("/files/")
    assert (sizes.status_code, sizes.json()) == (200, {"file_sizes": [3, 5]})
    assert (names.status_code, names.json()) == (200, {"filenames": ["a.txt", "b.txt"]})
    assert_422(nothing, [missing("body", "files")])


def test_request_forms_and_files_tutorial001() -> None:
    files = [("file", "a.txt", b"<file content>", "text/plain"), ("fileb", "b.png", b"\x89PNG", "image/png")]
    with TestClient(request_forms_and_files_tutorial001()) as client:
        ok = client.post("/files/", **multipart_body(fields=[("token", "foo")], files=files))  # type: ignore[arg-type]
        nothing = client.post("/files/")
        token_only = client.post("/files/", **form_body({"token": "foo"}))  # type: ignore[arg-type]
    assert (ok.status_code, ok.json()) == (200, {"file_size": 14, "token": "foo", "fileb_content_type": "image/png"})
    assert_422(nothing, [missing("body", "file"), missing("body", "fileb"), missing("body", "token")])
    assert_422(token_only, [missing("body", "file"), missing("body", "fileb")])


def test_request_files_tutorial001_over_a_real_socket(serve: Any) -> None:
    request = multipart_body(files=[TEXT_FILE])
    body: bytes = request["content"]  # type: ignore[assignment]
    content_type: str = request["headers"]["content-type"]  # type: ignore[index]
    server = serve(request_files_tutorial001())
    with server.connect() as sock:
        sock.sendall(b"POST /uploadfile/ HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s"
                     % (content_type.encode(), len(body), body))
        response = read_response(sock)
    assert (response.status, response.body) == (200, b'{"filename":"test.txt"}')
