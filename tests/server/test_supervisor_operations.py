"""Operating a supervised server with real processes: SIGHUP replaces the workers without dropping a
connection, ``--reload`` picks up changed code, ``--fd`` serves an inherited socket, ``--root-path``,
workers sharing a Unix socket, and a Ctrl-C to the whole process group counted once.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ..conftest import read_response
from .test_supervisor import APP_SOURCE, PACKAGE_PARENT, Supervised, gone

POST_TASK = b"POST /task/%s HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"


class Hammer:
    """Keeps opening new connections and asking for the worker's pid; records every failure."""

    def __init__(self, supervised: Supervised) -> None:
        self.supervised = supervised
        self.pids: list[int] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.pids.append(self.supervised.pid_of_new_connection())
            except BaseException as exc:  # noqa: BLE001 - every failure is asserted on
                self.errors.append(exc)

    def __enter__(self) -> Hammer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(10)


def test_sighup_replaces_every_worker_without_dropping_a_connection(tmp_path: Path) -> None:
    supervised = Supervised(tmp_path)
    try:
        old = supervised.pids_until(lambda pids: len(pids) >= 2)
        assert len(old) == 2
        queued = []
        for n in range(10):
            response = supervised.request(POST_TASK % b"before-%d" % n)
            assert response.status == 200
            queued.append(f"before-{n} {json.loads(response.body)['pid']}")
        slow: list[Any] = []
        slow_thread = threading.Thread(target=lambda: slow.append(supervised.request(
            b"POST /slow/in-flight HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")), daemon=True)
        with Hammer(supervised) as hammer:
            slow_thread.start()
            time.sleep(0.3)
            supervised.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (len(set(hammer.pids) - old) >= 2 and all(map(gone, old))):
                time.sleep(0.1)
            time.sleep(0.3)
            served_during = len(hammer.pids)
        slow_thread.join(10)
        new = set(hammer.pids[-20:])
        assert hammer.errors == [], f"{len(hammer.errors)} connection(s) failed during the replacement"
        assert served_during > 20
        assert len(new) == 2 and not new & old, (old, new)
        assert all(gone(pid, 0.1) for pid in old)
        assert len(slow) == 1 and slow[0].status == 200
        slow_pid = json.loads(slow[0].body)["pid"]
        assert slow_pid in old  # it was answered by a retiring worker, during its drain
        supervised.proc.send_signal(signal.SIGTERM)
        code, stderr = supervised.wait()
        assert code == 0, stderr
        assert len(re.findall(r"worker \d replaced: pid \d+ retires", stderr)) == 2, stderr
        assert sorted(supervised.lines()) == sorted([*queued, f"in-flight {slow_pid}"])
    finally:
        supervised.kill()


def test_reload_restarts_the_worker_with_the_changed_code(tmp_path: Path) -> None:
    supervised = Supervised(tmp_path, "--reload")
    try:
        first = supervised.pid_of_new_connection()
        source = tmp_path / "supervisedapp.py"
        source.write_text(source.read_text() + '\n\n@app.get("/version")\nasync def version():\n    return "two"\n')
        deadline = time.monotonic() + 20
        answer = None
        while time.monotonic() < deadline:
            try:
                answer = supervised.request(b"GET /version HTTP/1.1\r\nHost: t\r\n\r\n")
            except OSError:
                answer = None
            if answer is not None and answer.status == 200:
                break
            time.sleep(0.2)
        assert answer is not None and answer.status == 200 and answer.body == b'"two"'
        assert supervised.pid_of_new_connection() != first
        assert gone(first)
        supervised.proc.send_signal(signal.SIGTERM)
        code, stderr = supervised.wait()
        assert code == 0 and "change detected" in stderr, stderr
    finally:
        supervised.kill()


