"""``GZipMiddleware``: gzip response bodies for clients that accept it.

A response is eligible when its body is at least ``minimum_size`` bytes (a
streamed one: its length is unknown or at least that), it has no
``content-encoding`` yet, it is not a ``206`` partial or a body-less status,
and its media type is not already compressed (images, archives, fonts...) or
``text/event-stream``. Eligible responses get ``Vary: Accept-Encoding``
whether or not this client accepts gzip, so caches keep the two apart; they
are compressed when ``Accept-Encoding`` lists ``gzip`` (or ``*``) with a
non-zero quality. The server then sends the new ``Content-Length``; a streamed
body is compressed chunk by chunk (each flushed, so nothing is held back) and
sent chunked. Bodies of 128 KiB or more are compressed on a worker thread.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from zigmund_fast.middleware._headers import add_vary
from zigmund_fast.responses import Response
from zigmund_fast.streaming import StreamingResponse, run_in_thread

if TYPE_CHECKING:
    from zigmund_fast.requests import Request

DEFAULT_EXCLUDED_CONTENT_TYPES = (
    "application/gzip", "application/x-gzip", "application/zip", "application/grpc", "audio/*", "font/woff",
    "font/woff2", "image/avif", "image/gif", "image/jpeg", "image/png", "image/webp", "text/event-stream", "video/*",
)
# Bodies at least this large are compressed on the stream thread pool instead of the event loop.
THREAD_MINIMUM_SIZE = 128 * 1024


class GZipMiddleware:
    """Compress eligible responses with gzip.

    Parameters:
        minimum_size: smaller bodies are sent as they are.
        compresslevel: 1 (fast) to 9 (small).
        exclude_content_types: media types (``"image/png"``, or ``"video/*"``)
            never compressed.
    """

    def __init__(
        self,
        minimum_size: int = 500,
        compresslevel: int = 9,
        *,
        exclude_content_types: tuple[str, ...] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        if minimum_size < 0:
            raise ValueError("minimum_size must be >= 0")
        if not 0 <= compresslevel <= 9:
            raise ValueError(f"compresslevel must be between 0 and 9, got {compresslevel}")
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.exclude_content_types = frozenset(kind.lower() for kind in exclude_content_types)

    async def __call__(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if isinstance(response, StreamingResponse):
            if not self.eligible(response):  # e.g. server-sent events: not even wrapped
                return response
            return _GZipStream(response, self, accepts_gzip(request.headers.get("accept-encoding")))
        if len(response.body) < self.minimum_size or not self.eligible(response):
            return response
        add_vary(response.headers, "Accept-Encoding")
        if not accepts_gzip(request.headers.get("accept-encoding")):
            return response
        body = response.body
        if len(body) >= THREAD_MINIMUM_SIZE:
            response.body = await run_in_thread(_compress, body, self.compresslevel)
        else:
            response.body = _compress(body, self.compresslevel)
        response.headers["content-encoding"] = "gzip"
        return response

    def eligible(self, response: Response) -> bool:
        """Whether ``response`` (size aside) may be compressed."""
        status = response.status_code
        if status < 200 or status in (204, 206, 304):
            return False
        headers = response._headers
        content_type = response.media_type
        if headers is not None:
            if "content-encoding" in headers:
                return False
            content_type = headers.get("content-type", content_type)
        media_type = (content_type or "").partition(";")[0].strip().lower()
        excluded = self.exclude_content_types
        return media_type not in excluded and media_type.partition("/")[0] + "/*" not in excluded


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an ``Accept-Encoding`` value allows gzip (``gzip;q=0`` refuses it; ``*`` allows it)."""
    if not accept_encoding:
        return False
    star = False
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if coding not in ("gzip", "x-gzip", "*"):
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if coding == "*":
            star = quality > 0
        else:
            return quality > 0
    return star


def _compress(body: bytes, level: int) -> bytes:
    return gzip.compress(body, level, mtime=0)


class _GZipStream(StreamingResponse):
    """A streamed response seen through the middleware: compressed (or not) once the inner one has prepared."""

    __slots__ = ("accepts", "inner", "middleware")

    def __init__(self, inner: StreamingResponse, middleware: GZipMiddleware, accepts: bool) -> None:
        # NOTE: no super().__init__: everything is taken over from the inner response.
        self.inner = inner
        self.middleware = middleware
        self.accepts = accepts
        self._take_over()

    def _take_over(self) -> None:
        inner = self.inner
        self.status_code = inner.status_code
        self.media_type = inner.media_type
        self._headers = inner._headers
        self.background = inner.background
        self.body = inner.body
        self.body_iterator = inner.body_iterator
        self.content_length = inner.content_length

    async def prepare(self, request: Request) -> None:
        """Called by the protocol before the head: let the inner response settle, then decide."""
        await self.inner.prepare(request)
        self._take_over()
        middleware = self.middleware
        if 0 <= self.content_length < middleware.minimum_size or not middleware.eligible(self):
            return
        headers = self.headers
        add_vary(headers, "Accept-Encoding")
        if not self.accepts:
            return
        headers["content-encoding"] = "gzip"
        if "content-length" in headers:
            del headers["content-length"]
        self.content_length = -1
        if self.body_iterator is not None:
            self.body_iterator = _compressed_chunks(self.body_iterator, middleware.compresslevel)

    def __repr__(self) -> str:
        return f"<gzip {self.inner!r}>"


async def _compressed_chunks(chunks: AsyncIterator[Any], level: int) -> AsyncIterator[bytes]:
    """``chunks`` as one gzip stream; each chunk is flushed so a slow stream is not held back."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 16 + 15: a gzip header and trailer
    try:
        async for chunk in chunks:
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8")
            if not chunk:
                continue
            out = compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH)
            if out:
                yield out
        yield compressor.flush(zlib.Z_FINISH)
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


__all__ = ["DEFAULT_EXCLUDED_CONTENT_TYPES", "GZipMiddleware", "accepts_gzip"]
