"""Server settings: one typed object shared by the CLI, ``App.serve`` and the workers."""

from __future__ import annotations

import dataclasses
import ssl
from typing import Any


@dataclasses.dataclass
class Config:
    """Everything a server process needs to know.

    Parameters:
        app: the ``App`` to serve.
        host, port: where to listen (TCP). ``port=0`` picks a free port.
        workers: number of worker processes; 1 serves in this process.
        timeout_keep_alive: seconds an idle keep-alive connection is kept open.
        timeout_request_head: seconds a client may take to send a request's
            line and headers, counted from its first byte (408 past it).
        timeout_request_body: seconds a request body may go without a byte
            arriving, once its head was received (408 past it).
        timeout_handler: seconds a handler that awaits may run before it is
            cancelled and the client gets 503; ``None`` (default) for no limit.
        timeout_graceful_shutdown: seconds the graceful drain may take on
            SIGTERM/SIGINT; ``None`` uses the app's ``shutdown_timeout``.
        limit_request_head: bytes allowed for the request line and headers (431 past it).
        limit_request_body: bytes allowed for a request body (413 past it).
        limit_pipeline: parsed-but-unanswered requests per connection before
            the server stops reading from that connection.
        limit_concurrency: open connections per worker past which a new
            connection is answered ``503`` with ``Retry-After: 1`` and closed.
        backlog: listen(2) backlog.
        reuse_port: set SO_REUSEPORT (always on with ``workers > 1``).
        uds: serve on this Unix domain socket path instead of host/port.
        proxy_headers: trust X-Forwarded-For/-Proto from ``forwarded_allow_ips``
            (comma-separated addresses, or ``"*"``) to set the request's client and scheme.
        ssl_certfile, ssl_keyfile: serve HTTPS with this certificate chain and
            key (PEM), through the standard library's ``ssl`` module.
        fd: serve on this inherited, already listening socket file descriptor
            (socket activation, or a supervisor's shared socket).
        root_path: the path prefix a proxy mounts the app under (as uvicorn's
            ``--root-path``): stripped from request paths that carry it, and
            announced in the OpenAPI ``servers`` so the docs call the right URLs.
        ws_max_size: largest WebSocket message accepted, in bytes (a bigger one
            closes the WebSocket with 1009).
        ws_max_queue: received WebSocket messages not yet read by the handler
            past which the server stops reading from that connection.
        ws_ping_interval, ws_ping_timeout: seconds between the server's
            WebSocket pings, and to wait for each pong before closing with
            1011; ``None`` turns either off.
        reload: restart the worker when a ``.py`` file under ``reload_dirs``
            changes (development; needs the app as an import string).
        ready_fd: internal: a pipe a worker writes one byte to once it listens.
        gc_freeze: once the app has started, move every object that exists to
            the garbage collector's permanent generation (``gc.freeze()``), so
            collections stop re-scanning the app's startup objects on every
            pass (the seed's POST route: about 5-10% of its CPU, measured).
            Undone at shutdown. Startup objects in reference cycles that later
            become garbage are then not collected; ``False`` to keep them.
    """

    app: Any
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    timeout_keep_alive: float = 5.0
    timeout_request_head: float = 10.0
    timeout_graceful_shutdown: float | None = None
    timeout_request_body: float = 30.0
    timeout_handler: float | None = None
    limit_request_head: int = 64 * 1024
    limit_request_body: int = 16 * 1024 * 1024
    limit_pipeline: int = 32
    limit_concurrency: int | None = None
    backlog: int = 2048
    reuse_port: bool = False
    log_level: str = "info"
    uds: str | None = None
    proxy_headers: bool = False
    forwarded_allow_ips: str = "127.0.0.1"
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    fd: int | None = None
    root_path: str = ""
    ws_max_size: int = 16 * 1024 * 1024
    ws_max_queue: int = 32
    ws_ping_interval: float | None = 20.0
    ws_ping_timeout: float | None = 20.0
    reload: bool = False
    reload_dirs: tuple[str, ...] = ()
    ready_fd: int | None = None
    gc_freeze: bool = True

    def ssl_context(self) -> ssl.SSLContext | None:
        """The server-side TLS context, or None for plain HTTP."""
        if self.ssl_certfile is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {self.port}")
        if self.uds is not None and self.fd is not None:
            raise ValueError("give either --uds or --fd, not both")
        if self.root_path and (not self.root_path.startswith("/") or self.root_path.endswith("/")):
            raise ValueError(f"root_path must start with '/' and not end with one, got {self.root_path!r}")
        if self.limit_concurrency is not None and self.limit_concurrency < 1:
            raise ValueError(f"limit_concurrency must be >= 1, got {self.limit_concurrency}")
        if self.ssl_keyfile is not None and self.ssl_certfile is None:
            raise ValueError("ssl_keyfile needs ssl_certfile")
        for name in ("ws_ping_interval", "ws_ping_timeout"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0 or None (off), got {getattr(self, name)}")
        if self.timeout_handler is not None and self.timeout_handler <= 0:
            raise ValueError(f"timeout_handler must be > 0 (or None), got {self.timeout_handler}")
        for name in ("timeout_keep_alive", "timeout_request_body", "limit_request_head", "limit_request_body", "limit_pipeline",
                     "ws_max_size", "ws_max_queue"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