def test_an_inherited_listening_socket_is_served(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    supervised = Supervised(tmp_path, "--fd", str(listener.fileno()), pass_fds=(listener.fileno(),), port=port)
    listener.close()  # the server's copy of the socket is the only one now
    try:
        response = supervised.request(b"GET /pid HTTP/1.1\r\nHost: t\r\n\r\n")
        assert response.status == 200
        supervised.proc.send_signal(signal.SIGTERM)
        code, stderr = supervised.wait()
        assert code == 0, stderr
        assert f"serving on http://127.0.0.1:{port}" in stderr
    finally:
        supervised.kill()


def test_root_path_is_stripped_and_announced(tmp_path: Path) -> None:
    supervised = Supervised(tmp_path, "--root-path", "/api")
    supervised.prefix = "/api"
    try:
        assert supervised.pid_of_new_connection() == supervised.proc.pid  # one worker: the process itself
        # A proxy that does not strip the prefix, and one that does: both reach the route.
        assert supervised.request(b"GET /pid HTTP/1.1\r\nHost: t\r\n\r\n").status == 200
        document = json.loads(supervised.request(b"GET /api/openapi.json HTTP/1.1\r\nHost: t\r\n\r\n").body)
        assert document["servers"] == [{"url": "/api"}]
        docs = supervised.request(b"GET /api/docs HTTP/1.1\r\nHost: t\r\n\r\n").body.decode()
        assert "/api/openapi.json" in docs
    finally:
        supervised.kill()


def test_workers_share_a_unix_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "zig.sock")

    def pid_over_uds() -> int:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(path)
            sock.sendall(b"GET /pid HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            return int(json.loads(read_response(sock).body)["pid"])

    # (Supervised waits for a TCP answer, so this one is started by hand.)
    (tmp_path / "supervisedapp.py").write_text(APP_SOURCE)
    environment = dict(os.environ, ZIG_TASK_LOG=str(tmp_path / "tasks.log"))
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, environment.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "zigmund_fast", "serve", "supervisedapp:app", "--uds", path, "--workers", "2"],
        cwd=tmp_path, env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pids: set[int] = set()
        deadline = time.monotonic() + 20
        while len(pids) < 2 and time.monotonic() < deadline:
            try:
                pids.add(pid_over_uds())
            except OSError:
                time.sleep(0.05)
        assert len(pids) == 2 and proc.pid not in pids
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
        assert proc.returncode == 0, stderr
        assert not os.path.exists(path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_ctrl_c_to_the_process_group_drains_once(tmp_path: Path) -> None:
    supervised = Supervised(tmp_path, "--workers", "2", start_new_session=True)
    try:
        supervised.pids_until(lambda pids: len(pids) >= 2)
        answered = []
        for n in range(6):
            response = supervised.request(POST_TASK % b"ctrl-c-%d" % n)
            answered.append(f"ctrl-c-{n} {json.loads(response.body)['pid']}")
        os.killpg(supervised.proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
        code, stderr = supervised.wait()
        assert code == 0, stderr
        assert "forcing exit" not in stderr and "not run" not in stderr.replace("0 not run", ""), stderr
        assert sorted(supervised.lines()) == sorted(answered)
    finally:
        supervised.kill()


def test_reload_falls_back_to_polling_without_watchfiles(tmp_path: Path) -> None:
    from zigmund_fast.server.supervisor import _poll_for_changes

    (tmp_path / "app.py").write_text("x = 1\n")
    (tmp_path / "notes.txt").write_text("not python\n")
    changes: list[str] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_poll_for_changes, args=((str(tmp_path),), stop, lambda: changes.append("!")))
    watcher.start()
    try:
        time.sleep(0.7)
        (tmp_path / "notes.txt").write_text("still not python\n")
        time.sleep(0.7)
        assert changes == []
        (tmp_path / "app.py").write_text("x = 2  # changed\n")
        os.utime(tmp_path / "app.py", (time.time() + 5, time.time() + 5))
        deadline = time.monotonic() + 5
        while not changes and time.monotonic() < deadline:
            time.sleep(0.05)
        assert changes == ["!"]
    finally:
        stop.set()
        watcher.join(5)


def test_a_startup_failure_in_the_workers_stops_the_supervisor_with_exit_3(tmp_path: Path) -> None:
    (tmp_path / "brokenapp.py").write_text(
        "import contextlib\nimport zigmund_fast as zigmund\n\n"
        "@contextlib.asynccontextmanager\nasync def lifespan(app):\n"
        "    raise ConnectionError('database unreachable')\n    yield\n\n"
        "app = zigmund.App(lifespan=lifespan)\n"
    )
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, environment.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "zigmund_fast", "serve", "brokenapp:app", "--port", "0", "--workers", "2"],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 3, proc.stderr
    assert "database unreachable" in proc.stderr and "failed to start the application" in proc.stderr
    assert "restarting" not in proc.stderr
