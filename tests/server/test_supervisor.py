"""``zigmund serve --workers 2`` with real processes: both workers serve one port, a killed worker is
replaced, and SIGTERM to the supervisor drains every worker (their queued tasks run) before it exits 0.
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

PACKAGE_PARENT = str(Path(zigmund_fast.__file__).resolve().parent.parent)

APP_SOURCE = '''
import asyncio
import os

import zigmund_fast as zigmund

LOG = os.environ["ZIG_TASK_LOG"]


async def write_line(text, delay):
    await asyncio.sleep(delay)
    with open(LOG, "a") as f:
        f.write(text + "\\n")


app = zigmund.App()


@app.get("/pid")
async def pid():
    return {"pid": os.getpid()}


@app.post("/task/{name}")
async def task(name: str, tasks: zigmund.BackgroundTasks):
    tasks.add(write_line, f"{name} {os.getpid()}", 0.3)
    return {"pid": os.getpid()}


@app.post("/slow/{name}")
async def slow(name: str, tasks: zigmund.BackgroundTasks):
    await asyncio.sleep(1.0)
    tasks.add(write_line, f"{name} {os.getpid()}", 0.2)
    return {"pid": os.getpid()}
'''

GET_PID = b"GET %s/pid HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Supervised:
    """``python -m zigmund_fast serve supervisedapp:app --workers 2`` in ``directory``."""

    def __init__(self, directory: Path, *options: str, pass_fds: tuple[int, ...] = (), port: int | None = None,
                 start_new_session: bool = False) -> None:
        (directory / "supervisedapp.py").write_text(textwrap.dedent(APP_SOURCE))
        self.directory = directory
        self.log = directory / "tasks.log"
        self.port = port if port is not None else free_port()
        self.prefix = ""
        environment = dict(os.environ, ZIG_TASK_LOG=str(self.log))
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, environment.get("PYTHONPATH")]))
        listener = [] if "--fd" in options else ["--port", str(self.port)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "zigmund_fast", "serve", "supervisedapp:app", *listener,
             *(options or ("--workers", "2"))],
            cwd=directory, env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, pass_fds=pass_fds, start_new_session=start_new_session,
        )
        self.seen_pids: set[int] = set()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                self.pid_of_new_connection()
                return
            except OSError:
                if self.proc.poll() is not None:
                    out, err = self.proc.communicate()
                    raise RuntimeError(f"supervisor exited with {self.proc.returncode}: {out}\n{err}") from None
                time.sleep(0.05)
        self.kill()
        raise RuntimeError("workers did not start serving within 15 s")

    def request(self, raw: bytes) -> Any:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.settimeout(5)
            sock.sendall(raw)
            return read_response(sock)

    def pid_of_new_connection(self) -> int:
        response = self.request(GET_PID % self.prefix.encode())
        assert response.status == 200
        pid = int(json.loads(response.body)["pid"])
        self.seen_pids.add(pid)
        return pid

    def pids_until(self, predicate: Any, timeout: float = 10.0) -> set[int]:
        """Ask new connections for their worker's pid until ``predicate(pids seen)`` holds."""
        pids: set[int] = set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not predicate(pids):
            try:
                pids.add(self.pid_of_new_connection())
            except (ConnectionError, OSError):
                time.sleep(0.05)  # e.g. a connection that landed on the worker just killed
        return pids

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def wait(self, timeout: float = 20.0) -> tuple[int, str]:
        _, stderr = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, stderr

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()  # the supervisor; then any worker it left behind
        for pid in self.seen_pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.proc.communicate(timeout=10)
        except (ValueError, subprocess.TimeoutExpired):
            pass


@pytest.fixture
def supervised(tmp_path: Path) -> Iterator[Supervised]:
    server = Supervised(tmp_path)
    try:
        yield server
    finally:
        server.kill()


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_two_workers_serve_and_a_killed_worker_is_restarted(supervised: Supervised) -> None:
    workers = supervised.pids_until(lambda pids: len(pids) >= 2)
    assert len(workers) == 2, f"new connections only ever reached {workers}"
    assert supervised.proc.pid not in workers
    if Path("/proc").is_dir():
        assert {parent_of(pid) for pid in workers} == {supervised.proc.pid}

    victim = min(workers)
    survivor = max(workers)
    os.kill(victim, signal.SIGKILL)
    after = supervised.pids_until(lambda pids: bool(pids - workers))
    replacement = after - workers
    assert replacement, f"no new worker appeared after killing {victim} (saw {after})"
    (new_pid,) = replacement
    assert victim not in after
    if Path("/proc").is_dir():
        assert parent_of(new_pid) == supervised.proc.pid
    # Service continues on both workers: the survivor and the replacement.
    assert supervised.pids_until(lambda pids: pids >= {survivor, new_pid}) >= {survivor, new_pid}
    for _ in range(20):
        assert supervised.pid_of_new_connection() in (survivor, new_pid)

    supervised.proc.send_signal(signal.SIGTERM)
    code, stderr = supervised.wait()
    assert code == 0, stderr
    assert re.search(rf"pid {victim}\) died with -?\d+; restarting", stderr), stderr
    assert gone(survivor) and gone(new_pid)


def test_sigterm_to_the_supervisor_drains_every_worker_then_exits_0(supervised: Supervised) -> None:
    slow_result: list[Any] = []

    def slow_request() -> None:
        try:
            slow_result.append(supervised.request(b"POST /slow/slow-request HTTP/1.1\r\nHost: t\r\n"
                                                  b"Content-Length: 0\r\n\r\n"))
        except BaseException as exc:  # noqa: BLE001 - asserted below
            slow_result.append(exc)

    # Queue tasks (each sleeps 0.3 s before writing its line) in both workers, over new connections.
    answered: list[str] = []
    pids_with_tasks: set[int] = set()
    n = 0
    deadline = time.monotonic() + 10
    while (len(pids_with_tasks) < 2 or n < 40) and time.monotonic() < deadline:
        name = f"task-{n}"
        n += 1
        response = supervised.request(b"POST /task/%s HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"
                                      % name.encode())
        assert response.status == 200
        pid = int(json.loads(response.body)["pid"])
        supervised.seen_pids.add(pid)
        pids_with_tasks.add(pid)
        answered.append(f"{name} {pid}")
    assert len(pids_with_tasks) == 2, "tasks reached only one worker"

    slow = threading.Thread(target=slow_request, daemon=True)
    slow.start()
    time.sleep(0.3)  # the slow handler is sleeping in one of the workers
    supervised.proc.send_signal(signal.SIGTERM)
    slow.join(10)
    code, stderr = supervised.wait()
    assert code == 0, stderr

    assert len(slow_result) == 1 and not isinstance(slow_result[0], BaseException), slow_result
    assert slow_result[0].status == 200
    slow_pid = int(json.loads(slow_result[0].body)["pid"])

    lines = supervised.lines()
    # Every task queued before SIGTERM ran (plus the in-flight request's task), in whichever worker queued it.
    assert sorted(lines) == sorted([*answered, f"slow-request {slow_pid}"]), stderr
    assert {int(line.split()[1]) for line in lines} == pids_with_tasks
    exits = re.findall(r"worker \d+ \(pid (\d+)\) exited with (-?\d+)", stderr)
    assert sorted(exits) == sorted((str(pid), "0") for pid in pids_with_tasks), stderr
    for pid in pids_with_tasks:
        assert gone(pid), f"worker {pid} is still running after the supervisor exited"
