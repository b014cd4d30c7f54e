"""``FileResponse``: a file streamed from disk, with validators, conditional GETs and byte ranges.

Every disk access (``stat``, ``open``, each read) runs on the stream thread
pool. Range requests follow RFC 9110 section 14: one satisfiable range gives a
``206`` with ``content-range``, several give a ``multipart/byteranges`` body
(overlapping ranges are merged), none gives ``416`` with
``content-range: bytes */size``. A ``Range`` header that can't be parsed, or
uses another unit, is ignored (the whole file is sent), as the RFC asks.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator, Mapping
from email.utils import formatdate, parsedate_to_datetime
from mimetypes import guess_type
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from zigmund_fast.streaming import StreamingResponse, iterate_in_thread, run_in_thread

if TYPE_CHECKING:
    from zigmund_fast.background import BackgroundTasks
    from zigmund_fast.requests import Request

CHUNK_SIZE = 64 * 1024
# More ranges than this in one request are ignored (the whole file is sent): a cheap guard against abuse.
MAX_RANGES = 100

Ranges = list[tuple[int, int]]  # inclusive (first, last) byte positions


class FileResponse(StreamingResponse):
    """The file at ``path``, read in 64 KiB chunks off the event loop.

    Parameters:
        path: the file to send; it is looked up when the response is sent, and a
            missing file gives a 500 with the reason in the log.
        status_code, headers, background: as for ``Response``.
        media_type: defaults to a guess from ``filename`` or ``path``.
        filename: adds ``content-disposition: attachment; filename="..."``
            (RFC 5987 ``filename*=`` for names that need escaping).
        stat_result: an ``os.stat_result`` already at hand (skips the ``stat``).
        content_disposition_type: ``"attachment"`` (download) or ``"inline"``.

    Sent with ``content-length``, ``etag``, ``last-modified`` and
    ``accept-ranges: bytes``; answers ``Range``/``If-Range`` (for GET and HEAD
    with status 200) and ``If-None-Match``/``If-Modified-Since`` with ``304``.
    """

    __slots__ = ("chunk_size", "filename", "path", "stat_result")

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTasks | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        if media_type is None:
            media_type = self.default_media_type or guess_type(filename or os.fspath(path))[0] \
                or "application/octet-stream"
        super().__init__([], status_code, headers, media_type, background)
        self.path = path
        self.filename = filename
        self.stat_result = stat_result
        self.chunk_size = CHUNK_SIZE
        self.body_iterator = None
        if "accept-ranges" not in self.headers:
            self.headers["accept-ranges"] = "bytes"
        if filename is not None and "content-disposition" not in self.headers:
            self.headers["content-disposition"] = content_disposition(filename, content_disposition_type)

    async def prepare(self, request: Request) -> None:
        """Called by the protocol before the head: stat the file, then settle status, headers and body."""
        info = self.stat_result
        if info is None:
            try:
                info = await run_in_thread(os.stat, self.path)
            except FileNotFoundError:
                raise RuntimeError(f"File at path {self.path} does not exist.") from None
            if not stat.S_ISREG(info.st_mode):
                raise RuntimeError(f"File at path {self.path} is not a file.")
        size = info.st_size
        headers = self.headers
        etag = headers.get("etag")
        if etag is None:
            etag = headers["etag"] = f'"{info.st_mtime_ns:x}-{size:x}"'
        last_modified = headers.get("last-modified")
        if last_modified is None:
            last_modified = headers["last-modified"] = formatdate(info.st_mtime, usegmt=True)
        self.content_length = size
        if self.status_code != 200 or request.method not in ("GET", "HEAD"):
            self.body_iterator = self._read([(0, size - 1)]) if size else None
            return
        asked = request.headers
        if _not_modified(asked.get("if-none-match"), asked.get("if-modified-since"), etag, info.st_mtime):
            self.status_code = 304
            self.content_length = -1
            return
        ranges = None
        range_header = asked.get("range")
        if range_header is not None:
            if_range = asked.get("if-range")
            if if_range is None or _if_range_matches(if_range, etag, last_modified):
                ranges = parse_range_header(range_header, size)
        if ranges is None:
            self.body_iterator = self._read([(0, size - 1)]) if size else None
        elif not ranges:
            self.status_code = 416
            self.media_type = None
            headers["content-range"] = f"bytes */{size}"
            self.content_length = 0
        elif len(ranges) == 1:
            first, last = ranges[0]
            self.status_code = 206
            headers["content-range"] = f"bytes {first}-{last}/{size}"
            self.content_length = last - first + 1
            self.body_iterator = self._read(ranges)
        else:
            self._multipart(ranges, size)

    def _multipart(self, ranges: Ranges, size: int) -> None:
        boundary = secrets.token_hex(13)
        part_type = self.media_type or "application/octet-stream"
        heads = [
            f"--{boundary}\r\ncontent-type: {part_type}\r\ncontent-range: bytes {first}-{last}/{size}\r\n\r\n"
            .encode("latin-1")
            for first, last in ranges
        ]
        closing = f"--{boundary}--\r\n".encode("latin-1")
        self.status_code = 206
        self.media_type = f"multipart/byteranges; boundary={boundary}"
        if "content-type" in self.headers:
            del self.headers["content-type"]
        self.content_length = (
            sum(len(head) + (last - first + 1) + 2 for head, (first, last) in zip(heads, ranges)) + len(closing)
        )
        self.body_iterator = self._read(ranges, heads, closing)

    def _read(self, ranges: Ranges, heads: list[bytes] | None = None, closing: bytes = b"") -> Any:
        return iterate_in_thread(_file_chunks(self.path, ranges, self.chunk_size, heads, closing))


def _file_chunks(
    path: str | os.PathLike[str], ranges: Ranges, chunk_size: int, heads: list[bytes] | None, closing: bytes,
) -> Iterator[bytes]:
    """Runs on the stream thread pool (one ``next()`` per chunk): the bytes of ``ranges``, with part heads."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        for index, (first, last) in enumerate(ranges):
            if heads is not None:
                yield heads[index]
            position, end = first, last + 1
            while position < end:
                chunk = os.pread(fd, min(chunk_size, end - position), position)
                if not chunk:
                    raise RuntimeError(f"File at path {path} is shorter than expected.")
                position += len(chunk)
                yield chunk
            if heads is not None:
                yield b"\r\n"
        if closing:
            yield closing
    finally:
        os.close(fd)


