"""Form bodies: ``application/x-www-form-urlencoded`` and ``multipart/form-data``, and uploaded files.

Multipart bodies are parsed with ``python-multipart``. The server has already
received the whole body (within its body limit) when a handler runs, so this
parses from memory; a file part larger than ``SPOOL_MAX_SIZE`` moves to a
temporary file on disk as it is copied out, so a handler that keeps the
upload does not keep it in memory.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator, Mapping
from typing import IO, Any
from urllib.parse import unquote_plus

SPOOL_MAX_SIZE = 1024 * 1024
MAX_FIELDS = 1000
MAX_FILES = 1000
MAX_PART_HEADERS = 16


class FormError(ValueError):
    """A form body that can't be parsed; answered 400 (as FastAPI does)."""


class UploadFile:
    """An uploaded file: its name, media type, part headers and contents.

    The contents are in a ``SpooledTemporaryFile`` (memory up to
    ``SPOOL_MAX_SIZE``, then disk). The async methods move disk I/O off the
    event loop; ``file`` is the underlying file object for synchronous code.
    """

    __slots__ = ("filename", "content_type", "headers", "file", "size")

    def __init__(
        self,
        file: IO[bytes],
        *,
        filename: str | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        size: int | None = None,
    ) -> None:
        self.file = file
        self.filename = filename
        self.content_type = content_type
        self.headers = dict(headers or {})
        self.size = size

    @property
    def _on_disk(self) -> bool:
        return bool(getattr(self.file, "_rolled", True))

    async def read(self, size: int = -1) -> bytes:
        if self._on_disk:
            return await asyncio.to_thread(self.file.read, size)
        return self.file.read(size)

    async def write(self, data: bytes) -> None:
        if self._on_disk:
            await asyncio.to_thread(self.file.write, data)
        else:
            self.file.write(data)
        if self.size is not None:
            self.size += len(data)

    async def seek(self, offset: int) -> None:
        if self._on_disk:
            await asyncio.to_thread(self.file.seek, offset)
        else:
            self.file.seek(offset)

    async def close(self) -> None:
        if self._on_disk:
            await asyncio.to_thread(self.file.close)
        else:
            self.file.close()

    def __repr__(self) -> str:
        return f"UploadFile(filename={self.filename!r}, size={self.size!r}, content_type={self.content_type!r})"


class FormData(Mapping[str, Any]):
    """The fields of a form: ``[key]`` is the last value, ``getlist`` all of them (str or UploadFile)."""

    __slots__ = ("_items", "_last")

    def __init__(self, items: list[tuple[str, Any]] | None = None) -> None:
        self._items: list[tuple[str, Any]] = items or []
        self._last = dict(self._items)

    def __getitem__(self, key: str) -> Any:
        return self._last[key]

    def getlist(self, key: str) -> list[Any]:
        return [value for name, value in self._items if name == key]

    def multi_items(self) -> list[tuple[str, Any]]:
        return list(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._last)

    def __len__(self) -> int:
        return len(self._last)

    def close(self) -> None:
        """Close every uploaded file (the request does this when it is done)."""
        for _, value in self._items:
            if isinstance(value, UploadFile):
                value.file.close()

    def __repr__(self) -> str:
        return f"FormData({self._items!r})"


def parse_form(content_type: str | None, body: bytes) -> FormData:
    """Parse a urlencoded or multipart body; an empty FormData for other media types."""
    media_type, options = _parse_content_type(content_type or "")
    if media_type == "application/x-www-form-urlencoded":
        return parse_urlencoded(body)
    if media_type == "multipart/form-data":
        boundary = options.get("boundary")
        if not boundary:
            raise FormError("Missing boundary in multipart.")
        return parse_multipart(body, boundary)
    return FormData()


