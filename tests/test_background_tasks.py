"""Background-task semantics over real sockets: after the response, in order, never blocking the server."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest

from zigmund_fast import App, BackgroundTasks, HTTPException, Response
from zigmund_fast.testing import TestClient

from .conftest import read_response

POST = b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"
GET = b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n"


def test_a_task_starts_only_after_the_whole_response_was_received(serve: Any) -> None:
    app = App()
    received = threading.Event()
    observed: list[bool] = []

    def check() -> None:
        # Runs on the server loop; the client sets `received` once it has read every byte.
        observed.append(received.wait(5))

    @app.post("/big")
    async def big(tasks: BackgroundTasks) -> Response:
        tasks.add(check, blocking=True)
        return Response(b"b" * (1024 * 1024), media_type="application/octet-stream")

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(POST % b"/big")
        response = read_response(sock)
        assert len(response.body) == 1024 * 1024
        received.set()
    server.call(lambda: None)
    deadline = time.monotonic() + 5
    while not observed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert observed == [True]


def test_the_client_never_waits_for_a_task(serve: Any) -> None:
    app = App()

    async def sleepy() -> None:
        await asyncio.sleep(2)

    def blocking_sleepy() -> None:
        time.sleep(1)

    @app.post("/big")
    async def big(tasks: BackgroundTasks) -> Response:
        tasks.add(sleepy)
        tasks.add(blocking_sleepy, blocking=True)
        return Response(b"b" * (1024 * 1024), media_type="application/octet-stream")

    server = serve(app)
    with server.connect() as sock:
        started = time.monotonic()
        sock.sendall(POST % b"/big")
        response = read_response(sock)
        elapsed = time.monotonic() - started
    assert len(response.body) == 1024 * 1024
    assert elapsed < 1.0


def test_tasks_run_in_the_order_added_sync_and_async_mixed(serve: Any) -> None:
    app = App()
    log: list[str] = []

    def sync_step(name: str) -> None:
        log.append(name)

    async def async_step(name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        log.append(name)

    @app.post("/ordered")
    async def ordered(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(sync_step, "a")
        tasks.add(async_step, "b", 0.05)
        tasks.add(sync_step, "c")
        tasks.add(async_step, "d", 0.0)
        tasks.add(sync_step, name="e")
        return {"ok": True}

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(POST % b"/ordered")
        assert read_response(sock).status == 200
    deadline = time.monotonic() + 5
    while server.call(lambda: len(log)) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.call(lambda: list(log)) == ["a", "b", "c", "d", "e"]


def test_the_server_keeps_serving_while_a_task_sleeps(serve: Any) -> None:
    app = App()
    done = []

    async def long_task() -> None:
        await asyncio.sleep(1.5)
        done.append(True)

    @app.post("/queue")
    async def queue(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(long_task)
        return {"queued": True}

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"pong": True}

    server = serve(app)
    with server.connect() as sock, server.connect() as other:
        sock.sendall(POST % b"/queue")
        assert read_response(sock).status == 200
        started = time.monotonic()
        sock.sendall(GET % b"/ping")  # the next request on the same keep-alive connection
        assert read_response(sock).status == 200
        other.sendall(GET % b"/ping")  # and another connection
        assert read_response(other).status == 200
        assert time.monotonic() - started < 0.5
    assert server.call(lambda: list(done)) == []


def failing() -> None:
    raise ValueError("task failed on purpose")


def test_a_failing_task_is_logged_and_the_rest_still_run(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    app = App()
    ran: list[str] = []

    @app.post("/mixed")
    async def mixed(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(ran.append, "first")
        tasks.add(failing)
        tasks.add(ran.append, "third")
        return {"ok": True}

    server = serve(app)
    with caplog.at_level(logging.ERROR, logger="zigmund_fast.background"):
        with server.connect() as sock:
            sock.sendall(POST % b"/mixed")
            assert read_response(sock).status == 200
        deadline = time.monotonic() + 5
        while server.call(lambda: len(ran)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert server.call(lambda: list(ran)) == ["first", "third"]
    (record,) = [r for r in caplog.records if "failed" in r.getMessage()]
    assert "failing" in record.getMessage() and "/mixed" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is ValueError


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


def test_bad_error_strategy_is_refused() -> None:
    with pytest.raises(ValueError):
        App(background_errors="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        App().post("/x", lambda: None, background_errors="never")


def test_tasks_are_discarded_when_the_handler_raises(caplog: pytest.LogCaptureFixture) -> None:
    app = App()
    ran: list[str] = []

    def audit() -> None:
        ran.append("audit")

    @app.post("/http-error")
    async def http_error(tasks: BackgroundTasks) -> None:
        tasks.add(audit)
        raise HTTPException(400, "bad")

    @app.post("/crash")
    def crash(tasks: BackgroundTasks) -> None:
        tasks.add(audit)
        raise RuntimeError("crash")

    with caplog.at_level(logging.DEBUG, logger="zigmund_fast.app"), TestClient(app) as client:
        assert client.post("/http-error").status_code == 400
        assert client.post("/crash").status_code == 500
    assert ran == []
    discards = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG and "discarding" in r.getMessage()]
    assert len(discards) == 2 and all("audit" in m for m in discards)


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


def test_add_task_alias_and_bad_arguments() -> None:
    app = App()
    got: list[Any] = []

    def keyword_user(timeout: int, blocking: str) -> None:
        got.append((timeout, blocking))

    @app.post("/alias")
    async def alias(tasks: BackgroundTasks) -> None:
        tasks.add_task(keyword_user, timeout=3, blocking="yes")

    @app.post("/not-callable")
    async def not_callable(tasks: BackgroundTasks) -> None:
        tasks.add("nope")  # type: ignore[arg-type]

    with TestClient(app) as client:
        client.post("/alias")
        assert got == [(3, "yes")]
        assert client.post("/not-callable").status_code == 500


def test_many_requests_each_queueing_a_task_none_lost(serve: Any) -> None:
    app = App()
    counter = [0]

    def bump() -> None:
        counter[0] += 1

    @app.post("/bump")
    async def bump_route(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(bump)
        return {"queued": True}

    server = serve(app)
    total = 0
    for _ in range(4):
        with server.connect() as sock:
            sock.sendall((POST % b"/bump") * 500)
            buffer = bytearray()
            for _ in range(500):
                assert read_response(sock, buffer=buffer).status == 200
                total += 1
    deadline = time.monotonic() + 5
    while server.call(lambda: counter[0]) < total and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.call(lambda: counter[0]) == total == 2000


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

    total = 1000
    with server.connect() as sock:
        sock.sendall((POST % b"/slow") * total)
        buffer = bytearray()
        for i in range(total):
            assert read_response(sock, buffer=buffer).status == 200
            if i % 50 == 0:
                server.call(sample)
    deadline = time.monotonic() + 10
    while server.call(lambda: done[0]) < total and time.monotonic() < deadline:
        server.call(sample)
        time.sleep(0.01)
    assert server.call(lambda: done[0]) == total
    # Every handler here completes without suspending, so nothing can queue past the bound.
    assert server.call(lambda: server.server.runner.peak_pending) <= 50
    assert peak[0] <= 50


def test_testclient_returns_after_tasks_ran() -> None:
    app = App()
    counter = [0]

    async def later() -> None:
        await asyncio.sleep(0.05)
        counter[0] += 1

    @app.post("/c")
    async def c(tasks: BackgroundTasks) -> None:
        tasks.add(later)
        tasks.add(counter.__setitem__, 0, 10)

    with TestClient(app) as client:
        client.post("/c")
        assert counter == [10]


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