def content_disposition(filename: str, disposition_type: str = "attachment") -> str:
    quoted = quote(filename)
    if quoted != filename:
        return f"{disposition_type}; filename*=utf-8''{quoted}"
    return f'{disposition_type}; filename="{filename}"'


def parse_range_header(value: str, size: int) -> Ranges | None:
    """``bytes=0-99,-50`` -> merged inclusive ranges; ``[]`` if none is satisfiable; None to ignore the header."""
    unit, sep, specs = value.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    parts = specs.split(",")
    if len(parts) > MAX_RANGES:
        return None
    ranges: Ranges = []
    for part in parts:
        spec = part.strip()
        if not spec:
            continue
        first_text, dash, last_text = spec.partition("-")
        first_text, last_text = first_text.strip(), last_text.strip()
        if not dash or not _is_digits(first_text, allow_empty=True) or not _is_digits(last_text, allow_empty=True):
            return None
        if not first_text:
            if not last_text:
                return None
            suffix = int(last_text)
            if suffix and size:  # "-0" and any range of an empty file can't be satisfied
                ranges.append((max(size - suffix, 0), size - 1))
            continue
        first = int(first_text)
        last = int(last_text) if last_text else size - 1
        if last_text and last < first:
            return None  # invalid syntax: the whole header is ignored
        if first < size:
            ranges.append((first, min(last, size - 1)))
    if len(ranges) <= 1:
        return ranges
    ranges.sort()
    merged = [ranges[0]]
    for first, last in ranges[1:]:
        previous_first, previous_last = merged[-1]
        if first <= previous_last + 1:
            merged[-1] = (previous_first, max(previous_last, last))
        else:
            merged.append((first, last))
    return merged


def _is_digits(text: str, allow_empty: bool) -> bool:
    return (allow_empty and not text) or (text.isdigit() and text.isascii())


def _if_range_matches(if_range: str, etag: str, last_modified: str) -> bool:
    """A strong comparison against the validators: weak tags never match (RFC 9110 section 13.1.5)."""
    value = if_range.strip()
    if value.startswith("W/"):
        return False
    return value == etag or value == last_modified


def _not_modified(if_none_match: str | None, if_modified_since: str | None, etag: str, mtime: float) -> bool:
    if if_none_match is not None:
        # NOTE: weak comparison; and If-Modified-Since is ignored when If-None-Match is present.
        bare = etag.removeprefix("W/")
        for candidate in if_none_match.split(","):
            tag = candidate.strip()
            if tag == "*" or tag.removeprefix("W/") == bare:
                return True
        return False
    if if_modified_since is not None:
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
        return int(mtime) <= since
    return False


__all__ = ["FileResponse", "content_disposition", "parse_range_header"]
