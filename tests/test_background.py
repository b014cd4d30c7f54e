"""Background-task semantics, checked over real sockets against a real server (and once via TestClient).

Every test here reads the server's state through ``server.call`` (on the server's own loop), so what
is asserted is what the running server actually did, not what a test double says.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from zigmund_fast import App, BackgroundTasks, HTTPException, Response

from .conftest import RunningServer, read_response

POST = b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"
GET = b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n"


def wait_until(server: RunningServer, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``predicate`` on the server's loop until it is true (or the timeout passes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.call(predicate):
            return True
        time.sleep(0.01)
    return bool(server.call(predicate))


def runner_idle(server: RunningServer) -> bool:
    runner = server.server.runner
    assert runner is not None
    return bool(runner.idle and runner.pending == 0)


def exchange(server: RunningServer, raw: bytes) -> Any:
    with server.connect() as sock:
        sock.sendall(raw)
        return read_response(sock)


# (1) tasks run only after the response was written; the client never waits for them


def test_a_task_runs_only_after_its_response_was_written(serve: Any) -> None:
    # A plain task runs inline on the loop; this one blocks the loop for 0.8 s. If it ran before the
    # response was handed to the transport, the client would wait >= 0.8 s for the response.
    app = App()
    ran: list[float] = []

    def blocks_the_loop() -> None:
        time.sleep(0.8)
        ran.append(time.monotonic())

    @app.post("/blocking-task")
    async def route(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(blocks_the_loop)
        return {"queued": True}

    server = serve(app)
    with server.connect() as sock:
        started = time.monotonic()
        sock.sendall(POST % b"/blocking-task")
        response = read_response(sock)
        received_at = time.monotonic()
    assert response.status == 200 and response.body == b'{"queued":true}'
    assert received_at - started < 0.5, f"the response waited {received_at - started:.2f}s for its task"
    assert wait_until(server, lambda: len(ran) == 1)
    assert ran[0] > received_at  # and the task did run, after the client had the response


def test_the_whole_response_arrives_before_the_task_finishes(serve: Any) -> None:
    # The task blocks on an event that the test sets only after it has read every byte.
    app = App()
    gate = asyncio.Event()
    events: list[str] = []
    body = bytes(range(256)) * 4096  # 1 MiB

    async def gated() -> None:
        events.append("started")
        await gate.wait()
        events.append("finished")

    @app.post("/gated")
    async def route(tasks: BackgroundTasks) -> Response:
        tasks.add(gated)
        return Response(body, media_type="application/octet-stream")

    server = serve(app, timeout_graceful_shutdown=1.0)  # a failure must not leave a 30 s drain behind
    with server.connect() as sock:
        sock.sendall(POST % b"/gated")
        response = read_response(sock)
    assert response.status == 200 and response.body == body
    # The client has the full response; the task has not finished (it cannot have: the gate is shut).
    assert "finished" not in server.call(lambda: list(events))
    server.call(gate.set)
    assert wait_until(server, lambda: events == ["started", "finished"])


def test_a_large_response_does_not_wait_for_a_sleeping_task(serve: Any) -> None:
    app = App()
    done: list[bool] = []
    body = b"z" * (1024 * 1024)

    async def sleeps_two_seconds() -> None:
        await asyncio.sleep(2)
        done.append(True)

    @app.post("/big")
    async def route(tasks: BackgroundTasks) -> Response:
        tasks.add(sleeps_two_seconds)
        return Response(body, media_type="application/octet-stream")

    server = serve(app)
    with server.connect() as sock:
        started = time.monotonic()
        sock.sendall(POST % b"/big")
        response = read_response(sock)
        elapsed = time.monotonic() - started
    assert response.status == 200
    assert len(response.body) == len(body) and response.header("content-length") == str(len(body))
    assert elapsed < 1.0, f"the client waited {elapsed:.2f}s (the task sleeps 2s)"
    assert server.call(lambda: list(done)) == []  # still sleeping: the response did not wait for it


# (2) order


class AsyncCallable:
    """A callable object whose ``__call__`` is a coroutine function."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def __call__(self, name: str) -> None:
        self.log.append(f"{name}:start")
        await asyncio.sleep(0.01)
        self.log.append(f"{name}:end")


