"""The connection under a ``WebSocket``: runs the handler, then carries its frames once it accepts.

Framing is the sans-I/O ``Protocol`` of the ``websockets`` library (server
side, no extensions). Chosen over wsproto's ``FrameProtocol`` because it does
more of RFC 6455 itself: it enforces the maximum message size while parsing
frame headers (``1009`` before a huge payload is buffered), answers pings,
echoes close frames and validates close codes, fragmentation and masking; it
unmasks in C (``websockets.speedups``); and the interoperability tests use the
same library as their client, so one dependency serves both. The HTTP/1.1
upgrade is not its business: the compiled protocol parsed the request, and
``zigmund_fast.websockets`` checks the handshake.

Life of a connection. The compiled HTTP protocol meets an upgrade request and
calls ``open_websocket``, which refuses it (a ``Response``) or starts the
handler and returns a Future the protocol waits on as it would for a slow
HTTP handler. Until the handler accepts, the HTTP protocol keeps the
transport (buffering any early frames); a refusal resolves the Future with the
``403``/``500``/... to send. ``accept()`` takes the transport over with
``transport.set_protocol(self)`` (as uvicorn does), so from then on the loop
calls this object directly and the HTTP path carries no WebSocket checks; the
Future is then never resolved. The connection stays in the server's
``connections`` until both the transport is gone and the handler has returned.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections import deque
from typing import Any

from websockets.frames import Opcode
from websockets.protocol import Protocol, Side, State

from zigmund_fast.exceptions import HTTPException, RequestValidationError
from zigmund_fast.requests import Request
from zigmund_fast.responses import Response
from zigmund_fast.websockets import (
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
    WebSocketState,
    handshake_response,
)

logger = logging.getLogger("zigmund_fast.websockets")

CONNECTING = WebSocketState.CONNECTING
CONNECTED = WebSocketState.CONNECTED
DISCONNECTED = WebSocketState.DISCONNECTED
OP_TEXT = Opcode.TEXT
OP_BINARY = Opcode.BINARY
OP_CONT = Opcode.CONT
OP_PONG = Opcode.PONG
OPEN = State.OPEN

# Seconds to wait for the peer's answer to our close frame before closing the TCP connection anyway.
CLOSE_TIMEOUT = 5.0
_SERVER_ERROR = b'{"detail":"Internal Server Error"}'


class _FrameLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The frame layer's logger: its per-connection "connection closed" line is debug, not info, here."""

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.debug(msg, *args, **kwargs)


_FRAME_LOGGER = _FrameLogger(logging.getLogger("zigmund_fast.websockets.frames"), {})


@dataclasses.dataclass(frozen=True)
class WebSocketSettings:
    """Per-server WebSocket limits (``Config.ws_*``).

    Parameters:
        max_size: largest incoming message in bytes; a bigger one closes with ``1009``.
        max_queue: received messages the handler has not read yet past which
            the server stops reading from the socket (it resumes at half).
        ping_interval: seconds between server pings (None: no pings).
        ping_timeout: seconds to wait for the pong before closing with ``1011``
            (None: wait forever).
    """

    max_size: int = 16 * 1024 * 1024
    max_queue: int = 32
    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0


def open_websocket(state: Any, http: Any, request: Request) -> Response | asyncio.Future[Response]:
    """Called by the protocol when a WebSocket upgrade request is next to answer: a Response that refuses
    it, or the Future of one (resolved only if the handler refuses it; see the module docstring)."""
    request.keep_alive = False  # whatever happens, this connection never carries HTTP again
    if state.draining:
        return Response.json({"detail": "Service Unavailable: the server is shutting down"}, 503, {"retry-after": "1"})
    result = state.websocket_dispatch(request)
    if isinstance(result, Response):
        return result
    return WebSocketConnection(state, http, request, result).start()


def _handler_request(request: Request) -> Request:
    """The handler's own copy of the upgrade request: what the HTTP protocol reads off its request
    (its background tasks above all) must not see the WebSocket handler's."""
    copy = Request(request.method, request.path, request.query_string, request.raw_headers, b"", request.client,
                   request.http_version, False)
    copy.path_params = request.path_params
    copy.route = request.route
    copy.scheme = request.scheme
    copy.request_id = request.request_id
    copy.started = request.started
    return copy


