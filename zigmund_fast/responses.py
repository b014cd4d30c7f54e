"""Response objects: a status, headers and a body, and how they become bytes on the wire."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from zigmund_fast.background import BackgroundTasks

_json_encode = msgspec.json.Encoder().encode

# PERF: the head bytes for a bare media type are built once per media type.
_MEDIA_TYPE_HEADERS: dict[str | None, bytes] = {None: b""}


def _media_type_header(media_type: str | None) -> bytes:
    head = _MEDIA_TYPE_HEADERS.get(media_type)
    if head is None:
        head = b"content-type: " + media_type.encode("latin-1") + b"\r\n"  # type: ignore[union-attr]
        _MEDIA_TYPE_HEADERS[media_type] = head
    return head


# Headers the server writes itself; a user-supplied copy would duplicate them.
_SERVER_OWNED = frozenset({"content-length", "connection", "transfer-encoding", "date", "server"})


class MutableHeaders:
    """Response headers: case-insensitive, ordered, allowing repeated names via ``append``."""

    __slots__ = ("_items",)

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        self._items: list[tuple[str, str]] = []
        if headers:
            for name, value in headers.items():
                self.append(name, value)

    def __getitem__(self, name: str) -> str:
        key = name.lower()
        for item_name, value in self._items:
            if item_name == key:
                return value
        raise KeyError(name)

    def get(self, name: str, default: str | None = None) -> str | None:
        try:
            return self[name]
        except KeyError:
            return default

    def __setitem__(self, name: str, value: str) -> None:
        key = name.lower()
        _check_header(key, value)
        self._items = [item for item in self._items if item[0] != key]
        self._items.append((key, value))

    def __delitem__(self, name: str) -> None:
        key = name.lower()
        self._items = [item for item in self._items if item[0] != key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(k == name.lower() for k, _ in self._items)

    def append(self, name: str, value: str) -> None:
        key = name.lower()
        _check_header(key, value)
        self._items.append((key, value))

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter([k for k, _ in self._items])

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"MutableHeaders({self._items!r})"


def _check_header(name: str, value: str) -> None:
    # NOTE: a CR or LF in a header would let a handler split the response.
    if "\r" in name or "\n" in name or "\r" in value or "\n" in value or ":" in name:
        raise ValueError(f"invalid character in response header {name!r}")


class Response:
    """An HTTP response with a complete body.

    Parameters:
        body: ``bytes`` (sent as is) or ``str`` (UTF-8 encoded).
        status_code: the HTTP status.
        headers: extra response headers.
        media_type: the ``content-type``; for text types a charset is added.
        background: tasks to run after this response is sent (appended to the
            request's own queue, never replacing it).
    """

    __slots__ = ("body", "status_code", "media_type", "_headers", "background")

    def __init__(
        self,
        body: bytes | str = b"",
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTasks | None = None,
    ) -> None:
        if isinstance(body, str):
            body = body.encode("utf-8")
            if media_type is not None and media_type.startswith("text/") and "charset" not in media_type:
                media_type += "; charset=utf-8"
        elif not isinstance(body, (bytes, bytearray, memoryview)):
            raise TypeError(f"Response body must be bytes or str, not {type(body).__name__}")
        if not 100 <= status_code <= 599:
            raise ValueError(f"status_code must be between 100 and 599, got {status_code}")
        self.body = bytes(body)
        self.status_code = status_code
        self.media_type = media_type
        self._headers = MutableHeaders(headers) if headers else None
        self.background = background

    @property
    def headers(self) -> MutableHeaders:
        if self._headers is None:
            self._headers = MutableHeaders()
        return self._headers

    @classmethod
    def json(cls, content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        """A JSON response encoded with msgspec (dicts, lists, Structs, dataclasses, UUIDs, datetimes...)."""
        if headers is None and cls is Response and 100 <= status_code <= 599:
            return raw_response(_json_encode(content), status_code, "application/json")
        return cls(_json_encode(content), status_code, headers, "application/json")

    @classmethod
    def text(cls, content: str, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        return cls(content, status_code, headers, "text/plain")

    @classmethod
    def html(cls, content: str, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        return cls(content, status_code, headers, "text/html")

    def head_bytes(self) -> bytes:
        """The ``content-type`` and user header lines, CRLF-terminated (server-owned headers excluded)."""
        head = _media_type_header(self.media_type)
        if self._headers is None:
            return head
        lines = [b"" if "content-type" in self._headers else head]
        for name, value in self._headers._items:
            if name not in _SERVER_OWNED:
                lines.append(f"{name}: {value}\r\n".encode("latin-1"))
        return b"".join(lines)

    def __repr__(self) -> str:
        return f"<Response {self.status_code} {self.media_type} {len(self.body)} bytes>"


_new = object.__new__


def raw_response(body: bytes, status_code: int, media_type: str | None) -> Response:
    """A ``Response`` from already-checked parts, skipping ``__init__``'s validation."""
    # PERF: 0.14 us instead of 0.36 us per response (timeit, this machine).
    response = _new(Response)
    response.body = body
    response.status_code = status_code
    response.media_type = media_type
    response._headers = None
    response.background = None
    return response


def JSONResponse(content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:  # noqa: N802
    """FastAPI-style spelling of ``Response.json``."""
    return Response.json(content, status_code, headers)


def PlainTextResponse(content: str, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:  # noqa: N802
    return Response.text(content, status_code, headers)


def HTMLResponse(content: str, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:  # noqa: N802
    return Response.html(content, status_code, headers)
