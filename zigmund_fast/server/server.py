"""One server process: bind, serve on uvloop, and shut down gracefully on SIGTERM/SIGINT.

Shutdown order: stop accepting; let every connection finish the requests it
already parsed (then close it); close WebSockets with 1001 once those are
done; run every background task already queued;
all within the shutdown timeout. What is still pending at the deadline is
cancelled and logged by name and count.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import signal
import socket
import threading
import time
from typing import Any

import uvloop

from zigmund_fast._impl import HTTPProtocol, WriteBatcher
from zigmund_fast.background import TaskRunner
from zigmund_fast.lifespan import (
    STARTUP_FAILED_EXIT_CODE,
    StartupFailed,
    seed_request_state,
)
from zigmund_fast.metrics import METRICS_DIR_ENV
from zigmund_fast.server.config import Config
from zigmund_fast.server.proxy import ProxyHeaders
from zigmund_fast.server.websocket_connection import (
    WebSocketConnection,
    WebSocketSettings,
    open_websocket,
)
from zigmund_fast.websockets import wants_websocket

logger = logging.getLogger("zigmund_fast.server")

# How often idle connections and slow request heads are checked, in seconds.
SWEEP_INTERVAL = 0.5
# Seconds between closing the listener and closing idle connections, at shutdown.
DRAIN_GRACE = 0.1


class ServerState:
    """What every connection of one server shares (read by the compiled protocol)."""

    def __init__(self, config: Config, loop: asyncio.AbstractEventLoop, runner: TaskRunner) -> None:
        app = config.app
        self.loop = loop
        self.app_call = _wrap_dispatch(config, _with_lifespan_state(app, app.dispatch))
        self.runner = runner
        self.write_batcher = WriteBatcher(loop)  # writes each loop iteration's responses together
        self.connections: set[Any] = set()
        self.limit_request_head = config.limit_request_head
        self.limit_request_body = config.limit_request_body
        self.limit_pipeline = config.limit_pipeline
        self.limit_concurrency = config.limit_concurrency
        self.draining = False
        self.tasks_paused = False
        self.observe = app._observing
        self.stamp_response = app.stamp_response
        self.observer = app.observer if app.observer.enabled else None
        self.body_limit_for = app.body_limit_for if app.has_body_limits else None
        self.timeout_request_body = config.timeout_request_body
        self.timeout_handler = config.timeout_handler
        self.responses_written = app.responses_written
        # WebSocket upgrades (read by the compiled protocol only when httptools reports an upgrade).
        self.websocket_wanted = wants_websocket
        self.upgrade_websocket = functools.partial(open_websocket, self)
        self.websocket_dispatch = _wrap_dispatch(config, _with_lifespan_state(app, app.dispatch_websocket))
        self.websocket_settings = WebSocketSettings(config.ws_max_size, config.ws_max_queue,
                                                    config.ws_ping_interval, config.ws_ping_timeout)


def _wrap_dispatch(config: Config, dispatch: Any) -> Any:
    """``dispatch`` behind the listener's request rewrites: proxy headers, TLS scheme, root path."""
    if config.proxy_headers:
        dispatch = ProxyHeaders(config.forwarded_allow_ips).wrap(dispatch)
    if config.ssl_certfile is not None:
        dispatch = _mark_https(dispatch)
    if config.root_path:
        dispatch = _strip_root_path(dispatch, config.root_path)
    return dispatch


def _with_lifespan_state(app: Any, dispatch: Any) -> Any:
    """``dispatch``, seeding each ``request.state`` with what the app's lifespan yielded (if it yielded state)."""
    state = app.lifespan.state
    return dispatch if state is None else seed_request_state(dispatch, state)


def _mark_https(dispatch: Any) -> Any:
    """``dispatch`` for a TLS listener: requests say ``scheme == "https"`` (a trusted proxy may still override)."""

    def dispatch_https(request: Any) -> Any:
        request.scheme = "https"
        return dispatch(request)

    return dispatch_https


def _strip_root_path(dispatch: Any, root_path: str) -> Any:
    """``dispatch`` behind a proxy that mounts the app under ``root_path``: the prefix is removed from paths."""
    prefix = root_path + "/"

    def dispatch_under_root_path(request: Any) -> Any:
        path = request.path
        if path.startswith(prefix):
            request.path = path[len(root_path):]
        elif path == root_path:
            request.path = "/"
        request.root_path = root_path  # so request.url is the URL the client used
        return dispatch(request)

    return dispatch_under_root_path


