"""Graceful shutdown of real server processes started with ``python -m zigmund_fast serve``.

On SIGTERM/SIGINT the server stops accepting, answers the requests in flight, runs every
background task already queued, then exits 0; ``App(shutdown_timeout=...)`` bounds that and
names what did not run; a second signal forces the exit. Tasks append lines to a file, so what
ran is read from disk after the process is gone.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import zigmund_fast

from ..conftest import read_response

# The directory holding the zigmund_fast package the tests import: put on the child's PYTHONPATH so
# that the server process runs the very same code (a source checkout or an installed package).
PACKAGE_PARENT = str(Path(zigmund_fast.__file__).resolve().parent.parent)

APP_SOURCE = '''
import asyncio
import os
import time

import zigmund_fast as zigmund

LOG = os.environ["ZIG_TASK_LOG"]


def append_line(text):
    with open(LOG, "a") as f:
        f.write(text + "\\n")


async def slow_line(text, delay):
    await asyncio.sleep(delay)
    append_line(text)


async def never_finishes(text):
    await asyncio.sleep(10)
    append_line(text)


app = zigmund.App(shutdown_timeout=float(os.environ.get("ZIG_SHUTDOWN_TIMEOUT", "30")))


@app.post("/slow")
async def slow(tasks: zigmund.BackgroundTasks):
    await asyncio.sleep(1.0)
    for i in range(3):
        tasks.add(slow_line, f"slow-{i}", 0.3)
    return {"slow": True}


@app.post("/slow-sync")
def slow_sync(tasks: zigmund.BackgroundTasks):
    time.sleep(1.0)
    for i in range(3):
        tasks.add(slow_line, f"slow-{i}", 0.3)
    return {"slow": True}


@app.post("/quick/{name}")
async def quick(name: str, tasks: zigmund.BackgroundTasks):
    tasks.add(slow_line, name, 0.1)
    return {"name": name}


@app.post("/forever")
async def forever(tasks: zigmund.BackgroundTasks):
    tasks.add(never_finishes, "forever")
    return {"queued": True}


@app.get("/pid")
async def pid():
    return {"pid": os.getpid()}
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(**extra: str) -> dict[str, str]:
    environment = dict(os.environ, **extra)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, environment.get("PYTHONPATH")]))
    environment.pop("PYTHONSTARTUP", None)
    return environment


class ServerProcess:
    """``python -m zigmund_fast serve shutdownapp:app`` in ``directory``, on a free port."""

    def __init__(self, directory: Path, *args: str, env: dict[str, str] | None = None,
                 module: str = "shutdownapp", source: str = APP_SOURCE) -> None:
        (directory / f"{module}.py").write_text(textwrap.dedent(source))
        self.log = directory / "tasks.log"
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "zigmund_fast", "serve", f"{module}:app", "--port", str(self.port), *args],
            cwd=directory, env=child_env(ZIG_TASK_LOG=str(self.log), **(env or {})),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    out, err = self.proc.communicate()
                    raise RuntimeError(f"server exited with {self.proc.returncode}: {out}\n{err}") from None
                time.sleep(0.05)
        self.kill()
        raise RuntimeError("server did not start listening within 15 s")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def connect(self, timeout: float = 10.0) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        sock.settimeout(timeout)
        return sock

    def request(self, raw: bytes, timeout: float = 10.0) -> Any:
        with self.connect(timeout) as sock:
            sock.sendall(raw)
            return read_response(sock)

    def send_signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 20.0) -> tuple[int, str]:
        """Wait for the exit; returns (exit code, stderr)."""
        _, stderr = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, stderr

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.communicate(timeout=10)
        except (ValueError, subprocess.TimeoutExpired):  # already communicated / stuck
            pass


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Any]:
    started: list[ServerProcess] = []

    def start(*args: str, **kwargs: Any) -> ServerProcess:
        server = ServerProcess(tmp_path, *args, **kwargs)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.kill()


def post(path: str) -> bytes:
    return b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n" % path.encode()


def late_connection_does_not_hang(port: int) -> str:
    """A connection attempted during the drain is refused, closed, or answered: never left hanging."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as late:
            late.settimeout(2)
            late.sendall(b"GET /pid HTTP/1.1\r\nHost: t\r\n\r\n")
            data = late.recv(65536)
    except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError):
        return "refused"
    except socket.timeout:
        pytest.fail("a connection made during the drain hung")
    return "answered" if data.startswith(b"HTTP/1.1 ") else "closed"


