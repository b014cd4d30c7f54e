"""Responses whose body is produced while it is sent: ``StreamingResponse`` and its thread helpers.

The protocol writes a streamed response as its head, then each chunk the
moment the iterator yields it (``Transfer-Encoding: chunked`` when the length
is unknown), waiting whenever the client does not read fast enough. Sync
iterators run on a thread pool one ``next()`` at a time, so a slow generator
or a blocking read never holds up the event loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from zigmund_fast.responses import Response, _with_charset

if TYPE_CHECKING:
    from zigmund_fast.background import BackgroundTasks
    from zigmund_fast.requests import Request

T = TypeVar("T")
Chunk = bytes | str | memoryview | bytearray
Content = AsyncIterable[Chunk] | Iterable[Chunk]

# Threads for sync iterators and file reads (Starlette's thread limiter allows 40 too).
STREAM_THREADS = 40

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def stream_executor() -> ThreadPoolExecutor:
    """The process-wide pool that runs sync iterators and file reads for streamed responses."""
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(STREAM_THREADS, thread_name_prefix="zigmund-stream")
    return _executor


async def run_in_thread(func: Callable[..., T], *args: Any) -> T:
    """``func(*args)`` on the stream thread pool, awaited without blocking the loop."""
    return await asyncio.wrap_future(stream_executor().submit(func, *args))


_EXHAUSTED: Any = object()


def _next_or_exhausted(iterator: Iterator[T]) -> T:
    # NOTE: StopIteration can't cross a Future (asyncio turns it into a RuntimeError).
    try:
        return next(iterator)
    except StopIteration:
        return _EXHAUSTED  # type: ignore[no-any-return]


async def iterate_in_thread(iterator: Iterator[T]) -> AsyncIterator[T]:
    """Each ``next(iterator)`` on the stream thread pool; the iterator is closed when this one is.

    Closing happens on the pool too, and, if a ``next()`` is still running
    (the client went away while the generator was busy), only after it returns:
    a generator can't be closed while it runs.
    """
    executor = stream_executor()
    # The generator sees the context variables of the request, as a `def` handler does.
    run = contextvars.copy_context().run
    in_flight: Future[T] | None = None
    try:
        while True:
            in_flight = executor.submit(run, _next_or_exhausted, iterator)
            item = await asyncio.wrap_future(in_flight)
            in_flight = None
            if item is _EXHAUSTED:
                return
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            if in_flight is None or in_flight.done():
                executor.submit(close)
            else:
                in_flight.add_done_callback(lambda _: close())


async def _iterate_in_memory(items: list[Any] | tuple[Any, ...]) -> AsyncIterator[Any]:
    for item in items:
        yield item


def as_async_iterator(content: Any) -> AsyncIterator[Any]:
    """An async iterator over ``content``: async iterables as they are, sync ones through the thread pool."""
    if hasattr(content, "__aiter__"):
        return content.__aiter__()  # type: ignore[no-any-return]
    if isinstance(content, (str, bytes, bytearray, memoryview)):
        raise TypeError(
            "StreamingResponse content must be an iterator or iterable of chunks, not a single "
            f"{type(content).__name__}; use Response for a complete body"
        )
    if isinstance(content, (list, tuple)):
        # PERF: a list in memory can't block; no thread hop per chunk.
        return _iterate_in_memory(content)
    try:
        iterator = iter(content)
    except TypeError:
        raise TypeError(
            f"StreamingResponse content must be an (async) iterable of bytes or str, not {type(content).__name__}"
        ) from None
    return iterate_in_thread(iterator)


class StreamingResponse(Response):
    """A response sent as its iterator produces it: ``Transfer-Encoding: chunked`` on HTTP/1.1.

    Parameters:
        content: an async iterator/iterable, a sync iterator/iterable (each
            ``next()`` runs on a thread), or a list of chunks; chunks are
            ``bytes`` or ``str`` (UTF-8). Empty chunks are skipped.
        status_code, headers, media_type, background: as for ``Response``;
            the background tasks run after the last chunk was written.

    A ``content-length`` header, when given, is used as the length (the body
    is then sent without chunked framing and must have exactly that size).
    If the client disconnects, the iterator is closed (``aclose()``/``close()``,
    so a generator's ``finally`` runs); if it raises, the error is logged and
    the connection closed, so the client sees a truncated body.
    """

    __slots__ = ("body_iterator", "content_length")

    def __init__(
        self,
        content: Content,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTasks | None = None,
    ) -> None:
        super().__init__(b"", status_code, headers, _with_charset(media_type or self.default_media_type), background)
        self.body_iterator: AsyncIterator[Any] | None = as_async_iterator(content)
        self.content_length = -1
        if self._headers is not None:
            declared = self._headers.get("content-length")
            if declared is not None:
                if not declared.isdigit():
                    raise ValueError(f"content-length header must be a number of bytes, got {declared!r}")
                self.content_length = int(declared)

    async def prepare(self, request: Request) -> None:
        """Called by the protocol before the head is written; subclasses settle status, headers and length."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code} {self.media_type}>"


__all__ = ["StreamingResponse", "as_async_iterator", "iterate_in_thread", "run_in_thread", "stream_executor"]
