"""Run a server in this process, or ``workers`` forked processes sharing the port (SO_REUSEPORT).

The supervisor restarts a worker that dies unexpectedly (with a growing
back-off) and, on SIGTERM/SIGINT, forwards SIGTERM so that every worker
shuts down gracefully; it exits 0 once they all have.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time

from zigmund_fast.metrics import METRICS_DIR_ENV
from zigmund_fast.observability import reset_request_id_prefix
from zigmund_fast.server.config import Config
from zigmund_fast.server.server import Server

logger = logging.getLogger("zigmund_fast.supervisor")

RESTART_BACKOFF_MAX = 10.0


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(levelname)s: %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("zigmund_fast").setLevel(level.upper())


def run(config: Config) -> int:
    """Serve ``config`` until SIGTERM/SIGINT; return the process exit code."""
    configure_logging(config.log_level)
    if config.workers == 1:
        return Server(config).run()
    return Supervisor(config).run()


class Supervisor:
    def __init__(self, config: Config) -> None:
        self.config = dataclasses.replace(config, reuse_port=True)
        self.workers: dict[int, int] = {}  # pid -> slot
        self.stopping = False
        self._reserve: socket.socket | None = None

    def _reserve_port(self) -> None:
        # NOTE: with port 0 every worker would get its own port; reserve one here
        # (bound, never listening) and let the workers share it.
        if self.config.port != 0:
            return
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((self.config.host, 0))
        self._reserve = sock
        self.config = dataclasses.replace(self.config, port=sock.getsockname()[1])

    def _spawn(self, slot: int) -> None:
        pid = os.fork()
        if pid == 0:  # worker
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                reset_request_id_prefix()
                code = Server(self.config).run()
            except BaseException:
                logger.exception("worker %d crashed", os.getpid())
            finally:
                logging.shutdown()
                os._exit(code)
        self.workers[pid] = slot
        logger.info("started worker %d (pid %d)", slot, pid)

    def _on_signal(self, signum: int, frame: object) -> None:
        """SIGTERM/SIGINT: forward SIGTERM to every worker (a second signal makes them force their exit)."""
        self.stopping = True
        for pid in list(self.workers):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def run(self) -> int:
        self._reserve_port()
        metrics_dir = None
        if self.config.app.metrics is not None and not os.environ.get(METRICS_DIR_ENV):
            # NOTE: the workers inherit this through fork; each writes its snapshot there.
            metrics_dir = tempfile.mkdtemp(prefix="zigmund-metrics-")
            os.environ[METRICS_DIR_ENV] = metrics_dir
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        scheme = "https" if self.config.ssl_certfile else "http"
        logger.info("supervisor %d starting %d workers on %s://%s:%d", os.getpid(), self.config.workers,
                    scheme, self.config.host, self.config.port)
        for slot in range(self.config.workers):
            self._spawn(slot)
        failures: dict[int, int] = {}
        while self.workers:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            slot = self.workers.pop(pid, None)
            if slot is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if self.stopping:
                logger.info("worker %d (pid %d) exited with %d", slot, pid, code)
                continue
            failures[slot] = failures.get(slot, 0) + 1
            backoff = min(RESTART_BACKOFF_MAX, 0.1 * 2 ** (failures[slot] - 1))
            logger.error("worker %d (pid %d) died with %d; restarting in %.1fs", slot, pid, code, backoff)
            time.sleep(backoff)
            if not self.stopping:
                self._spawn(slot)
        if self._reserve is not None:
            self._reserve.close()
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        logger.info("supervisor: all workers stopped")
        return 0
