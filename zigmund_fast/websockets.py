"""WebSockets as handlers see them: ``WebSocket``, its states and exceptions, the opening handshake's checks.

``@app.websocket("/ws/{room}")`` registers ``async def handler(websocket: WebSocket, room: str, ...)``;
parameters are injected as for HTTP routes. The connection that carries the
frames (``zigmund_fast.server.websocket_connection``) runs the handler and
takes the transport over from the HTTP protocol once the handler accepts.

The handshake (RFC 6455 section 4.2) is checked here, on the request the
compiled protocol already parsed: ``Upgrade: websocket``, ``Connection:
upgrade``, ``Sec-WebSocket-Version: 13`` and a ``Sec-WebSocket-Key`` of 16
base64-encoded bytes, else ``400`` with the reason in the body. An upgrade to a
path without a WebSocket route is refused with ``403``, as Starlette does.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from zigmund_fast.exceptions import RequestValidationError
from zigmund_fast.requests import Headers, QueryParams, Request
from zigmund_fast.responses import Response

if TYPE_CHECKING:
    from zigmund_fast.server.websocket_connection import WebSocketConnection

_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.decode

# RFC 6455 section 1.3: appended to the client's key before hashing.
_HANDSHAKE_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# The "method" WebSocket routes are stored under in the app's WebSocket route table.
WEBSOCKET_METHOD = "WEBSOCKET"


class WebSocketState(enum.Enum):
    """Where one side of a WebSocket is: before the handshake, open, or closed."""

    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2


class WebSocketDisconnect(Exception):
    """Raised by ``receive_*`` (and ``send_*``) once the peer closed the WebSocket or the connection dropped.

    ``code`` is the close code the peer sent (``1006`` when the connection was
    lost without a close frame, ``1005`` for a close frame without a code).
    """

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(code, reason)

    def __repr__(self) -> str:
        return f"WebSocketDisconnect(code={self.code!r}, reason={self.reason!r})"


class WebSocketException(Exception):
    """Raise in a WebSocket handler to end it: before ``accept`` the upgrade is refused with ``403``,
    after it the WebSocket is closed with ``code`` and ``reason`` (default ``1008``, policy violation)."""

    def __init__(self, code: int = 1008, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(code, reason)

    def __repr__(self) -> str:
        return f"WebSocketException(code={self.code!r}, reason={self.reason!r})"


class WebSocket:
    """One WebSocket session, handed to the handler by annotation (``websocket: WebSocket``).

    Nothing is sent before ``await websocket.accept()``: closing (or raising
    ``WebSocketException``) before it refuses the upgrade with HTTP ``403``; an
    ``HTTPException`` is answered with its status; a handler that fails or returns
    before accepting gets ``500``. After ``accept``, returning closes the
    WebSocket with ``1000`` and an exception closes it with ``1011`` (and is logged).
    """

    __slots__ = ("_connection", "application_state", "client_state", "request", "state")

    def __init__(self, connection: WebSocketConnection, request: Request) -> None:
        self._connection = connection
        self.request = request
        # CONNECTED once the handshake completed, DISCONNECTED once the peer's close (or the loss) was received.
        self.client_state = WebSocketState.CONNECTING
        # CONNECTED after accept(), DISCONNECTED after close() (or a refusal).
        self.application_state = WebSocketState.CONNECTING
        # Free for the handler and its dependencies: ``websocket.state.user = ...``.
        self.state = types.SimpleNamespace()

    # The upgrade request

    @property
    def path(self) -> str:
        return self.request.path

    @property
    def path_params(self) -> dict[str, Any]:
        return self.request.path_params

    @property
    def query_params(self) -> QueryParams:
        return self.request.query_params

    @property
    def headers(self) -> Headers:
        return self.request.headers

    @property
    def client(self) -> tuple[str, int] | None:
        return self.request.client

    @property
    def url(self) -> str:
        """``ws://host/path?query`` (``wss`` over TLS)."""
        request = self.request
        scheme = "wss" if request.scheme == "https" else "ws"
        query = "?" + request.query_string.decode("latin-1") if request.query_string else ""
        return f"{scheme}://{request.headers.get('host', '')}{request.path}{query}"

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offered (``Sec-WebSocket-Protocol``), in its order of preference."""
        return _tokens(self.request.headers.getlist("sec-websocket-protocol"), lower=False)

    # The session

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]] | None = None,
    ) -> None:
        """Complete the handshake (``101 Switching Protocols``), choosing ``subprotocol`` among those offered."""
        await self._connection.accept(subprotocol, headers)

    async def receive(self) -> dict[str, Any]:
        """The next message: ``{"type": "websocket.receive", "text": str}`` (or ``"bytes": bytes``), and once
        the peer has gone ``{"type": "websocket.disconnect", "code": int, "reason": str}``."""
        if self.application_state is WebSocketState.CONNECTING:
            raise RuntimeError('WebSocket is not connected. Need to call "accept" first.')
        if self.client_state is WebSocketState.DISCONNECTED:
            raise RuntimeError('Cannot call "receive" once a disconnect message has been received.')
        message = await self._connection.receive()
        if message["type"] == "websocket.disconnect":
            self.client_state = WebSocketState.DISCONNECTED
        return message

    async def _receive_data(self) -> dict[str, Any]:
        message = await self.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message["code"], message["reason"])
        return message

    async def receive_text(self) -> str:
        message = await self._receive_data()
        text = message.get("text")
        if text is None:
            raise TypeError("expected a text message, received a binary one")
        return text  # type: ignore[no-any-return]

    async def receive_bytes(self) -> bytes:
        message = await self._receive_data()
        data = message.get("bytes")
        if data is None:
            raise TypeError("expected a binary message, received a text one")
        return data  # type: ignore[no-any-return]

    async def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        """The next message decoded as JSON (``mode`` says which kind of message to expect)."""
        _check_mode(mode)
        data = await (self.receive_text() if mode == "text" else self.receive_bytes())
        return _json_decode(data)

    async def send_text(self, data: str) -> None:
        await self._connection.send(True, data.encode("utf-8"))

    async def send_bytes(self, data: bytes | bytearray | memoryview) -> None:
        await self._connection.send(False, bytes(data))

    async def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        _check_mode(mode)
        await self._connection.send(mode == "text", _json_encode(data))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the WebSocket (before ``accept``: refuse the upgrade with ``403``)."""
        self._connection.close_by_app(code, reason)

    async def iter_text(self) -> AsyncIterator[str]:
        """Text messages until the peer disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            pass

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Binary messages until the peer disconnects."""
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            pass

    async def iter_json(self) -> AsyncIterator[Any]:
        """JSON text messages, decoded, until the peer disconnects."""
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass

    def __repr__(self) -> str:
        return f"<WebSocket {self.request.path} {self.application_state.name}>"