@pytest.mark.parametrize(
    ("sig", "route"),
    [(signal.SIGTERM, "/slow"), (signal.SIGINT, "/slow"), (signal.SIGTERM, "/slow-sync")],
    ids=["SIGTERM-async-handler", "SIGINT-async-handler", "SIGTERM-def-handler"],
)
def test_a_signal_lets_the_request_in_flight_finish_and_its_tasks_run(start_server: Any, sig: int,
                                                                        route: str) -> None:
    server = start_server()
    idle = server.connect()
    try:
        idle.sendall(b"GET /pid HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(idle).status == 200  # an idle keep-alive connection at shutdown
        with server.connect() as sock:
            sock.sendall(post(route))
            time.sleep(0.3)  # the handler is sleeping now
            server.send_signal(sig)
            time.sleep(0.1)
            assert late_connection_does_not_hang(server.port) in ("refused", "closed", "answered")
            idle.settimeout(2)
            assert idle.recv(1024) == b""  # the idle connection is closed, not kept open
            response = read_response(sock)
    finally:
        idle.close()
    assert response.status == 200 and json.loads(response.body) == {"slow": True}
    assert response.header("connection") == "close"
    code, stderr = server.wait()
    assert code == 0, stderr
    # The three tasks (0.3 s each, in order) all ran before the process exited.
    assert server.lines() == ["slow-0", "slow-1", "slow-2"], stderr
    assert "not run:" not in stderr


def test_every_task_queued_by_requests_answered_before_sigterm_runs(start_server: Any) -> None:
    server = start_server()
    answered: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    failures: list[BaseException] = []

    def client(worker: int) -> None:
        n = 0
        try:
            while not stop.is_set():
                try:
                    sock = server.connect(timeout=5)
                except OSError:
                    return  # refused: the server stopped accepting
                with sock:
                    while not stop.is_set():
                        name = f"w{worker}-{n}"
                        n += 1
                        try:
                            sock.sendall(post(f"/quick/{name}"))
                            response = read_response(sock)
                        except (ConnectionError, OSError):
                            return  # closed by the drain before this request was read
                        assert response.status == 200
                        with lock:
                            answered.append(name)
                        if response.header("connection") == "close":
                            return
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.4)  # requests are flowing, each queueing a task that sleeps 0.1 s
    server.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(10)
    stop.set()
    assert not failures, failures
    code, stderr = server.wait()
    assert code == 0, stderr
    assert len(answered) >= 20, f"only {len(answered)} requests were answered before SIGTERM"
    lines = server.lines()
    assert len(lines) == len(set(lines))
    assert sorted(lines) == sorted(answered), stderr


def test_shutdown_timeout_bounds_the_drain_and_names_the_tasks_not_run(start_server: Any) -> None:
    server = start_server(env={"ZIG_SHUTDOWN_TIMEOUT": "0.5"})
    with server.connect() as sock:
        buffer = bytearray()
        sock.sendall(post("/forever") + post("/quick/finishes-in-time") + post("/forever"))
        for _ in range(3):
            assert read_response(sock, buffer=buffer).status == 200
    started = time.monotonic()
    server.send_signal(signal.SIGTERM)
    code, stderr = server.wait(timeout=10)
    elapsed = time.monotonic() - started
    assert elapsed < 3.0, f"exit took {elapsed:.2f}s with shutdown_timeout=0.5"
    assert code == 0, stderr
    match = re.search(r"(\d+) background task\(s\) not run: (.*)", stderr)
    assert match is not None, stderr
    assert match.group(1) == "2"
    assert match.group(2).count("never_finishes") == 2
    assert server.lines() == ["finishes-in-time"]  # what could finish within the bound did


def test_a_second_signal_forces_a_long_drain_to_end(start_server: Any) -> None:
    server = start_server()  # shutdown_timeout is 30 s: only the second signal can end this quickly
    assert server.request(post("/forever")).status == 200
    server.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert late_connection_does_not_hang(server.port) in ("refused", "closed", "answered")
    assert server.proc.poll() is None, "the drain should still be waiting for the 10 s task"
    started = time.monotonic()
    server.send_signal(signal.SIGTERM)
    code, stderr = server.wait(timeout=10)
    elapsed = time.monotonic() - started
    assert elapsed < 3.0, f"the second SIGTERM took {elapsed:.2f}s to end the process"
    assert code >= 0, f"killed by signal {-code} instead of exiting"
    assert "forcing exit" in stderr
    assert re.search(r"1 background task\(s\) not run: never_finishes", stderr), stderr
    assert server.lines() == []
