"""Response objects: a status, headers and a body, and how they become bytes on the wire."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.utils import format_datetime
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import quote

from zigmund_fast._compiled.messages import (
    ResponseCore,
    json_encode,
    new_response,
    set_response_class,
)

if TYPE_CHECKING:
    from zigmund_fast.background import BackgroundTasks

_json_encode = json_encode

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


_MEDIA_TYPE_FIELD: Any = ResponseCore.__dict__["media_type"]


class _DeclaredMediaType:
    """A subclass's ``media_type = "..."``: that string on the class, the instance's own field on instances."""

    __slots__ = ("default",)

    def __init__(self, default: str) -> None:
        self.default = default

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        return self.default if instance is None else _MEDIA_TYPE_FIELD.__get__(instance, owner)

    def __set__(self, instance: Any, value: str | None) -> None:
        _MEDIA_TYPE_FIELD.__set__(instance, value)


class Response(ResponseCore):
    """An HTTP response with a complete body.

    Parameters:
        content: ``bytes`` (sent as is) or ``str`` (UTF-8 encoded).
        status_code: the HTTP status.
        headers: extra response headers.
        media_type: the ``content-type``; for text types a charset is added.
            A subclass may set a class attribute ``media_type`` as its default.
        background: tasks to run after this response is sent (appended to the
            request's own queue, never replacing it).
    """

    __slots__ = ()  # the fields (body, status_code, media_type, _headers, background) are ResponseCore's

    # The media type used when none is given (``JSONResponse``: ``application/json``).
    default_media_type: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # NOTE: Starlette subclasses say ``media_type = "image/png"``; honour that spelling.
        declared = cls.__dict__.get("media_type")
        if isinstance(declared, str):
            cls.default_media_type = declared
            # NOTE: a plain class attribute would hide the compiled field from instances (the
            # protocol reads the field); this keeps the class-level value readable as well.
            cls.media_type = _DeclaredMediaType(declared)  # type: ignore[assignment]

    def __init__(
        self,
        content: bytes | str = b"",
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTasks | None = None,
    ) -> None:
        if media_type is None:
            media_type = self.default_media_type
        if isinstance(content, str):
            content = content.encode("utf-8")
            media_type = _with_charset(media_type)
        elif not isinstance(content, (bytes, bytearray, memoryview)):
            raise TypeError(f"Response body must be bytes or str, not {type(content).__name__}")
        if not 100 <= status_code <= 599:
            raise ValueError(f"status_code must be between 100 and 599, got {status_code}")
        self.body = bytes(content)
        self.status_code = status_code
        self.media_type = media_type
        self._headers = MutableHeaders(headers) if headers else None
        self.background = background

    @property
    def headers(self) -> MutableHeaders:
        if self._headers is None:
            self._headers = MutableHeaders()
        return self._headers

    # ``Response.json(content, status_code=200, headers=None)`` is compiled: see ResponseCore.json.

    @classmethod
    def text(cls, content: str, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        return Response(content, status_code, headers, "text/plain")

    @classmethod
    def html(cls, content: str, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        return Response(content, status_code, headers, "text/html")

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Add a ``set-cookie`` header (formatted as Starlette does: ``k=v; Path=/; SameSite=lax``).

        ``expires`` is a datetime, an HTTP date string, or seconds from now.
        """
        self.headers.append("set-cookie", format_cookie(
            key, value, max_age=max_age, expires=expires, path=path, domain=domain, secure=secure,
            httponly=httponly, samesite=samesite, partitioned=partitioned,
        ))

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> None:
        """Tell the client to drop cookie ``key`` (an empty value that expires now)."""
        self.set_cookie(key, max_age=0, expires=0, path=path, domain=domain, secure=secure, httponly=httponly,
                        samesite=samesite)

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
        return f"<{type(self).__name__} {self.status_code} {self.media_type} {len(self.body)} bytes>"


def _with_charset(media_type: str | None) -> str | None:
    if media_type is not None and media_type.startswith("text/") and "charset" not in media_type:
        return media_type + "; charset=utf-8"
    return media_type


_SAMESITE = frozenset({"lax", "strict", "none"})


def format_cookie(
    key: str,
    value: str = "",
    *,
    max_age: int | None = None,
    expires: datetime | str | int | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = False,
    samesite: str | None = "lax",
    partitioned: bool = False,
) -> str:
    """One ``set-cookie`` value, through the stdlib's cookie quoting and attribute order."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar[key] = value
    except CookieError as exc:
        raise ValueError(f"invalid cookie name {key!r}: {exc}") from None
    morsel = jar[key]
    if max_age is not None:
        morsel["max-age"] = max_age
    if expires is not None:
        morsel["expires"] = format_datetime(expires, usegmt=True) if isinstance(expires, datetime) else expires
    if path is not None:
        morsel["path"] = path
    if domain is not None:
        morsel["domain"] = domain
    if secure:
        morsel["secure"] = True
    if httponly:
        morsel["httponly"] = True
    if samesite is not None:
        if samesite.lower() not in _SAMESITE:
            raise ValueError(f"samesite must be 'lax', 'strict' or 'none', got {samesite!r}")
        morsel["samesite"] = samesite
    text = morsel.OutputString()
    if partitioned:
        # NOTE: http.cookies learns "Partitioned" only in Python 3.14; the attribute is a bare flag.
        text += "; Partitioned"
    return text


def raw_response(body: bytes, status_code: int, media_type: str | None) -> Response:
    """A ``Response`` from already-checked parts, skipping ``__init__``'s validation."""
    return new_response(Response, body, status_code, media_type)  # type: ignore[return-value]


set_response_class(Response)


class JSONResponse(Response):
    """``content`` encoded as JSON with msgspec (dicts, lists, Structs, dataclasses, UUIDs, datetimes...)."""

    __slots__ = ()
    default_media_type = "application/json"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTasks | None = None,
    ) -> None:
        super().__init__(_json_encode(content), status_code, headers, media_type, background)


class HTMLResponse(Response):
    __slots__ = ()
    default_media_type = "text/html"


class PlainTextResponse(Response):
    __slots__ = ()
    default_media_type = "text/plain"


class RedirectResponse(Response):
    """An empty response with a ``location`` header (307 by default: the method and body are kept)."""

    __slots__ = ()

    def __init__(
        self,
        url: str,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTasks | None = None,
    ) -> None:
        super().__init__(b"", status_code, headers, None, background)
        # NOTE: percent-encode what may not appear raw in a URL, keeping its delimiters and escapes.
        self.headers["location"] = quote(str(url), safe=":/%#?=@[]!$&'()*+,;")
