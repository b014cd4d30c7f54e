"""Lifespan: the context manager, on_startup/on_shutdown hooks, state, and when they run (TestClient, server, CLI)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from zigmund_fast import App, BackgroundTasks, Request
from zigmund_fast.lifespan import STARTUP_FAILED_EXIT_CODE, StartupFailed
from zigmund_fast.testing import TestClient

from .conftest import RunningServer, read_response
from .test_cli import env, free_port, stop, wait_for_port


def lifespan_app(log: list[str]) -> App:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
        log.append(f"enter {app.title}")
        await asyncio.sleep(0)
        yield {"db": {"open": True}, "counter": 0}
        log.append("exit")

    async def async_start() -> None:
        log.append("startup async")

    app = App(title="life", lifespan=lifespan, on_startup=[lambda: log.append("startup sync"), async_start],
              on_shutdown=[lambda: log.append("shutdown sync")])

    @app.on_event("startup")
    def decorated_start() -> None:
        log.append("startup decorated")

    @app.on_event("shutdown")
    async def decorated_stop() -> None:
        log.append("shutdown decorated")

    @app.get("/state")
    async def read_state(request: Request) -> dict[str, Any]:
        request.state.counter += 1  # a per-request copy: never seen by the next request
        return {"db": request.state.db, "counter": request.state.counter}

    return app


def test_testclient_runs_startup_on_enter_and_shutdown_on_exit_in_order() -> None:
    log: list[str] = []
    app = lifespan_app(log)
    with TestClient(app) as client:
        assert log == ["enter life", "startup sync", "startup async", "startup decorated"]
        assert client.get("/state").json() == {"db": {"open": True}, "counter": 1}
        assert client.get("/state").json() == {"db": {"open": True}, "counter": 1}
    assert log[4:] == ["shutdown sync", "shutdown decorated", "exit"]


def test_without_with_the_lifespan_does_not_run() -> None:
    log: list[str] = []
    client = TestClient(lifespan_app(log))
    try:
        response = client.get("/state")
    finally:
        client.close()
    assert log == [] and response.status_code == 500  # request.state has no `db` without the lifespan


def test_request_state_works_without_a_lifespan_and_does_not_leak_between_requests() -> None:
    app = App()

    @app.middleware("http")
    async def set_user(request: Request, call_next: Any) -> Any:
        if request.path == "/with-user":
            request.state.user = "ada"
        return await call_next(request)

    @app.get("/with-user")
    async def with_user(request: Request) -> dict[str, Any]:
        return {"user": request.state.user}

    @app.get("/without")
    async def without(request: Request) -> dict[str, Any]:
        return {"user": getattr(request.state, "user", None), "dict": request.state.get("user")}

    with TestClient(app) as client:
        assert client.get("/with-user").json() == {"user": "ada"}
        assert client.get("/without").json() == {"user": None, "dict": None}


def test_app_state_is_free_form() -> None:
    app = App()
    app.state.cache = {"k": "v"}
    assert app.state.cache == {"k": "v"} and app.state["cache"] == {"k": "v"}
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = app.state.missing


def test_a_lifespan_may_yield_nothing_and_add_event_handler_works() -> None:
    log: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        log.append("up")
        yield
        log.append("down")

    app = App(lifespan=lifespan)
    app.add_event_handler("shutdown", lambda: log.append("hook"))
    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 200
    assert log == ["up", "hook", "down"]


def test_an_async_generator_function_is_accepted_as_a_lifespan() -> None:
    log: list[str] = []

    async def lifespan(app: App) -> AsyncIterator[dict[str, int]]:
        log.append("up")
        yield {"n": 1}
        log.append("down")

    with TestClient(App(lifespan=lifespan)):
        assert log == ["up"]
    assert log == ["up", "down"]


def test_a_startup_failure_raises_the_original_error_from_testclient() -> None:
    log: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        try:
            yield
        finally:
            log.append("context closed")

    def broken() -> None:
        raise ConnectionRefusedError("database is down")

    app = App(lifespan=lifespan, on_startup=[broken])
    with pytest.raises(ConnectionRefusedError, match="database is down"), TestClient(app):
        pass
    assert log == ["context closed"]  # entered, so exited even though a hook failed
    assert not app.lifespan.running


def test_every_shutdown_hook_runs_even_after_one_fails() -> None:
    log: list[str] = []

    def failing() -> None:
        raise RuntimeError("cleanup failed")

    app = App(on_shutdown=[failing, lambda: log.append("second")])
    with pytest.raises(RuntimeError, match="cleanup failed"), TestClient(app):
        pass
    assert log == ["second"]


def test_registration_errors_are_readable() -> None:
    with pytest.raises(TypeError, match="async context manager"):
        App(lifespan="not callable")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be callable"):
        App(on_startup=["nope"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="'startup' or 'shutdown'"):
        App().on_event("start")


@pytest.mark.parametrize(
    ("lifespan", "message"),
    [
        (lambda app: None, "must return an async context manager"),
        (contextlib.asynccontextmanager(lambda app: _yield_value(42)), "must yield None or a mapping"),
    ],
)
def test_bad_lifespans_fail_at_startup_with_a_readable_message(lifespan: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message), TestClient(App(lifespan=lifespan)):
        pass


async def _yield_value(value: Any) -> AsyncIterator[Any]:
    yield value


def test_startup_twice_is_refused() -> None:
    app = App(on_startup=[lambda: None])
    with TestClient(app), pytest.raises(RuntimeError, match="already running"):
        asyncio.run(app.lifespan.startup())


# A real server (in a thread): before accepting, after the drain


def test_server_runs_startup_before_listening_and_shutdown_after_background_tasks() -> None:
    log: list[str] = []
    resource = {"open": False}

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
        resource["open"] = True
        log.append("startup")
        yield {"resource": resource}
        log.append("shutdown")
        resource["open"] = False

    app = App(lifespan=lifespan)

    async def uses_resource(res: dict[str, bool]) -> None:
        await asyncio.sleep(0.2)
        log.append(f"task sees open={res['open']}")

    @app.post("/work")
    async def work(request: Request, tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(uses_resource, request.state.resource)
        return {"open": request.state.resource["open"]}

    server = RunningServer(app)
    assert log == []
    server.start()
    assert log == ["startup"]  # start() returns once listening: startup already ran
    with server.connect() as sock:
        sock.sendall(b"POST /work HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
        response = read_response(sock)
    assert response.status == 200 and response.body == b'{"open":true}'
    assert server.stop() == 0
    assert log == ["startup", "task sees open=True", "shutdown"]


def test_server_start_raises_startup_failed_with_the_cause() -> None:
    from zigmund_fast.server.config import Config
    from zigmund_fast.server.server import Server

    def broken() -> None:
        raise ValueError("bad config")

    server = Server(Config(app=App(on_startup=[broken]), host="127.0.0.1", port=0))
    with pytest.raises(StartupFailed, match="bad config") as raised:
        asyncio.run(server.start())
    assert isinstance(raised.value.__cause__, ValueError)
    assert server._server is None


def test_serve_returns_the_startup_failure_exit_code(caplog: pytest.LogCaptureFixture) -> None:
    from zigmund_fast.server.config import Config
    from zigmund_fast.server.server import Server

    def broken() -> None:
        raise ValueError("bad config")

    server = Server(Config(app=App(on_startup=[broken]), host="127.0.0.1", port=0))
    with caplog.at_level("ERROR", logger="zigmund_fast.server"):
        code = asyncio.run(server.serve(install_signals=False))
    assert code == STARTUP_FAILED_EXIT_CODE == 3
    assert "application startup failed: ValueError: bad config" in caplog.text
    assert server._server is None  # never listened


def test_a_shutdown_failure_makes_the_exit_code_non_zero() -> None:
    def broken() -> None:
        raise RuntimeError("could not flush")

    server = RunningServer(App(on_shutdown=[broken])).start()
    assert server.stop() == 1


# Through the CLI, in a real process

LIFESPAN_APP = '''
import contextlib
import os

import zigmund_fast as zigmund

LOG = os.environ["ZIG_LIFESPAN_LOG"]


def note(text):
    with open(LOG, "a") as f:
        f.write(text + "\\n")


@contextlib.asynccontextmanager
async def lifespan(app):
    if os.environ.get("ZIG_FAIL_STARTUP"):
        raise ConnectionError("cannot reach the database at db:5432")
    note(f"startup {os.getpid()}")
    yield {"greeting": "hello"}
    note(f"shutdown {os.getpid()}")


app = zigmund.App(lifespan=lifespan)


@app.get("/")
async def root(request: zigmund.Request):
    return {"greeting": request.state.greeting}
'''


@pytest.fixture
def lifespan_module(tmp_path: Path) -> Path:
    (tmp_path / "lifespan_app.py").write_text(textwrap.dedent(LIFESPAN_APP))
    return tmp_path


def test_cli_startup_failure_exits_non_zero_with_a_readable_error(lifespan_module: Path) -> None:
    environment = env() | {"ZIG_LIFESPAN_LOG": str(lifespan_module / "log.txt"), "ZIG_FAIL_STARTUP": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "zigmund_fast", "serve", "lifespan_app:app", "--port", str(free_port())],
        check=False, cwd=lifespan_module, env=environment, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == STARTUP_FAILED_EXIT_CODE, result.stderr
    assert "application startup failed: ConnectionError: cannot reach the database at db:5432" in result.stderr
    assert "serving on" not in result.stderr


def test_cli_runs_the_lifespan_once_around_serving(lifespan_module: Path) -> None:
    log = lifespan_module / "log.txt"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "zigmund_fast", "serve", "lifespan_app:app", "--port", str(port)],
        cwd=lifespan_module, env=env() | {"ZIG_LIFESPAN_LOG": str(log)}, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for_port(port, proc)
        assert log.read_text() == f"startup {proc.pid}\n"
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            assert read_response(sock).body == b'{"greeting":"hello"}'
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 0, stderr
        deadline = time.monotonic() + 5
        while log.read_text().count("\n") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert log.read_text() == f"startup {proc.pid}\nshutdown {proc.pid}\n"
    finally:
        stop(proc)
