"""Background-task policy: error strategies, timeouts, blocking tasks, backpressure, and a load with every task counted.

The basic semantics (after the response, in order, never holding up the server) are in test_background.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from zigmund_fast import App, BackgroundTasks
from zigmund_fast.testing import TestClient

from .conftest import read_response

POST = b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"
GET = b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n"


def failing() -> None:
    raise ValueError("task failed on purpose")


def test_stop_strategy_skips_the_rest_and_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    app = App(background_errors="stop")
    ran: list[str] = []

    @app.post("/mixed")
    async def mixed(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(ran.append, "first")
        tasks.add(failing)
        tasks.add(ran.append, "third")
        return {"ok": True}

    @app.post("/override", background_errors="continue")
    async def override(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(failing)
        tasks.add(ran.append, "after-override")
        return {"ok": True}

    with caplog.at_level(logging.ERROR, logger="zigmund_fast.background"), TestClient(app) as client:
        client.post("/mixed")
        assert ran == ["first"]
        assert any("skipped 1 task" in r.getMessage() and "append" in r.getMessage() for r in caplog.records)
        client.post("/override")
        assert ran == ["first", "after-override"]


def test_callable_error_strategy() -> None:
    seen: list[tuple[str, str]] = []

    def strategy(task: Any, exc: BaseException) -> str:
        seen.append((task.name, type(exc).__name__))
        return "stop" if isinstance(exc, KeyError) else "continue"

    def key_error() -> None:
        raise KeyError("k")

    app = App(background_errors=strategy)
    ran: list[str] = []

    @app.post("/a")
    async def a(tasks: BackgroundTasks) -> None:
        tasks.add(failing)
        tasks.add(ran.append, "after-value-error")
        tasks.add(key_error)
        tasks.add(ran.append, "after-key-error")

    with TestClient(app) as client:
        client.post("/a")
    assert ran == ["after-value-error"]
    assert seen == [("failing", "ValueError"), ("test_callable_error_strategy.<locals>.key_error", "KeyError")]


def test_bad_per_route_error_strategy_is_refused() -> None:
    with pytest.raises(ValueError):
        App().post("/x", lambda: None, background_errors="never")


def test_task_timeout_cancels_and_reports(caplog: pytest.LogCaptureFixture) -> None:
    app = App()
    ran: list[str] = []

    async def too_slow() -> None:
        await asyncio.sleep(5)
        ran.append("never")

    @app.post("/t")
    async def t(tasks: BackgroundTasks) -> None:
        tasks.add(too_slow, timeout=0.1)
        tasks.add(ran.append, "next")

    with caplog.at_level(logging.ERROR, logger="zigmund_fast.background"), TestClient(app) as client:
        started = time.monotonic()
        client.post("/t")
        assert time.monotonic() - started < 2
    assert ran == ["next"]
    assert any("timed out" in r.getMessage() for r in caplog.records)
    with pytest.raises(ValueError):
        from zigmund_fast import BackgroundTasks as BT

        BT().add(too_slow, timeout=-1)


def test_blocking_tasks_do_not_stall_the_loop(serve: Any) -> None:
    app = App()

    def blocking() -> None:
        time.sleep(1.0)

    @app.post("/block")
    async def block(tasks: BackgroundTasks) -> None:
        tasks.add(blocking, blocking=True)

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"pong": True}

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(POST % b"/block")
        assert read_response(sock).status == 200
        started = time.monotonic()
        sock.sendall(GET % b"/ping")
        assert read_response(sock).status == 200
        assert time.monotonic() - started < 0.5


def test_backpressure_bounds_pending_tasks_and_loses_nothing(serve: Any) -> None:
    app = App(max_pending_tasks=50)
    done = [0]
    peak = [0]

    async def slow() -> None:
        await asyncio.sleep(0.001)
        done[0] += 1

    @app.post("/slow")
    async def slow_route(tasks: BackgroundTasks) -> None:
        tasks.add(slow)

    server = serve(app)

    def sample() -> int:
        pending = server.server.runner.pending
        peak[0] = max(peak[0], pending)
        return pending

    burst = 2000
    total = 0
    rss_after: list[int] = []
    for _ in range(4):  # a burst far larger than the bound, four times over
        with server.connect() as sock:
            sock.sendall((POST % b"/slow") * burst)
            buffer = bytearray()
            for i in range(burst):
                assert read_response(sock, buffer=buffer).status == 200
                if i % 50 == 0:
                    server.call(sample)
        total += burst
        deadline = time.monotonic() + 10
        while server.call(lambda: done[0]) < total and time.monotonic() < deadline:
            server.call(sample)
            time.sleep(0.01)
        assert server.call(lambda: done[0]) == total
        rss_after.append(_rss_kib())
    # Every handler here completes without suspending, so nothing can queue past the bound.
    assert server.call(lambda: server.server.runner.peak_pending) <= 50
    assert peak[0] <= 50
    # After the first burst (warm-up), memory stays flat: nothing accumulates per request or task.
    assert max(rss_after[1:]) - rss_after[1] < 4 * 1024, rss_after


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def test_fifty_thousand_requests_every_task_counted(serve: Any) -> None:
    """A load over real sockets: tasks succeeded == requests served, exactly."""
    app = App()

    def note() -> None:
        return None

    @app.post("/tutorial/background-tasks/notifications")
    async def queue(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(note)
        return {"queued": True}

    server = serve(app)
    request = POST % b"/tutorial/background-tasks/notifications"
    served = 0
    connections = [server.connect(timeout=30) for _ in range(8)]
    try:
        for _ in range(25):  # 25 rounds x 8 connections x 250 pipelined requests = 50,000
            for sock in connections:
                sock.sendall(request * 250)
            for sock in connections:
                buffer = bytearray()
                received = b""
                while received.count(b"HTTP/1.1 200 OK") < 250:
                    chunk = sock.recv(1 << 20)
                    assert chunk, "server closed the connection"
                    received += chunk
                assert received.count(b"HTTP/1.1 200 OK") == 250 and not buffer
                served += 250
    finally:
        for sock in connections:
            sock.close()
    runner = server.server.runner
    deadline = time.monotonic() + 10
    while server.call(lambda: runner.succeeded) < served and time.monotonic() < deadline:
        time.sleep(0.02)
    assert served == 50_000
    assert server.call(lambda: (runner.succeeded, runner.failed, runner.pending)) == (served, 0, 0)