def _check_mode(mode: str) -> None:
    if mode not in ("text", "binary"):
        raise ValueError(f'mode must be "text" or "binary", got {mode!r}')


# The opening handshake


def _tokens(values: list[str], lower: bool = True) -> list[str]:
    """Comma-separated header values (possibly repeated) as one list of tokens."""
    found = []
    for value in values:
        for token in value.split(","):
            token = token.strip()
            if token:
                found.append(token.lower() if lower else token)
    return found


def wants_websocket(request: Request) -> bool:
    """Called by the protocol when httptools reports an upgrade: is it a WebSocket opening handshake?"""
    return request.method == "GET" and "websocket" in _tokens(request.headers.getlist("upgrade"))


def handshake_problem(request: Request) -> str | None:
    """Why ``request`` is not a valid WebSocket opening handshake, or None."""
    headers = request.headers
    if request.http_version != "1.1":
        return "a WebSocket handshake needs HTTP/1.1"
    if "websocket" not in _tokens(headers.getlist("upgrade")):
        return "missing or invalid Upgrade header (expected: websocket)"
    if "upgrade" not in _tokens(headers.getlist("connection")):
        return "missing or invalid Connection header (expected: upgrade)"
    versions = headers.getlist("sec-websocket-version")
    if not versions:
        return "missing Sec-WebSocket-Version header"
    if versions != ["13"]:
        return f"unsupported Sec-WebSocket-Version: {', '.join(versions)} (this server speaks 13)"
    keys = headers.getlist("sec-websocket-key")
    if len(keys) != 1:
        return "missing Sec-WebSocket-Key header" if not keys else "more than one Sec-WebSocket-Key header"
    try:
        raw = base64.b64decode(keys[0].strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        return f"invalid Sec-WebSocket-Key header: {keys[0]!r} (expected 16 bytes, base64-encoded)"
    return None


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key`` (RFC 6455 section 4.2.2)."""
    return base64.b64encode(hashlib.sha1(key.strip().encode("ascii") + _HANDSHAKE_GUID).digest()).decode("ascii")


def handshake_response(
    request: Request,
    subprotocol: str | None,
    headers: Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]] | None,
) -> bytes:
    """The ``101 Switching Protocols`` head that accepts ``request``; raises for a bad subprotocol or header."""
    lines = [
        b"HTTP/1.1 101 Switching Protocols",
        b"upgrade: websocket",
        b"connection: Upgrade",
        b"sec-websocket-accept: " + accept_key(request.headers["sec-websocket-key"]).encode("ascii"),
    ]
    if subprotocol is not None:
        offered = _tokens(request.headers.getlist("sec-websocket-protocol"), lower=False)
        if subprotocol not in offered:
            raise ValueError(f"subprotocol {subprotocol!r} was not offered by the client (offered: {offered})")
        lines.append(b"sec-websocket-protocol: " + subprotocol.encode("latin-1"))
    if headers is not None:
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in pairs:
            raw_name = name if isinstance(name, bytes) else name.encode("latin-1")
            raw_value = value if isinstance(value, bytes) else value.encode("latin-1")
            if any(c in raw_name + raw_value for c in (b"\r", b"\n", b"\0")) or b":" in raw_name or not raw_name:
                raise ValueError(f"invalid header for the handshake response: {name!r}: {value!r}")
            lines.append(raw_name.lower() + b": " + raw_value)
    lines.append(b"server: zigmund_fast")
    return b"\r\n".join(lines) + b"\r\n\r\n"


# Routes


def check_websocket_plan(plan: Any, name: str) -> None:
    """Registration-time checks of a WebSocket handler's injection plan; raises ``TypeError``."""
    if not plan.is_async:
        raise TypeError(f"WebSocket handler {name} must be an async def")
    for spec in plan.params:
        if spec.location in ("body", "form", "file"):
            raise TypeError(f"WebSocket handler {name}: parameter {spec.name!r} would be read from a request "
                            f"body, which a WebSocket upgrade does not have; receive it as a message instead")
    if plan.uses_response:
        raise TypeError(f"WebSocket handler {name} can't take a Response parameter; there is no HTTP response")


def websocket_handle(route: Any, app: Any) -> Callable[[Request], Awaitable[Any]]:
    """``call(request)``: extract the route's parameters from the upgrade request and run its handler."""
    graph = route.plan.graph
    if graph is not None:
        return graph.entry(app)  # type: ignore[no-any-return]
    endpoint = route.endpoint
    extractors = route.plan.extractors

    async def call(request: Request) -> Any:
        kwargs: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for name, extract in extractors:
            kwargs[name] = extract(request, errors)
        if errors:
            raise RequestValidationError(errors)
        return await endpoint(**kwargs)

    return call


def route_websocket(table: Any, request: Request) -> Response | Any:
    """The WebSocket route for an upgrade ``request`` (its path parameters set), or the Response refusing it."""
    problem = handshake_problem(request)
    if problem is not None:
        headers = {"sec-websocket-version": "13"} if "Version" in problem else None
        return Response.json({"detail": f"Failed to open a WebSocket connection: {problem}"}, 400, headers)
    routes, raw_params = table.lookup(request.path)
    route = routes.get(WEBSOCKET_METHOD) if routes is not None else None
    if route is None:
        return Response.json({"detail": "Forbidden: no WebSocket endpoint at this path"}, 403)
    if raw_params is not None:
        request.path_params = raw_params
    request.route = route
    return route


__all__ = [
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "WebSocketState",
]
