"""Form bodies: urlencoded and multipart parsing, uploaded files spooled to disk past a threshold, bad input."""

from __future__ import annotations

import asyncio

import pytest

from zigmund_fast import forms
from zigmund_fast.forms import FormError, UploadFile, parse_form


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