class WebSocketConnection(asyncio.Protocol):
    """One WebSocket: the handler's task, and (after ``accept``) the transport's protocol.

    Parameters:
        state: the server's shared state (``loop``, ``runner``, ``connections``,
            ``websocket_settings``, ``draining``).
        http: the HTTP protocol the upgrade came on; ``http.hand_over()`` lets
            go of the transport and returns ``(transport, early bytes,
            writing_paused, reading_paused)``.
        request: the upgrade request, routed (``request.route`` is the WebSocket route).
        route: the matched WebSocket route.
    """

    def __init__(self, state: Any, http: Any, request: Request, route: Any) -> None:
        # Global state
        self.state = state
        self.loop: asyncio.AbstractEventLoop = state.loop
        self.settings: WebSocketSettings = state.websocket_settings
        self.route = route
        # Per-connection state
        self.http = http
        self.transport: asyncio.Transport | None = None
        self.frames: Protocol | None = None  # the frame layer, from accept() on
        self.refusal: asyncio.Future[Response] = self.loop.create_future()
        self.handler_request = _handler_request(request)
        self.websocket = WebSocket(self, self.handler_request)
        self.handler_request.state = {"_websocket": self.websocket}
        self.handler_task: asyncio.Task[None] | None = None
        self.handler_done = False
        self.messages: deque[dict[str, Any]] = deque()
        self.receiver: asyncio.Future[None] | None = None
        self.drain_waiter: asyncio.Future[None] | None = None
        self.writing_paused = False
        self.reading_paused = False
        self.fragments: list[bytes] | None = None
        self.fragments_text = False
        self.disconnect: tuple[int, str] | None = None  # set once the peer closed, or the connection failed
        self.lost = False
        self.ping_handle: asyncio.TimerHandle | None = None
        self.pong_handle: asyncio.TimerHandle | None = None
        self.close_handle: asyncio.TimerHandle | None = None

    def start(self) -> asyncio.Future[Response]:
        self.handler_task = self.loop.create_task(self._run_handler(), name=f"zigmund-websocket {self.route.path}")
        return self.refusal

    # The handler

    async def _run_handler(self) -> None:
        request = self.handler_request
        try:
            await self.route.handle(request)
        except WebSocketDisconnect:
            pass  # the peer left and the handler let that end it: a normal end
        except asyncio.CancelledError:
            self._discard_tasks(request, "it was cancelled")
            self._handler_finished()
            if self.transport is not None and not self.lost:
                self.transport.abort()
            raise
        except Exception as exc:  # noqa: BLE001 - any handler failure closes with 1011 (or refuses), logged
            self._discard_tasks(request, f"it raised {type(exc).__name__}")
            self._handler_failed(exc)
            self._handler_finished()
            return
        self._handler_returned()
        batch = request.background
        if batch is not None:
            # NOTE: a WebSocket handler's tasks run once it has returned (its close frame is written by then).
            batch.route = self.route.path
            batch.request_id = request.request_id
            batch.strategy = None
            request.background = None
            self.state.runner.submit(batch)
        self._handler_finished()

    def _handler_returned(self) -> None:
        state = self.websocket.application_state
        if state is CONNECTING:
            logger.error("WebSocket handler %s returned without accepting or closing the connection",
                         self.route.name)
            self._refuse(Response(_SERVER_ERROR, 500, None, "application/json"))
        elif state is CONNECTED:
            self.websocket.application_state = DISCONNECTED
            self._send_close(1000, "")

    def _handler_failed(self, exc: Exception) -> None:
        websocket = self.websocket
        if websocket.application_state is CONNECTING:
            self._refuse(self._refusal_for(exc))
            return
        if isinstance(exc, WebSocketException):
            code, reason = exc.code, exc.reason
        elif isinstance(exc, RequestValidationError):
            code, reason = 1008, ""
        else:
            logger.error("WebSocket handler %s raised; closing with 1011", self.route.name, exc_info=exc)
            code, reason = 1011, ""
        if websocket.application_state is CONNECTED:
            websocket.application_state = DISCONNECTED
            self._send_close(code, reason)

    def _refusal_for(self, exc: Exception) -> Response:
        """The HTTP answer to an upgrade whose handler raised ``exc`` before accepting (as Starlette + uvicorn)."""
        if isinstance(exc, RequestValidationError):
            return Response.json({"detail": exc.errors()}, 403)
        if isinstance(exc, WebSocketException):
            return Response.json({"detail": exc.reason or "Forbidden"}, 403)
        if isinstance(exc, HTTPException):
            return Response.json({"detail": exc.detail}, exc.status_code, exc.headers)
        logger.error("WebSocket handler %s raised before accepting; answering 500", self.route.name, exc_info=exc)
        return Response(_SERVER_ERROR, 500, None, "application/json")

    def _refuse(self, response: Response) -> None:
        self.websocket.application_state = DISCONNECTED
        self.websocket.client_state = DISCONNECTED
        if not self.refusal.done():
            self.refusal.set_result(response)

    def _discard_tasks(self, request: Request, why: str) -> None:
        if request.background:
            logger.debug("WebSocket handler %s: %s; discarding %d background task(s): %s", self.route.name, why,
                         len(request.background), ", ".join(request.background.names()))
        request.background = None

    def _handler_finished(self) -> None:
        self.handler_done = True
        if self.lost or self.transport is None:
            self.state.connections.discard(self)

    # Called by the WebSocket

    async def accept(self, subprotocol: str | None, headers: Any) -> None:
        websocket = self.websocket
        if websocket.application_state is not CONNECTING:
            raise RuntimeError("accept() was already called, or the WebSocket was closed")
        head = handshake_response(self.handler_request, subprotocol, headers)
        transport, early, writing_paused, reading_paused = self.http.hand_over()
        self.http = None
        websocket.application_state = CONNECTED
        if transport.is_closing():
            self.lost = True
            self.disconnect = (1006, "")
            websocket.application_state = websocket.client_state = DISCONNECTED
            raise WebSocketDisconnect(1006)
        self.transport = transport
        self.frames = Protocol(Side.SERVER, max_size=self.settings.max_size, logger=_FRAME_LOGGER)
        transport.set_protocol(self)
        self.writing_paused = writing_paused
        websocket.client_state = CONNECTED
        self.state.connections.add(self)
        transport.write(head)
        if self.state.observe:
            self.handler_request.status = 101
            self.state.responses_written([self.handler_request])
        if early:
            self.data_received(early)
        if reading_paused and len(self.messages) <= self.settings.max_queue:
            transport.resume_reading()
        self._schedule_ping()
        if self.state.draining:
            self.going_away()  # accepted while the server drains: tell the client at once
        if self.writing_paused:
            await self._drained()

    async def receive(self) -> dict[str, Any]:
        messages = self.messages
        if not messages and self.receiver is not None:
            raise RuntimeError("another coroutine is already waiting for the next message of this WebSocket")
        while not messages:
            waiter = self.receiver = self.loop.create_future()
            try:
                await waiter
            finally:
                self.receiver = None
        message = messages.popleft()
        if self.reading_paused and len(messages) <= self.settings.max_queue // 2 and not self.lost:
            self.reading_paused = False
            self.transport.resume_reading()  # type: ignore[union-attr]
        return message

    async def send(self, text: bool, data: bytes) -> None:
        state = self.websocket.application_state
        if state is not CONNECTED:
            if state is CONNECTING:
                raise RuntimeError('WebSocket is not connected. Need to call "accept" first.')
            raise RuntimeError('Cannot call "send" once a close message has been sent.')
        frames = self.frames
        if self.lost or frames.state is not OPEN:  # type: ignore[union-attr]
            code, reason = self.disconnect or (1006, "")
            raise WebSocketDisconnect(code, reason)
        if text:
            frames.send_text(data)  # type: ignore[union-attr]
        else:
            frames.send_binary(data)  # type: ignore[union-attr]
        self._write_out()
        if self.writing_paused:
            await self._drained()

    def close_by_app(self, code: int, reason: str) -> None:
        websocket = self.websocket
        state = websocket.application_state
        if state is CONNECTING:
            self._refuse(Response.json({"detail": reason or "Forbidden"}, 403))
            return
        if state is DISCONNECTED:
            raise RuntimeError('Cannot call "close" once a close message has been sent.')
        if not (code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014)
                or 3000 <= code < 5000):
            raise ValueError(f"{code} is not a close code an endpoint may send (1000-1003, 1007-1014, 3000-4999)")
        if len(reason.encode("utf-8")) > 123:
            raise ValueError("a close reason is at most 123 bytes of UTF-8")
        websocket.application_state = DISCONNECTED
        self._send_close(code, reason)

    # asyncio.Protocol callbacks (after accept)

    def data_received(self, data: bytes) -> None:
        """Called by the transport with bytes from the peer."""
        frames = self.frames
        try:
            frames.receive_data(data)  # type: ignore[union-attr]
        except EOFError:
            return  # past the end of the stream (the close handshake is over)
        self._process_events()

    def eof_received(self) -> bool:
        """Called when the peer half-closes: without a close frame first, that is an abnormal closure (1006)."""
        frames = self.frames
        if frames is not None:
            frames.receive_eof()
            self._process_events()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """Called by the transport when the connection is closed, by either side."""
        self.lost = True
        for handle in (self.ping_handle, self.pong_handle, self.close_handle):
            if handle is not None:
                handle.cancel()
        self.ping_handle = self.pong_handle = self.close_handle = None
        if self.disconnect is None:
            self._peer_gone(1006, "")
        self._wake_writer()
        if self.handler_done:
            self.state.connections.discard(self)

    def pause_writing(self) -> None:
        """Called by the transport when its write buffer exceeds the high-water mark."""
        self.writing_paused = True

    def resume_writing(self) -> None:
        """Called by the transport when its write buffer drains below the low-water mark."""
        self.writing_paused = False
        self._wake_writer()

    # Frames

    def _process_events(self) -> None:
        frames = self.frames
        assert frames is not None
        for frame in frames.events_received():
            opcode = frame.opcode
            if opcode is OP_TEXT or opcode is OP_BINARY:
                if frame.fin:
                    if not self._deliver(opcode is OP_TEXT, frame.data):
                        break
                else:
                    self.fragments = [frame.data]
                    self.fragments_text = opcode is OP_TEXT
            elif opcode is OP_CONT:
                self.fragments.append(frame.data)  # type: ignore[union-attr]
                if frame.fin:
                    data = b"".join(self.fragments)  # type: ignore[arg-type]
                    self.fragments = None
                    if not self._deliver(self.fragments_text, data):
                        break
            elif opcode is OP_PONG:
                self._pong_received()
            # NOTE: the frame layer answers pings and echoes close frames itself.
        if self.disconnect is None and (frames.close_rcvd is not None or frames.parser_exc is not None):
            closing = frames.close_rcvd or frames.close_sent
            if closing is not None:
                self._peer_gone(closing.code, closing.reason)
            else:
                self._peer_gone(1006, "")
        self._write_out()

    def _deliver(self, text: bool, data: bytes) -> bool:
        if text:
            try:
                message = {"type": "websocket.receive", "text": data.decode("utf-8")}
            except UnicodeDecodeError:
                self.frames.fail(1007, "invalid UTF-8 in a text message")  # type: ignore[union-attr]
                self._peer_gone(1007, "invalid UTF-8 in a text message")
                return False
        else:
            message = {"type": "websocket.receive", "bytes": data if type(data) is bytes else bytes(data)}
        self._push(message)
        if len(self.messages) > self.settings.max_queue and not self.reading_paused and not self.lost:
            # NOTE: the handler reads slower than the peer sends; let TCP push back.
            self.reading_paused = True
            self.transport.pause_reading()  # type: ignore[union-attr]
        return True

    def _push(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        waiter = self.receiver
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _peer_gone(self, code: int, reason: str) -> None:
        """The session is over from the peer's side (or the connection failed): tell the handler, once."""
        self.disconnect = (code, reason)
        self._push({"type": "websocket.disconnect", "code": code, "reason": reason})

    def _write_out(self) -> None:
        frames = self.frames
        if frames is None:
            return
        writes = frames.data_to_send()
        if not writes or self.lost:
            return
        transport = self.transport
        assert transport is not None
        end = False
        for chunk in writes:
            if chunk:
                transport.write(chunk)
            else:
                end = True  # the frame layer is done with the stream: a server closes TCP first
        if end:
            transport.close()

    def _send_close(self, code: int, reason: str) -> None:
        frames = self.frames
        if self.lost or frames is None or frames.state is not OPEN:
            return
        frames.send_close(code, reason)
        self._write_out()
        if self.close_handle is None:
            self.close_handle = self.loop.call_later(CLOSE_TIMEOUT, self._close_timed_out)

    def _close_timed_out(self) -> None:
        """Called when the peer did not answer our close frame in time."""
        self.close_handle = None
        if not self.lost and self.transport is not None:
            self.transport.close()

    # Flow control

    def _drained(self) -> asyncio.Future[None]:
        waiter = self.drain_waiter
        if waiter is None:
            waiter = self.drain_waiter = self.loop.create_future()
        return waiter

    def _wake_writer(self) -> None:
        waiter = self.drain_waiter
        if waiter is not None:
            self.drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # Keepalive pings

    def _schedule_ping(self) -> None:
        interval = self.settings.ping_interval
        if interval and not self.lost:
            self.ping_handle = self.loop.call_later(interval, self._ping)

    def _ping(self) -> None:
        """Called every ping_interval seconds (after the previous pong) while the WebSocket is open."""
        self.ping_handle = None
        frames = self.frames
        if self.lost or frames is None or frames.state is not OPEN:
            return
        frames.send_ping(os.urandom(4))
        self._write_out()
        timeout = self.settings.ping_timeout
        if timeout:
            self.pong_handle = self.loop.call_later(timeout, self._pong_timed_out)
        else:
            self._schedule_ping()

    def _pong_received(self) -> None:
        if self.pong_handle is not None:
            self.pong_handle.cancel()
            self.pong_handle = None
            self._schedule_ping()

    def _pong_timed_out(self) -> None:
        """Called when the peer did not answer a ping within ping_timeout: the connection is dead."""
        self.pong_handle = None
        frames = self.frames
        if self.lost or frames is None:
            return
        logger.info("WebSocket %s: no pong within %s s; closing with 1011", self.route.path,
                    self.settings.ping_timeout)
        frames.fail(1011, "keepalive ping timeout")
        if self.disconnect is None:
            self._peer_gone(1011, "keepalive ping timeout")
        self._write_out()

    # Called by the server

    def going_away(self) -> None:
        """Called at shutdown, once the HTTP requests are done: close with 1001 and tell the handler."""
        websocket = self.websocket
        if websocket.application_state is CONNECTED:
            self._send_close(1001, "server shutting down")
            if self.disconnect is None:
                self._peer_gone(1001, "server shutting down")

    def start_draining(self) -> None:
        """Called when the server shuts down; a WebSocket waits for ``going_away()``."""

    def pause_for_tasks(self) -> None:
        """Background-task pressure does not apply: a WebSocket queues tasks only when its handler returns."""

    def resume_for_tasks(self) -> None:
        pass

    def check_timeouts(self, now: float, keep_alive: float, head_timeout: float) -> None:
        """Keep-alive and head timeouts are HTTP's; a WebSocket has its pings."""

    def close(self) -> None:
        """Close now (the server's last step of a shutdown): cut the connection, cancel the handler."""
        if self.transport is not None and not self.lost:
            self.transport.abort()
        if self.handler_task is not None and not self.handler_task.done():
            self.handler_task.cancel()

    @property
    def idle(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<WebSocketConnection {self.route.path} {self.websocket.application_state.name}>"
