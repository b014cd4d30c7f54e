"""Request builders the in-process TestClient lacks (forms, cookies), shared by the parity ports.

FastAPI's tests post ``data=`` and ``files=`` through httpx and set cookies on
the client; here the same bytes are built by hand and sent as ``content=``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

FormFields = Mapping[str, str | Sequence[str]]


def form_body(fields: FormFields) -> dict[str, object]:
    """Keyword arguments for ``client.post`` sending ``fields`` urlencoded (as httpx's ``data=``)."""
    return {
        "content": urlencode(fields, doseq=True).encode("ascii"),
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    }


def multipart_body(
    fields: Sequence[tuple[str, str]] = (),
    files: Sequence[tuple[str, str, bytes, str]] = (),
    boundary: str = "parityboundary",
) -> dict[str, object]:
    """Keyword arguments for ``client.post`` sending a multipart body (as httpx's ``files=``).

    ``files`` are (field name, file name, content, content type).
    """
    chunks: list[bytes] = []
    for name, value in fields:
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        chunks.append(value.encode() + b"\r\n")
    for name, filename, data, content_type in files:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
        )
        chunks.append(data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return {
        "content": b"".join(chunks),
        "headers": {"content-type": f"multipart/form-data; boundary={boundary}"},
    }


def cookie_header(cookies: Mapping[str, str]) -> dict[str, str]:
    """A ``cookie`` request header for ``cookies`` (FastAPI's tests set them on the client)."""
    return {"cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}


# FastAPI 0.165's 422 error entries, as its TestClient returns them.


def missing(*loc: str | int) -> dict[str, object]:
    return {"type": "missing", "loc": list(loc), "msg": "Field required", "input": None}


def int_parsing(raw: object, *loc: str | int) -> dict[str, object]:
    return {"type": "int_parsing", "loc": list(loc),
            "msg": "Input should be a valid integer, unable to parse string as an integer", "input": raw}


def float_parsing(raw: object, *loc: str | int) -> dict[str, object]:
    return {"type": "float_parsing", "loc": list(loc),
            "msg": "Input should be a valid number, unable to parse string as a number", "input": raw}


def assert_422(response: Any, fastapi_detail: list[dict[str, Any]], *, same_wording: bool = True) -> None:
    """``response`` is FastAPI's 422 for the same request: ``fastapi_detail`` is FastAPI's real ``detail``.

    ``type``, ``loc`` and ``input`` must match entry by entry. With
    ``same_wording=False`` (errors from a msgspec-validated body model) the
    ``msg`` and ``ctx`` texts may be msgspec's instead of pydantic's: those
    differences are listed in tests/parity/README.md.
    """
    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    if same_wording:
        assert detail == fastapi_detail
        return
    assert [(e["type"], e["loc"], e["input"]) for e in detail] == [
        (e["type"], e["loc"], e["input"]) for e in fastapi_detail
    ]
    for error in detail:
        assert isinstance(error["msg"], str) and error["msg"]
