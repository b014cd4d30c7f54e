"""Server-sent events, spelled as FastAPI spells them (``fastapi.sse``).

Two ways to use them:

- ``response_class=EventSourceResponse`` on a generator handler (``async def``
  with ``yield``, or a plain generator): each yielded item becomes one event.
  A ``ServerSentEvent`` sets the fields itself; any other item is JSON-encoded
  into the ``data`` field (strings too: ``"hi"`` is sent as ``data: "hi"``).
- ``return EventSourceResponse(iterator)``: items that are ``ServerSentEvent``
  are formatted, ``bytes``/``str`` are sent as they are (already in the
  event-stream format), anything else is JSON in a ``data`` field.

Either way the stream is ``text/event-stream`` with ``cache-control: no-cache``
and ``x-accel-buffering: no``, and while the generator produces nothing for
``ping_interval`` seconds (15 by default) a comment line ``: ping`` keeps
proxies from timing the connection out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from zigmund_fast.streaming import Content, StreamingResponse, as_async_iterator

if TYPE_CHECKING:
    from zigmund_fast.background import BackgroundTasks

KEEPALIVE_COMMENT = b": ping\n\n"
# Seconds without an event after which a keep-alive comment is sent.
PING_INTERVAL = 15.0

_json_encode = msgspec.json.Encoder().encode


class ServerSentEvent:
    """One event: ``data`` (JSON-encoded) or ``raw_data`` (sent as is), ``event``, ``id``, ``retry``, ``comment``.

    ``event`` and ``id`` must be single lines, ``retry`` (milliseconds) must be
    ``>= 0``, and ``data`` and ``raw_data`` exclude each other; a violation is a
    ``ValueError`` when the event is made.
    """

    __slots__ = ("comment", "data", "event", "id", "raw_data", "retry")

    def __init__(
        self,
        data: Any = None,
        *,
        raw_data: str | None = None,
        event: str | None = None,
        id: str | None = None,
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        if data is not None and raw_data is not None:
            raise ValueError("ServerSentEvent takes 'data' (JSON-encoded) or 'raw_data' (sent as is), not both")
        if event is not None and ("\r" in event or "\n" in event):
            raise ValueError("SSE 'event' must be a single line")
        if id is not None and ("\r" in id or "\n" in id or "\0" in id):
            raise ValueError("SSE 'id' must be a single line without null characters")
        if retry is not None and (not isinstance(retry, int) or retry < 0):
            raise ValueError(f"SSE 'retry' must be a non-negative integer (milliseconds), got {retry!r}")
        self.data = data
        self.raw_data = raw_data
        self.event = event
        self.id = id
        self.retry = retry
        self.comment = comment

    def encode(self) -> bytes:
        """The event in the ``text/event-stream`` wire format, ending with the blank line."""
        if self.raw_data is not None:
            data: str | None = self.raw_data
        elif self.data is not None:
            data = _json_encode(self.data).decode("utf-8")
        else:
            data = None
        return format_event(data=data, event=self.event, id=self.id, retry=self.retry, comment=self.comment)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__
                           if getattr(self, name) is not None)
        return f"ServerSentEvent({fields})"


def _lines(text: str) -> list[str]:
    # The event-stream format ends lines with \n, \r\n or \r; each becomes its own field line.
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def format_event(
    *,
    data: str | None = None,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    comment: str | None = None,
) -> bytes:
    """Wire bytes of one event from already-serialised ``data`` (field order: comment, event, data, id, retry)."""
    lines: list[str] = []
    if comment is not None:
        lines.extend(f": {line}" for line in _lines(comment))
    if event is not None:
        lines.append(f"event: {event}")
    if data is not None:
        lines.extend(f"data: {line}" for line in _lines(data))
    if id is not None:
        lines.append(f"id: {id}")
    if retry is not None:
        lines.append(f"retry: {retry}")
    lines.append("\n")
    return "\n".join(lines).encode("utf-8")


def encode_item(item: Any) -> bytes:
    """A yielded item as an event: a ``ServerSentEvent`` formatted, anything else JSON in ``data``."""
    if isinstance(item, ServerSentEvent):
        return item.encode()
    return format_event(data=_json_encode(item).decode("utf-8"))


def _encode_returned(item: Any) -> bytes | str:
    """For ``EventSourceResponse(iterator)``: pre-formatted bytes/str pass through."""
    if isinstance(item, (bytes, str)):
        return item
    return encode_item(item)


async def event_stream(
    items: AsyncIterator[Any], encode: Callable[[Any], bytes | str], ping_interval: float | None,
) -> AsyncIterator[bytes | str]:
    """``encode(item)`` per item, and a keep-alive comment whenever ``items`` is quiet for ``ping_interval``."""
    if not ping_interval:
        try:
            async for item in items:
                yield encode(item)
        finally:
            await _close(items)
        return
    # NOTE: the next item is awaited in its own Task so that a ping timeout never
    # cancels the generator itself (which would end it).
    pending: asyncio.Future[Any] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(items.__anext__())
            done, _ = await asyncio.wait((pending,), timeout=ping_interval)
            if not done:
                yield KEEPALIVE_COMMENT
                continue
            finished, pending = pending, None
            try:
                item = finished.result()
            except StopAsyncIteration:
                return
            yield encode(item)
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.wait((pending,))
            if not pending.cancelled() and pending.exception() is not None:
                pending.exception()  # retrieved: the stream is over, nobody else will read it
        await _close(items)


async def _close(items: AsyncIterator[Any]) -> None:
    aclose = getattr(items, "aclose", None)
    if aclose is not None:
        await aclose()


class EventSourceResponse(StreamingResponse):
    """A ``text/event-stream`` response (see the module docstring for what items may be).

    Parameters:
        content: an async or sync iterable of events.
        status_code, headers, media_type, background: as for ``StreamingResponse``.
        ping_interval: seconds of silence before a ``: ping`` comment; None or 0 disables pings.
    """

    __slots__ = ()
    default_media_type = "text/event-stream"

    def __init__(
        self,
        content: Content | Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTasks | None = None,
        ping_interval: float | None = PING_INTERVAL,
        *,
        encode: Callable[[Any], bytes | str] = _encode_returned,
    ) -> None:
        events = event_stream(as_async_iterator(content), encode, ping_interval)
        super().__init__(events, status_code, headers, media_type, background)
        headers_out = self.headers
        if "cache-control" not in headers_out:
            headers_out["cache-control"] = "no-cache"
        if "x-accel-buffering" not in headers_out:
            headers_out["x-accel-buffering"] = "no"  # nginx: don't buffer the stream


__all__ = ["KEEPALIVE_COMMENT", "EventSourceResponse", "ServerSentEvent", "encode_item", "format_event"]