class Server:
    """Serves ``config.app`` on one event loop.

    Parameters:
        config: the server settings.
        sock: an already-bound listening socket to serve on instead of host/port.
    """

    def __init__(self, config: Config, sock: socket.socket | None = None) -> None:
        self.config = config
        self.sock = sock
        self.state: ServerState | None = None
        self.runner: TaskRunner | None = None
        self.port: int | None = None
        self._server: asyncio.AbstractServer | None = None
        self._exit: asyncio.Event | None = None
        self._force = False
        self._sweeper: asyncio.TimerHandle | None = None
        self._metrics_dir: str | None = None
        self._metrics_written = 0.0
        self._address: Any = None

    async def start(self) -> None:
        """Run the app's startup (lifespan, on_startup hooks), then listen; ``StartupFailed`` if startup raised."""
        loop = asyncio.get_running_loop()
        app = self.config.app
        try:
            await app.lifespan.startup()
        except Exception as exc:
            raise StartupFailed(f"application startup failed: {type(exc).__name__}: {exc}") from exc
        self.runner = TaskRunner(
            loop, error_strategy=app.background_errors, max_pending=app.max_pending_tasks,
            on_pressure=self._on_task_pressure, observer=app.observer,
        )
        self.state = state = ServerState(self.config, loop, self.runner)
        self._exit = asyncio.Event()

        def factory() -> HTTPProtocol:
            return HTTPProtocol(state)

        context = self.config.ssl_context()
        if self.sock is None and self.config.fd is not None:
            self.sock = socket.socket(fileno=self.config.fd)
        if self.sock is not None:
            self._server = await loop.create_server(factory, sock=self.sock, backlog=self.config.backlog,
                                                    ssl=context)
        elif self.config.uds is not None:
            self._server = await loop.create_unix_server(factory, self.config.uds, backlog=self.config.backlog,
                                                         ssl=context)
        else:
            self._server = await loop.create_server(
                factory, self.config.host, self.config.port, backlog=self.config.backlog,
                reuse_port=self.config.reuse_port or None, ssl=context,
            )
        if self.config.gc_freeze:
            # PERF: see Config.gc_freeze; after startup, so what the lifespan built is frozen too.
            gc.collect()
            gc.freeze()
        address = self._server.sockets[0].getsockname()
        self.port = address[1] if isinstance(address, tuple) else None
        self._address = address
        self._sweeper = loop.call_later(SWEEP_INTERVAL, self._sweep)
        if app.metrics is not None:
            app.metrics.runner = self.runner
        self._metrics_dir = os.environ.get(METRICS_DIR_ENV) if app.metrics is not None else None

    @property
    def url(self) -> str:
        address = self._address
        if not isinstance(address, tuple):
            return f"unix:{address.decode() if isinstance(address, bytes) else address}"
        scheme = "https" if self.config.ssl_certfile else "http"
        host = self.config.host if self.config.fd is None and self.sock is None else address[0]
        host = f"[{host}]" if ":" in host else host
        return f"{scheme}://{host}:{self.port}"

    def _on_task_pressure(self, high: bool) -> None:
        """Called by the runner when queued tasks cross max_pending_tasks (high) or its low-water mark."""
        assert self.state is not None
        self.state.tasks_paused = high
        if high:
            logger.warning("%d background tasks queued: pausing reads until they drain", self.runner.pending)
        for connection in list(self.state.connections):
            if high:
                connection.pause_for_tasks()
            else:
                connection.resume_for_tasks()

    def _sweep(self) -> None:
        """Called by the loop every SWEEP_INTERVAL: close idle keep-alive connections."""
        assert self.state is not None
        now = time.monotonic()
        keep_alive = self.config.timeout_keep_alive
        head = self.config.timeout_request_head
        for connection in list(self.state.connections):
            connection.check_timeouts(now, keep_alive, head)
        if self._metrics_dir and now - self._metrics_written >= 1.0:
            self._write_metrics()
        self._sweeper = self.state.loop.call_later(SWEEP_INTERVAL, self._sweep)

    def _write_metrics(self) -> None:
        self._metrics_written = time.monotonic()
        try:
            self.config.app.metrics.write_snapshot(self._metrics_dir)
        except OSError as exc:
            logger.warning("could not write the metrics snapshot to %s: %s", self._metrics_dir, exc)

    def request_exit(self) -> None:
        """Begin a graceful shutdown; a second call forces it (pending tasks are cancelled and logged)."""
        if self._exit is None:
            return
        if self._exit.is_set():
            if not self._force:
                logger.warning("second shutdown signal: forcing exit")
            self._force = True
            return
        self._exit.set()

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        if self.config.ready_fd is not None:
            # NOTE: a supervised worker: Ctrl-C reaches the whole process group, and the
            # supervisor forwards it as SIGTERM; taking it here too would count it twice.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            loop.add_signal_handler(signal.SIGTERM, self.request_exit)
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_exit)

    async def serve(self, *, install_signals: bool = True) -> int:
        """Start, serve until asked to exit, shut down gracefully; return the exit code."""
        try:
            await self.start()
        except StartupFailed as failed:
            logger.error("%s; not serving (pid %d)", failed, os.getpid(), exc_info=failed.__cause__)
            return STARTUP_FAILED_EXIT_CODE
        except BaseException:
            await self._shutdown_lifespan()  # the app started, but the server could not listen
            raise
        if install_signals:
            self._install_signal_handlers()
        logger.info("zigmund_fast serving on %s (pid %d)", self.url, os.getpid())
        if self.config.ready_fd is not None:
            try:
                os.write(self.config.ready_fd, b"1")
            except OSError:  # the supervisor was not waiting for this one
                pass
            os.close(self.config.ready_fd)
        assert self._exit is not None
        await self._exit.wait()
        return await self.shutdown()

    async def shutdown(self) -> int:
        assert self.state is not None and self.runner is not None and self._server is not None
        state, runner, app = self.state, self.runner, self.config.app
        timeout = self.config.timeout_graceful_shutdown
        if timeout is None:
            timeout = self.config.app.shutdown_timeout
        deadline = time.monotonic() + timeout
        self._server.close()
        if state.connections:
            # NOTE: a connection accepted just before the listener closed may not have sent its
            # request yet; draining now would close it as idle. Clients on a LAN send within
            # milliseconds of connecting, so a short grace keeps those requests.
            await asyncio.sleep(DRAIN_GRACE)
        state.draining = True
        busy = [c for c in state.connections if not c.idle]
        logger.info("shutting down: %d connection(s) with requests in flight, %d background task(s) queued",
                    len(busy), runner.pending)
        for connection in list(state.connections):
            connection.start_draining()
        await self._close_websockets_after_http(deadline)
        while state.connections and time.monotonic() < deadline and not self._force:
            await asyncio.sleep(0.02)
        pending_before = runner.pending
        done_before = runner.succeeded + runner.failed
        while not runner.idle and not self._force and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        active = list(runner._active)
        leftovers = runner.abandon()
        if active:
            await asyncio.wait(active, timeout=1.0)
        ran = runner.succeeded + runner.failed - done_before
        if leftovers:
            logger.error("shutdown: %d background task(s) not run: %s", len(leftovers), ", ".join(leftovers))
        logger.info("background tasks: %d pending at shutdown, %d run during the drain, %d not run",
                    pending_before, ran, len(leftovers))
        if app.observer.enabled:
            app.observer.emit("shutdown.drain", None, pending=pending_before, run=ran, left_over=len(leftovers),
                              left_over_tasks=leftovers)
        runner.close()
        if self._metrics_dir:
            self._write_metrics()
        for connection in list(state.connections):
            connection.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        if not state.connections:
            await self._server.wait_closed()
        # NOTE: after the drain, so background tasks could still use what the lifespan opened.
        code = await self._shutdown_lifespan()
        if self.config.gc_freeze:
            gc.unfreeze()
        executor = self.config.app._executor
        if executor is not None:
            executor.shutdown(wait=False)
        return code

    async def _shutdown_lifespan(self) -> int:
        """Run the app's shutdown (on_shutdown hooks, lifespan exit); 1 if it raised (logged), else 0."""
        try:
            await self.config.app.lifespan.shutdown()
        except Exception:
            logger.exception("application shutdown failed")
            return 1
        return 0

    async def _close_websockets_after_http(self, deadline: float) -> None:
        """Keep WebSockets open while the HTTP requests finish (a handler may still send to them), then
        close each with 1001 (going away); their handlers see WebSocketDisconnect(1001)."""
        assert self.state is not None
        connections = self.state.connections
        while (any(not isinstance(c, WebSocketConnection) for c in connections)
               and time.monotonic() < deadline and not self._force):
            await asyncio.sleep(0.02)
        for connection in list(connections):
            if isinstance(connection, WebSocketConnection):
                connection.going_away()

    def run(self) -> int:
        """Serve in this thread on a new uvloop loop; returns the exit code."""
        loop = uvloop.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            return loop.run_until_complete(self.serve())
        finally:
            loop.close()
            asyncio.set_event_loop(None)