def test_tasks_of_one_request_run_in_the_order_added(serve: Any) -> None:
    app = App()
    log: list[str] = []

    def sync_step(name: str, suffix: str = "") -> None:
        log.append(name + suffix)

    async def async_step(name: str, delay: float) -> None:
        log.append(f"{name}:start")
        await asyncio.sleep(delay)
        await asyncio.sleep(0)
        log.append(f"{name}:end")

    @app.post("/ordered")
    async def ordered(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(sync_step, "s1")
        tasks.add(async_step, "a1", 0.1)  # the next task must wait for it to finish
        tasks.add(sync_step, "s2", suffix="!")
        tasks.add(async_step, "a2", 0)
        tasks.add(functools.partial(async_step, "p1"), 0.02)
        tasks.add(AsyncCallable(log), "c1")
        tasks.add_task(sync_step, "s3")
        return {"ok": True}

    server = serve(app)
    assert exchange(server, POST % b"/ordered").status == 200
    assert wait_until(server, lambda: runner_idle(server))
    assert server.call(lambda: list(log)) == [
        "s1", "a1:start", "a1:end", "s2!", "a2:start", "a2:end", "p1:start", "p1:end", "c1:start", "c1:end", "s3",
    ]


# (3) an awaiting task does not hold up the server


def test_other_connections_and_keep_alive_requests_are_answered_while_a_task_sleeps(serve: Any) -> None:
    app = App()
    finished: list[bool] = []

    async def long_sleep() -> None:
        await asyncio.sleep(1.5)
        finished.append(True)

    @app.post("/queue")
    async def queue(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(long_sleep)
        return {"queued": True}

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(POST % b"/queue")
        assert read_response(sock).status == 200
        assert wait_until(server, lambda: bool(server.server.runner._active))  # the task is running
        timings = []
        for _ in range(3):
            started = time.monotonic()
            sock.sendall(GET % b"/ping")  # the same keep-alive connection
            response = read_response(sock)
            timings.append(time.monotonic() - started)
            assert (response.status, response.body) == (200, b'"pong"')
        for _ in range(3):
            started = time.monotonic()
            with server.connect() as other:  # new connections
                other.sendall(GET % b"/ping")
                response = read_response(other)
            timings.append(time.monotonic() - started)
            assert (response.status, response.body) == (200, b'"pong"')
    assert max(timings) < 0.5, timings
    assert server.call(lambda: list(finished)) == []  # all of that happened while the task slept
    assert wait_until(server, lambda: finished == [True], timeout=5)


# (4) failures


def broken_task() -> None:
    raise ValueError("broken on purpose")


async def broken_async_task() -> None:
    await asyncio.sleep(0.01)
    raise LookupError("async broken on purpose")


def test_a_failing_task_is_logged_and_the_requests_other_tasks_still_run(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = App()
    ran: list[str] = []

    async def record(name: str) -> None:
        await asyncio.sleep(0)
        ran.append(name)

    @app.post("/audit/failing")
    async def route(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(ran.append, "before")
        tasks.add(broken_task)
        tasks.add(record, "between")
        tasks.add(broken_async_task)
        tasks.add(ran.append, "after")
        return {"ok": True}

    server = serve(app)
    with caplog.at_level(logging.ERROR, logger="zigmund_fast.background"):
        assert exchange(server, POST % b"/audit/failing").status == 200
        assert wait_until(server, lambda: runner_idle(server))
    assert server.call(lambda: list(ran)) == ["before", "between", "after"]
    failures = [r for r in caplog.records if r.name == "zigmund_fast.background" and r.levelno >= logging.ERROR]
    assert len(failures) == 2, [r.getMessage() for r in failures]
    sync_failure, async_failure = failures
    assert "broken_task" in sync_failure.getMessage() and "/audit/failing" in sync_failure.getMessage()
    assert "broken_async_task" in async_failure.getMessage() and "/audit/failing" in async_failure.getMessage()
    assert sync_failure.exc_info is not None and sync_failure.exc_info[0] is ValueError
    assert async_failure.exc_info is not None and async_failure.exc_info[0] is LookupError
    runner = server.server.runner
    assert server.call(lambda: (runner.failed, runner.succeeded, runner.skipped)) == (2, 3, 0)


def test_stop_strategy_skips_the_remaining_tasks_and_logs_them(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    app = App(background_errors="stop")
    ran: list[str] = []

    async def skipped_async() -> None:
        ran.append("skipped_async")

    def skipped_sync() -> None:
        ran.append("skipped_sync")

    @app.post("/stopping")
    async def route(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(ran.append, "first")
        tasks.add(broken_task)
        tasks.add(skipped_async)
        tasks.add(skipped_sync)
        return {"ok": True}

    @app.post("/next")
    async def next_route(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(ran.append, "next-request")  # a later request's tasks are not affected
        return {"ok": True}

    server = serve(app)
    with caplog.at_level(logging.ERROR, logger="zigmund_fast.background"):
        assert exchange(server, POST % b"/stopping").status == 200
        assert exchange(server, POST % b"/next").status == 200
        assert wait_until(server, lambda: runner_idle(server))
    assert server.call(lambda: list(ran)) == ["first", "next-request"]
    messages = [r.getMessage() for r in caplog.records if r.name == "zigmund_fast.background"]
    assert any("broken_task" in m and "/stopping" in m for m in messages), messages
    skip_lines = [m for m in messages if "skipped" in m]
    assert len(skip_lines) == 1, messages
    assert "skipped_async" in skip_lines[0] and "skipped_sync" in skip_lines[0] and "2" in skip_lines[0]
    runner = server.server.runner
    assert server.call(lambda: (runner.failed, runner.skipped, runner.pending)) == (1, 2, 0)


def test_an_unknown_error_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="background_errors"):
        App(background_errors="bogus")  # type: ignore[arg-type]


# (5) a handler that raises discards its tasks


def test_tasks_of_a_handler_that_raises_do_not_run_and_are_logged(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = App()
    ran: list[str] = []

    def send_welcome_mail() -> None:
        ran.append("send_welcome_mail")

    def write_audit_log() -> None:
        ran.append("write_audit_log")

    @app.post("/http-error")
    async def http_error(tasks: BackgroundTasks) -> None:
        tasks.add(send_welcome_mail)
        raise HTTPException(409, "conflict")

    @app.post("/error-after-await")
    async def error_after_await(tasks: BackgroundTasks) -> None:
        tasks.add(write_audit_log)
        await asyncio.sleep(0.01)
        raise RuntimeError("boom")

    @app.post("/sync-error")
    def sync_error(tasks: BackgroundTasks) -> None:
        tasks.add(send_welcome_mail)
        tasks.add(write_audit_log)
        raise HTTPException(403, "forbidden")

    @app.post("/marker")
    async def marker(tasks: BackgroundTasks) -> None:
        tasks.add(ran.append, "marker")

    server = serve(app)
    with caplog.at_level(logging.DEBUG, logger="zigmund_fast.app"):
        with server.connect() as sock:
            sock.sendall(POST % b"/http-error")
            first = read_response(sock)
            sock.sendall(POST % b"/error-after-await")
            second = read_response(sock)
            sock.sendall(POST % b"/sync-error")
            third = read_response(sock)
            sock.sendall(POST % b"/marker")
            assert read_response(sock).status == 200
        assert wait_until(server, lambda: "marker" in ran)
        assert wait_until(server, lambda: runner_idle(server))
    assert (first.status, first.body) == (409, b'{"detail":"conflict"}')
    assert second.status == 500
    assert (third.status, third.body) == (403, b'{"detail":"forbidden"}')
    assert server.call(lambda: list(ran)) == ["marker"]
    debug = [r.getMessage() for r in caplog.records if r.name == "zigmund_fast.app" and r.levelno == logging.DEBUG]
    assert len(debug) == 3, debug
    assert "send_welcome_mail" in debug[0] and "/http-error" in debug[0]
    assert "write_audit_log" in debug[1] and "/error-after-await" in debug[1]
    assert "send_welcome_mail" in debug[2] and "write_audit_log" in debug[2] and "/sync-error" in debug[2]


# (7) nothing is lost, and the add API


def test_two_thousand_requests_queue_two_thousand_tasks_none_lost(serve: Any) -> None:
    app = App()
    counter = [0]

    def bump() -> None:
        counter[0] += 1

    @app.post("/bump")
    async def route(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(bump)
        return {"queued": True}

    server = serve(app)
    connections, per_connection = 4, 500
    answered = [0] * connections
    errors: list[BaseException] = []

    def client(index: int) -> None:
        try:
            with server.connect() as sock:
                for _ in range(per_connection):  # one keep-alive connection, request after request
                    sock.sendall(POST % b"/bump")
                    if read_response(sock).status == 200:
                        answered[index] += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert sum(answered) == 2000
    assert wait_until(server, lambda: runner_idle(server))
    time.sleep(0.05)
    runner = server.server.runner
    assert server.call(lambda: counter[0]) == 2000
    assert server.call(lambda: (runner.queued_total, runner.succeeded, runner.failed, runner.pending)) == (
        2000, 2000, 0, 0,
    )


def test_add_task_alias_passes_every_keyword_through(serve: Any) -> None:
    app = App()
    got: list[tuple[Any, ...]] = []

    def record(name: str, *, timeout: int, blocking: str) -> None:
        got.append((name, timeout, blocking))

    async def record_async(name: str, *, timeout: int) -> None:
        await asyncio.sleep(0)
        got.append((name, timeout))

    @app.post("/alias")
    async def route(tasks: BackgroundTasks) -> dict[str, int]:
        tasks.add_task(record, "sync", timeout=7, blocking="no")
        tasks.add_task(record_async, "async", timeout=8)
        return {"queued": len(tasks)}

    server = serve(app)
    response = exchange(server, POST % b"/alias")
    assert (response.status, response.body) == (200, b'{"queued":2}')
    assert wait_until(server, lambda: runner_idle(server))
    assert server.call(lambda: list(got)) == [("sync", 7, "no"), ("async", 8)]


def test_adding_something_not_callable_is_a_type_error_and_a_500(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = App()
    ran: list[str] = []
    raised: list[BaseException] = []

    @app.post("/not-callable")
    async def route(tasks: BackgroundTasks) -> None:
        tasks.add(ran.append, "queued-before")
        try:
            tasks.add("not callable")  # type: ignore[arg-type]
        except BaseException as exc:
            raised.append(exc)
            raise

    @app.post("/not-callable-alias")
    async def alias_route(tasks: BackgroundTasks) -> None:
        tasks.add_task(42)  # type: ignore[arg-type]

    server = serve(app)
    with caplog.at_level(logging.ERROR, logger="zigmund_fast.app"):
        first = exchange(server, POST % b"/not-callable")
        second = exchange(server, POST % b"/not-callable-alias")
    assert first.status == 500 and second.status == 500
    assert len(raised) == 1 and isinstance(raised[0], TypeError)
    assert wait_until(server, lambda: runner_idle(server))
    assert server.call(lambda: list(ran)) == []  # the handler raised: what it queued is discarded


def test_testclient_returns_after_the_requests_tasks_ran(client_for: Any) -> None:
    app = App()
    counter = [0]
    order: list[str] = []

    async def slow_increment() -> None:
        await asyncio.sleep(0.05)
        counter[0] += 1
        order.append("async")

    def increment() -> None:
        counter[0] += 1
        order.append("sync")

    @app.post("/count")
    async def route(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(slow_increment)
        tasks.add(increment)
        return {"queued": True}

    client = client_for(app)
    for expected in (2, 4, 6):
        response = client.post("/count")
        assert response.status_code == 200 and response.json() == {"queued": True}
        assert counter[0] == expected
    assert order == ["async", "sync"] * 3


@pytest.mark.parametrize("strategy", ["continue", "stop"])
def test_call_when_done_runs_after_every_task_of_the_request(serve: Any, strategy: str) -> None:
    """Plain, failing and async tasks, either strategy: the callbacks run once, after the last task, in order."""
    log: list[str] = []

    def fails() -> None:
        log.append("fails")
        raise ValueError("boom")

    async def later() -> None:
        await asyncio.sleep(0.01)
        log.append("async task")

    async def async_cleanup() -> None:
        await asyncio.sleep(0.01)
        log.append("async cleanup")

    app = App(background_errors=strategy)

    @app.post("/work")
    async def work(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(log.append, "plain")
        tasks.add(fails)
        tasks.add(later)
        tasks.call_when_done(lambda: log.append("cleanup"))
        tasks.call_when_done(async_cleanup)
        return {"ok": True}

    @app.post("/no-tasks")
    async def no_tasks(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.call_when_done(lambda: log.append("cleanup without tasks"))
        return {"ok": True}

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(POST % b"/work")
        assert read_response(sock).status == 200
        assert wait_until(server, lambda: runner_idle(server))
        ran = ["plain", "fails", "async task"] if strategy == "continue" else ["plain", "fails"]
        assert log == [*ran, "cleanup", "async cleanup"]
        log.clear()
        sock.sendall(POST % b"/no-tasks")
        assert read_response(sock).status == 200
        assert wait_until(server, lambda: runner_idle(server))
        assert log == ["cleanup without tasks"]


def test_call_when_done_runs_for_tasks_abandoned_at_shutdown() -> None:
    import uvloop

    from zigmund_fast.background import TaskRunner

    async def scenario() -> list[str]:
        log: list[str] = []
        runner = TaskRunner(asyncio.get_running_loop())
        batch = BackgroundTasks()
        batch.add(log.append, "never")
        batch.call_when_done(lambda: log.append("cleanup"))
        runner.submit(batch)
        assert runner.abandon() == ["list.append"]
        return log

    assert uvloop.run(scenario()) == ["cleanup"]
