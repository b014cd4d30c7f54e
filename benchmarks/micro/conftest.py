"""Shared set-up for the pytest-benchmark microbenchmarks (see benchmarks/README.md).

    /work/venv/bin/pip install pytest-benchmark
    pytest benchmarks/micro --benchmark-only            # from the repo root

These files are outside the test suite's ``testpaths`` (tests/) on purpose:
they measure, they don't gate. Each one still checks the answer of the code it
times once before timing it, so a benchmark of a broken path fails instead of
reporting a fast number.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvloop

import zigmund_fast as zigmund
from zigmund_fast._impl import HTTPProtocol
from zigmund_fast.background import TaskRunner
from zigmund_fast.server.config import Config
from zigmund_fast.server.server import ServerState
from zigmund_fast.testing import _MemoryTransport

# NOTE: with --import-mode=importlib (pyproject's addopts) test modules can't import this
# file, so everything they share is a fixture. The repo root goes on sys.path so that this file and
# the tests can use the apps and models the load benchmark serves (benchmarks/servers, inprocess.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.micro import inprocess  # noqa: E402


def make_app() -> zigmund.App:
    """The benchmark app's hello, items and POST routes: the same app as micro/inprocess.py measures."""
    return inprocess.make_app(False)


class NullTransport(_MemoryTransport):
    """Drops what is written (counting bytes), so no syscall or buffer growth is in the numbers."""

    def __init__(self, client: tuple[str, int]) -> None:
        super().__init__(client)
        self.written = 0

    def write(self, data: Any) -> None:
        self.written += len(data)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.written += len(chunk)


@pytest.fixture
def app() -> zigmund.App:
    return make_app()


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        asyncio.set_event_loop(None)
        loop.close()


@pytest.fixture
def in_loop(loop: asyncio.AbstractEventLoop) -> Callable[[Callable[[], Any]], Any]:
    """Run ``fn`` (typically ``lambda: benchmark(...)``) inside the running loop, as the server would."""

    def run(fn: Callable[[], Any]) -> Any:
        async def inside() -> Any:
            return fn()

        return loop.run_until_complete(inside())

    return run


Connect = Callable[[asyncio.Transport], Any]


@pytest.fixture
def state(app: zigmund.App, loop: asyncio.AbstractEventLoop) -> ServerState:
    """What the server's connections share; ``state.write_batcher.run()`` is the write at the end of a loop
    iteration."""
    return ServerState(Config(app=app), loop, TaskRunner(loop, observer=app.observer))


@pytest.fixture
def connect(state: ServerState) -> Connect:
    """A new ``HTTPProtocol`` of ``app``, as the server builds one per connection, on ``transport``."""

    def make(transport: asyncio.Transport) -> Any:
        protocol = HTTPProtocol(state)
        protocol.connection_made(transport)
        return protocol

    return make


@pytest.fixture
def null_transport() -> NullTransport:
    return NullTransport(("127.0.0.1", 50000))


@pytest.fixture
def answer(connect: Connect, in_loop: Callable[[Callable[[], Any]], Any],
           loop: asyncio.AbstractEventLoop) -> Callable[[bytes], bytes]:
    """The bytes the protocol writes back for ``raw`` on a fresh connection."""

    def run(raw: bytes) -> bytes:
        recorder = _MemoryTransport(("127.0.0.1", 50001))
        protocol = connect(recorder)
        in_loop(lambda: protocol.data_received(raw))
        loop.run_until_complete(asyncio.sleep(0))  # the iteration's end, where the responses are written
        return bytes(recorder.buffer)

    return run
