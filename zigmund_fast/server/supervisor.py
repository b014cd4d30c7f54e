"""Run a server in this process, or supervise ``workers`` processes that share one listening socket.

The supervisor binds the socket once; every worker accepts from it, so a
worker that stops (or is replaced) leaves the connections waiting in the
accept queue to the others instead of resetting them (which is what closing
one of several SO_REUSEPORT listeners would do).

- A worker that dies unexpectedly is restarted, with a growing back-off.
- SIGHUP replaces the workers one by one: a new worker is started, and only
  once it listens is the old one sent SIGTERM, to finish its requests and
  background tasks. With ``--reload`` a changed ``.py`` file does the same.
- SIGTERM/SIGINT are forwarded as SIGTERM, so every worker drains gracefully;
  a second signal makes them force their exit. Workers ignore SIGINT
  themselves, so a Ctrl-C in a terminal (sent to the whole process group)
  counts once.

Workers are forked from the supervisor, or, when ``worker_command`` is given
(the ``zigmund serve`` command does), started afresh with ``posix_spawn`` so
that a restart also loads the application's current code.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable

from zigmund_fast.metrics import METRICS_DIR_ENV
from zigmund_fast.observability import reset_request_id_prefix
from zigmund_fast.server.config import Config
from zigmund_fast.server.server import Server

logger = logging.getLogger("zigmund_fast.supervisor")

RESTART_BACKOFF_MAX = 10.0
STARTUP_FAILED = 3  # a worker's exit code when the application's startup failed (as uvicorn's)
READY_TIMEOUT = 60.0
POLL_INTERVAL = 0.05

# listening fd, ready-pipe fd -> argv of a worker process
WorkerCommand = Callable[[int, int], list[str]]


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(levelname)s: %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("zigmund_fast").setLevel(level.upper())


def run(config: Config, worker_command: WorkerCommand | None = None) -> int:
    """Serve ``config`` until SIGTERM/SIGINT; return the process exit code."""
    configure_logging(config.log_level)
    if config.workers == 1 and not config.reload:
        return Server(config).run()
    if config.reload and worker_command is None:
        raise ValueError("--reload needs the app as an import string (zigmund serve MODULE:ATTR --reload)")
    return Supervisor(config, worker_command).run()


def listen(config: Config) -> socket.socket:
    """The listening socket the workers share (inheritable, so spawned workers get it too)."""
    if config.fd is not None:
        sock = socket.socket(fileno=config.fd)
    elif config.uds is not None:
        if os.path.exists(config.uds) and not os.path.isfile(config.uds):
            os.unlink(config.uds)  # a stale socket from an earlier run
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(config.uds)
    else:
        family, _, _, _, address = socket.getaddrinfo(config.host, config.port, type=socket.SOCK_STREAM,
                                                      flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
    sock.listen(config.backlog)
    sock.set_inheritable(True)
    return sock


class Supervisor:
    def __init__(self, config: Config, worker_command: WorkerCommand | None = None) -> None:
        self.config = config
        self.worker_command = worker_command
        self.workers: dict[int, int] = {}  # pid -> slot
        self.retiring: set[int] = set()  # replaced workers, draining after SIGTERM
        self.stopping = False
        self.replace_requested = False
        self.listener: socket.socket | None = None
        self._failures: dict[int, int] = {}
        self.exit_code = 0

    # Workers

    def _spawn(self, slot: int) -> tuple[int, int]:
        """Start a worker for ``slot``; returns its pid and the read end of its ready pipe."""
        assert self.listener is not None
        ready_read, ready_write = os.pipe()
        if self.worker_command is not None:
            os.set_inheritable(ready_write, True)
            argv = self.worker_command(self.listener.fileno(), ready_write)
            pid = os.posix_spawn(argv[0], argv, os.environ)
        else:
            pid = os.fork()
            if pid == 0:
                os.close(ready_read)
                self._run_forked_worker(ready_write)
        os.close(ready_write)
        self.workers[pid] = slot
        logger.info("started worker %d (pid %d)", slot, pid)
        return pid, ready_read

    def _run_forked_worker(self, ready_write: int) -> None:
        code = 1
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGHUP, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            reset_request_id_prefix()
            config = dataclasses.replace(self.config, workers=1, reload=False, ready_fd=ready_write)
            code = Server(config, sock=self.listener).run()
        except BaseException:
            logger.exception("worker %d crashed", os.getpid())
        finally:
            logging.shutdown()
            os._exit(code)

    def _wait_ready(self, pid: int, ready_read: int, timeout: float = READY_TIMEOUT) -> bool:
        """Wait until the worker says it listens; False if it exits or the timeout passes first."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and not self.stopping:
                readable, _, _ = select.select([ready_read], [], [], POLL_INTERVAL)
                if readable:
                    return os.read(ready_read, 1) == b"1"
                if pid not in self.workers:
                    return False
                self._reap()
            return False
        finally:
            os.close(ready_read)

    def _replace_all(self) -> None:
        """SIGHUP / --reload: start a new worker for each slot, then retire the old one."""
        logger.info("replacing %d worker(s) one by one", len(self.workers))
        for old_pid, slot in sorted(self.workers.items(), key=lambda item: item[1]):
            if self.stopping or old_pid not in self.workers:
                continue
            self.retiring.add(old_pid)
            new_pid, ready_read = self._spawn(slot)
            if not self._wait_ready(new_pid, ready_read):
                logger.error("replacement worker %d (pid %d) did not start; keeping pid %d", slot, new_pid, old_pid)
                self.retiring.discard(old_pid)
                if new_pid in self.workers:
                    self.retiring.add(new_pid)
                    _kill(new_pid, signal.SIGTERM)
                return
            logger.info("worker %d replaced: pid %d retires, pid %d serves", slot, old_pid, new_pid)
            _kill(old_pid, signal.SIGTERM)

    def _reap(self) -> None:
        """Collect exited workers; restart the ones that died unexpectedly."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot = self.workers.pop(pid, None)
            if slot is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if code == STARTUP_FAILED and not self.stopping and pid not in self.retiring:
                # The app's startup (lifespan) failed: restarting would fail the same way.
                logger.error("worker %d (pid %d) failed to start the application; stopping", slot, pid)
                self.exit_code = STARTUP_FAILED
                self._on_stop_signal(signal.SIGTERM, None)
                continue
            if self.stopping or pid in self.retiring:
                self.retiring.discard(pid)
                logger.info("worker %d (pid %d) exited with %d", slot, pid, code)
                continue
            self._failures[slot] = self._failures.get(slot, 0) + 1
            backoff = min(RESTART_BACKOFF_MAX, 0.1 * 2 ** (self._failures[slot] - 1))
            logger.error("worker %d (pid %d) died with %d; restarting in %.1fs", slot, pid, code, backoff)
            time.sleep(backoff)
            if not self.stopping:
                _, ready_read = self._spawn(slot)
                os.close(ready_read)

    # Signals

    def _on_stop_signal(self, signum: int, frame: object) -> None:
        """SIGTERM/SIGINT: forward SIGTERM to every worker (a second signal makes them force their exit)."""
        self.stopping = True
        for pid in list(self.workers):
            _kill(pid, signal.SIGTERM)

    def _on_hangup(self, signum: int, frame: object) -> None:
        self.replace_requested = True

    def run(self) -> int:
        self.listener = listen(self.config)
        metrics_dir = None
        if self.config.app.metrics is not None and not os.environ.get(METRICS_DIR_ENV):
            # NOTE: the workers inherit this; each writes its snapshot there.
            metrics_dir = tempfile.mkdtemp(prefix="zigmund-metrics-")
            os.environ[METRICS_DIR_ENV] = metrics_dir
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)
        signal.signal(signal.SIGHUP, self._on_hangup)
        watcher = _start_reload_watcher(self) if self.config.reload else None
        logger.info("supervisor %d starting %d worker(s) on %s", os.getpid(), self.config.workers,
                    _describe(self.listener, self.config))
        for slot in range(self.config.workers):
            _, ready_read = self._spawn(slot)
            os.close(ready_read)
        while self.workers:
            if self.replace_requested and not self.stopping:
                self.replace_requested = False
                self._replace_all()
            self._reap()
            time.sleep(POLL_INTERVAL)
        if watcher is not None:
            watcher.set()
        self.listener.close()
        if self.config.uds is not None:
            try:
                os.unlink(self.config.uds)
            except OSError:
                pass
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        logger.info("supervisor: all workers stopped")
        return self.exit_code


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _describe(sock: socket.socket, config: Config) -> str:
    address = sock.getsockname()
    if not isinstance(address, tuple):
        return f"unix:{address}"
    scheme = "https" if config.ssl_certfile else "http"
    host = f"[{address[0]}]" if ":" in address[0] else address[0]
    return f"{scheme}://{host}:{address[1]}"


def _start_reload_watcher(supervisor: Supervisor) -> threading.Event:
    """Watch ``.py`` files (watchfiles if installed, else polling); a change asks for a worker replacement."""
    directories = supervisor.config.reload_dirs or (os.getcwd(),)
    stop = threading.Event()

    def changed() -> None:
        logger.info("change detected; reloading")
        supervisor.replace_requested = True

    def watch() -> None:
        try:
            import watchfiles
        except ImportError:
            _poll_for_changes(directories, stop, changed)
            return
        for _ in watchfiles.watch(*directories, watch_filter=watchfiles.PythonFilter(), stop_event=stop,
                                  rust_timeout=500, yield_on_timeout=False):
            changed()

    threading.Thread(target=watch, name="zigmund-reload", daemon=True).start()
    logger.info("watching %s for changes", ", ".join(directories))
    return stop


def _poll_for_changes(directories: tuple[str, ...], stop: threading.Event, changed: Callable[[], None]) -> None:
    def snapshot() -> dict[str, float]:
        times = {}
        for directory in directories:
            for root, dirs, files in os.walk(directory):
                dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("__pycache__", "node_modules")]
                for name in files:
                    if name.endswith(".py"):
                        path = os.path.join(root, name)
                        try:
                            times[path] = os.stat(path).st_mtime
                        except OSError:
                            pass
        return times

    before = snapshot()
    while not stop.wait(0.5):
        now = snapshot()
        if now != before:
            before = now
            changed()