def parse_urlencoded(body: bytes) -> FormData:
    items = []
    for piece in body.split(b"&"):
        if not piece:
            continue
        name, _, value = piece.partition(b"=")
        items.append((unquote_plus(name.decode("latin-1"), encoding="utf-8"),
                      unquote_plus(value.decode("latin-1"), encoding="utf-8")))
        if len(items) > MAX_FIELDS:
            raise FormError(f"Too many fields. Maximum number of fields is {MAX_FIELDS}.")
    return FormData(items)


def _parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    media_type, *params = value.split(";")
    options = {}
    for param in params:
        key, _, raw = param.strip().partition("=")
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1]
        options[key.strip().lower()] = raw
    return media_type.strip().lower(), options


class _MultipartCollector:
    """python-multipart callbacks that build the list of (name, str | UploadFile)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []
        self.headers: list[tuple[str, str]] = []
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.name = ""
        self.data = bytearray()
        self.upload: UploadFile | None = None
        self.fields = 0
        self.files = 0

    def on_part_begin(self) -> None:
        self.headers = []
        self.data = bytearray()
        self.upload = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if len(self.headers) >= MAX_PART_HEADERS:
            raise FormError("Too many headers in a multipart part.")
        self.headers.append((self.header_field.decode("latin-1").lower(), self.header_value.decode("latin-1")))
        self.header_field = bytearray()
        self.header_value = bytearray()

    def on_headers_finished(self) -> None:
        headers = dict(self.headers)
        disposition, options = _parse_content_type(headers.get("content-disposition", ""))
        if disposition != "form-data" or "name" not in options:
            raise FormError('The Content-Disposition header of a multipart part must be form-data with a name.')
        self.name = _decode_part_name(options["name"])
        if "filename" in options:
            self.files += 1
            if self.files > MAX_FILES:
                raise FormError(f"Too many files. Maximum number of files is {MAX_FILES}.")
            self.upload = UploadFile(
                tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_SIZE),  # noqa: SIM115 - closed with the form
                filename=_decode_part_name(options["filename"]), content_type=headers.get("content-type"),
                headers=headers, size=0,
            )
        else:
            self.fields += 1
            if self.fields > MAX_FIELDS:
                raise FormError(f"Too many fields. Maximum number of fields is {MAX_FIELDS}.")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.upload is not None:
            self.upload.file.write(data[start:end])
            self.upload.size = (self.upload.size or 0) + (end - start)
        else:
            self.data += data[start:end]

    def on_part_end(self) -> None:
        if self.upload is not None:
            self.upload.file.seek(0)
            self.items.append((self.name, self.upload))
        else:
            self.items.append((self.name, self.data.decode("utf-8", "replace")))

    def close(self) -> None:
        FormData(self.items).close()
        if self.upload is not None and (self.name, self.upload) not in self.items:
            self.upload.file.close()


def _decode_part_name(value: str) -> str:
    # NOTE: browsers send UTF-8 bytes in quoted names; the header was decoded as latin-1.
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def parse_multipart(body: bytes, boundary: str) -> FormData:
    try:
        from python_multipart import MultipartParser
    except ImportError:  # pragma: no cover - a declared dependency
        raise RuntimeError("multipart forms need the python-multipart package (pip install python-multipart)") from None
    collector = _MultipartCollector()
    callbacks = {name: getattr(collector, name) for name in (
        "on_part_begin", "on_part_data", "on_part_end", "on_header_field", "on_header_value", "on_header_end",
        "on_headers_finished",
    )}
    parser = MultipartParser(boundary.encode("latin-1"), callbacks)  # type: ignore[arg-type]
    try:
        parser.write(body)
        parser.finalize()
    except FormError:
        collector.close()
        raise
    except Exception as exc:  # python-multipart's own errors (malformed framing)
        collector.close()
        raise FormError(f"There was an error parsing the body: {exc}") from None
    if parser.state != _end_state():
        collector.close()
        raise FormError("There was an error parsing the body: the multipart body ended early.")
    return FormData(collector.items)


def _end_state() -> Any:
    from python_multipart.multipart import MultipartState

    return MultipartState.END


__all__ = ["FormData", "FormError", "UploadFile", "parse_form", "parse_multipart", "parse_urlencoded"]
