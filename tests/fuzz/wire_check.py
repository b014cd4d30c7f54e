"""A strict reader of the bytes a server wrote: every response must be valid HTTP/1.1 with exact framing.

Stricter than httptools on purpose: a status line of the exact form, header
names that are tokens, no CR/LF/NUL inside a value, one ``content-length`` (or
a well-formed chunked body), no bytes after a ``connection: close`` response,
and nothing left over that is not a whole response.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

STATUS_LINE = re.compile(rb"HTTP/1\.1 ([1-5][0-9][0-9]) ([\x20-\x7e]*)\r\n")
HEADER_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+): ?([^\r\n\x00]*)\r\n")
CHUNK_SIZE_LINE = re.compile(rb"([0-9a-fA-F]+)\r\n")


class FramingError(AssertionError):
    """The server wrote bytes that are not a valid HTTP/1.1 response stream."""


class Truncated(FramingError):
    """The bytes end inside a response (valid so far)."""


@dataclasses.dataclass
class WireResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def closes(self) -> bool:
        return (self.header(b"connection") or b"").lower() == b"close"

    @property
    def interim(self) -> bool:
        return 100 <= self.status < 200


def _read_head(data: bytes, pos: int) -> tuple[int, list[tuple[bytes, bytes]], int]:
    end = data.find(b"\r\n\r\n", pos)
    if end < 0:
        raise Truncated(f"the bytes end inside a response head at byte {pos}: {data[pos:pos + 80]!r}")
    match = STATUS_LINE.match(data, pos)
    if match is None:
        raise FramingError(f"bad status line at byte {pos}: {data[pos:pos + 80]!r}")
    status = int(match.group(1))
    pos = match.end()
    headers: list[tuple[bytes, bytes]] = []
    while not data.startswith(b"\r\n", pos):
        line = HEADER_LINE.match(data, pos)
        if line is None:
            raise FramingError(f"bad header line at byte {pos}: {data[pos:pos + 80]!r}")
        headers.append((line.group(1).lower(), line.group(2)))
        pos = line.end()
    return status, headers, pos + 2


def _read_chunked(data: bytes, pos: int) -> tuple[bytes, int]:
    body = bytearray()
    while True:
        size_line = CHUNK_SIZE_LINE.match(data, pos)
        if size_line is None and b"\r\n" not in data[pos:pos + 20]:
            raise Truncated(f"the bytes end inside a chunk size line at byte {pos}")
        if size_line is None:
            raise FramingError(f"bad chunk size line at byte {pos}: {data[pos:pos + 40]!r}")
        size = int(size_line.group(1), 16)
        pos = size_line.end()
        if size == 0:
            if len(data) < pos + 2:
                raise Truncated(f"the bytes end before the final CRLF of a chunked body at byte {pos}")
            if not data.startswith(b"\r\n", pos):
                raise FramingError(f"chunked body without its final CRLF at byte {pos}")
            return bytes(body), pos + 2
        if len(data) < pos + size + 2:
            raise Truncated(f"the bytes end inside a chunk of {size} bytes at byte {pos}")
        if data[pos + size:pos + size + 2] != b"\r\n":
            raise FramingError(f"chunk of {size} bytes at byte {pos} is truncated or not followed by CRLF")
        body += data[pos:pos + size]
        pos += size + 2


def _one_response(data: bytes, pos: int, head_request: bool) -> tuple[WireResponse, int]:
    status, headers, pos = _read_head(data, pos)
    lengths = [value for name, value in headers if name == b"content-length"]
    codings = [value for name, value in headers if name == b"transfer-encoding"]
    connection = [value for name, value in headers if name == b"connection"]
    if len(connection) > 1 or (connection and connection[0].lower() not in (b"close", b"keep-alive")):
        raise FramingError(f"bad connection header(s) {connection!r} in a {status} response")
    if 100 <= status < 200 or status in (204, 304):
        if lengths or codings:
            raise FramingError(f"a {status} response must not carry content-length or transfer-encoding")
        return WireResponse(status, headers, b""), pos
    if lengths and codings:
        raise FramingError(f"a {status} response carries both content-length and transfer-encoding")
    if codings:
        if codings != [b"chunked"]:
            raise FramingError(f"unexpected transfer-encoding {codings!r}")
        if head_request:
            return WireResponse(status, headers, b""), pos
        body, pos = _read_chunked(data, pos)
        return WireResponse(status, headers, body), pos
    if not lengths and not codings and connection and connection[0].lower() == b"close":
        # A body delimited by the close (a streamed response to HTTP/1.0): the rest is the body.
        return WireResponse(status, headers, b"" if head_request else data[pos:]), pos if head_request else len(data)
    if len(lengths) != 1 or not lengths[0].isdigit():
        raise FramingError(f"a {status} response needs exactly one numeric content-length, got {lengths!r}")
    length = 0 if head_request else int(lengths[0])
    if len(data) < pos + length:
        raise Truncated(f"a {status} response declares {length} body bytes, only {len(data) - pos} follow")
    return WireResponse(status, headers, data[pos:pos + length]), pos + length


def parse_responses(data: bytes, is_head: Callable[[int], bool] = lambda index: False) -> tuple[list[WireResponse], bool]:
    """Every response in ``data``, interim (1xx) ones included; and whether the bytes end inside one.

    ``is_head(n)`` says whether the n-th final response answers a HEAD request
    (its content-length is then not followed by a body). Bytes that end inside
    a response are not an error here (a stream cut short by the client ends so);
    the caller decides whether that was allowed.
    """
    responses: list[WireResponse] = []
    finals = 0
    pos = 0
    while pos < len(data):
        if responses and responses[-1].closes:
            raise FramingError(f"{len(data) - pos} bytes written after a connection: close response: "
                               f"{data[pos:pos + 80]!r}")
        try:
            response, pos = _one_response(data, pos, is_head(finals))
        except Truncated:
            return responses, True
        if not response.interim:
            finals += 1
        responses.append(response)
    return responses, False


def final_responses(responses: list[WireResponse]) -> list[WireResponse]:
    return [response for response in responses if not response.interim]
