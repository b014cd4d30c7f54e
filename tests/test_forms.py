"""Form bodies: urlencoded and multipart parsing, uploaded files spooled to disk past a threshold, bad input."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import pytest

from zigmund_fast import App, File, Form, forms
from zigmund_fast.forms import FormError, UploadFile, parse_form
from zigmund_fast.testing import TestClient


def multipart(*parts: tuple[str, bytes, str | None, str | None], boundary: str = "b0undary") -> tuple[str, bytes]:
    """(content type, body) for parts of (name, data, filename, content type)."""
    chunks = []
    for name, data, filename, content_type in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        chunks.append(head.encode("utf-8") + b"\r\n" + data + b"\r\n")
    return f"multipart/form-data; boundary={boundary}", b"".join(chunks) + f"--{boundary}--\r\n".encode()


def test_urlencoded_fields_repeat_and_decode() -> None:
    form = parse_form("application/x-www-form-urlencoded", b"a=1&b=x+y%C3%A9&a=2&empty=&flag")
    assert form["a"] == "2" and form.getlist("a") == ["1", "2"]
    assert form["b"] == "x y\u00e9" and form["empty"] == "" and form["flag"] == ""
    assert list(form) == ["a", "b", "empty", "flag"]


def test_multipart_fields_and_files() -> None:
    content_type, body = multipart(
        ("name", "Zo\u00eb".encode(), None, None),
        ("upload", b"\x00binary\r\n--not-a-boundary", "r\u00e9sum\u00e9.bin", "application/octet-stream"),
        ("upload", b"second", "two.txt", "text/plain"),
    )
    form = parse_form(content_type, body)
    assert form["name"] == "Zo\u00eb"
    first, second = form.getlist("upload")
    assert isinstance(first, UploadFile) and first.filename == "r\u00e9sum\u00e9.bin"
    assert first.content_type == "application/octet-stream" and first.size == len(b"\x00binary\r\n--not-a-boundary")
    assert asyncio.run(first.read()) == b"\x00binary\r\n--not-a-boundary"
    assert second.file.read() == b"second" and second.headers["content-type"] == "text/plain"
    form.close()
    assert first.file.closed and second.file.closed


def test_a_large_upload_is_spooled_to_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forms, "SPOOL_MAX_SIZE", 1024)
    content_type, body = multipart(("big", b"x" * 5000, "big.bin", None), ("small", b"y" * 10, "s.bin", None))
    form = parse_form(content_type, body)
    big, small = form["big"], form["small"]
    assert big.file._rolled and not small.file._rolled  # type: ignore[attr-defined]
    assert asyncio.run(big.read()) == b"x" * 5000 and big.size == 5000
    form.close()


@pytest.mark.parametrize("content_type, body, message", [
    ("multipart/form-data", b"--x--\r\n", "Missing boundary"),
    ("multipart/form-data; boundary=abc", b"garbage", "error parsing the body"),
    ("multipart/form-data; boundary=abc", b'--abc\r\nContent-Disposition: form-data; name="a"\r\n\r\nunfinished',
     "ended early"),
    ("multipart/form-data; boundary=abc", b"--abc\r\nContent-Type: text/plain\r\n\r\nx\r\n--abc--\r\n",
     "Content-Disposition"),
])
def test_malformed_bodies_raise_form_error(content_type: str, body: bytes, message: str) -> None:
    with pytest.raises(FormError, match=message):
        parse_form(content_type, body)


def test_field_and_file_counts_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forms, "MAX_FIELDS", 3)
    monkeypatch.setattr(forms, "MAX_FILES", 2)
    with pytest.raises(FormError, match="Too many fields"):
        parse_form("application/x-www-form-urlencoded", b"a=1&b=2&c=3&d=4")
    with pytest.raises(FormError, match="Too many files"):
        parse_form(*multipart(*[(f"f{n}", b"x", f"{n}.txt", None) for n in range(3)]))
    with pytest.raises(FormError, match="Too many fields"):
        parse_form(*multipart(*[(f"f{n}", b"x", None, None) for n in range(4)]))


def test_other_media_types_give_an_empty_form() -> None:
    assert len(parse_form("application/json", b'{"a": 1}')) == 0
    assert len(parse_form(None, b"a=1")) == 0


# Form and File parameters of handlers


def form_app() -> App:
    app = App()

    @app.post("/login")
    async def login(username: Annotated[str, Form()], password: str = Form(min_length=3),
                    remember: bool = Form(False)) -> dict[str, Any]:
        return {"username": username, "password_length": len(password), "remember": remember}

    @app.post("/files")
    async def upload(file: UploadFile, note: str = Form(""), raw: bytes = File(None),
                     tags: list[str] = Form([])) -> dict[str, Any]:
        return {"name": file.filename, "size": len(await file.read()), "note": note,
                "raw": raw.decode() if raw else None, "tags": tags}

    @app.post("/many")
    def many(files: list[UploadFile]) -> dict[str, Any]:
        return {"names": [f.filename for f in files], "closed_in_handler": [f.file.closed for f in files]}

    return app


def test_urlencoded_form_parameters_are_converted_and_validated() -> None:
    with TestClient(form_app()) as client:
        ok = client.post("/login", content=b"username=zoe&password=secret&remember=true",
                         headers={"content-type": "application/x-www-form-urlencoded"})
        assert ok.status_code == 200 and ok.json() == {"username": "zoe", "password_length": 6, "remember": True}
        bad = client.post("/login", content=b"password=ab", headers={"content-type": "application/x-www-form-urlencoded"})
    assert bad.status_code == 422
    errors = {(tuple(e["loc"]), e["type"]) for e in bad.json()["detail"]}
    assert errors == {(("body", "username"), "missing"), (("body", "password"), "string_too_short")}


def test_multipart_files_and_fields_reach_the_handler() -> None:
    content_type, body = multipart(("file", b"hello world", "a.txt", "text/plain"), ("note", b"n", None, None),
                                   ("raw", b"raw bytes", "r.bin", None), ("tags", b"x", None, None),
                                   ("tags", b"y", None, None))
    with TestClient(form_app()) as client:
        response = client.post("/files", content=body, headers={"content-type": content_type})
        assert response.status_code == 200
        assert response.json() == {"name": "a.txt", "size": 11, "note": "n", "raw": "raw bytes", "tags": ["x", "y"]}
        content_type, body = multipart(("files", b"1", "one", None), ("files", b"2", "two", None))
        many = client.post("/many", content=body, headers={"content-type": content_type})
        assert many.json() == {"names": ["one", "two"], "closed_in_handler": [False, False]}
        missing = client.post("/files", content=b"note=x", headers={"content-type": "application/x-www-form-urlencoded"})
        assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "file"]


def test_a_malformed_multipart_body_is_a_400() -> None:
    with TestClient(form_app()) as client:
        response = client.post("/files", content=b"not multipart at all",
                               headers={"content-type": "multipart/form-data; boundary=zz"})
    assert response.status_code == 400 and response.json() == {"detail": "There was an error parsing the body"}


def test_form_routes_in_openapi_validate() -> None:
    from openapi_spec_validator import validate

    document = form_app().openapi()
    validate(document)
    login = document["paths"]["/login"]["post"]["requestBody"]["content"]
    assert list(login) == ["application/x-www-form-urlencoded"]
    files = document["paths"]["/files"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    component = document["components"]["schemas"][files.rsplit("/", 1)[1]]
    assert component["properties"]["file"]["format"] == "binary" and component["required"] == ["file"]
