"""Per-request cost of the full stack without sockets: bytes into the compiled protocol, response bytes out.

Feeds one request per connection per loop iteration to 16 ``HTTPProtocol``
connections over transports that drop what is written, and reports process CPU
time per request (the minimum of several repetitions; this machine is noisy).
No syscalls are in the numbers, so they isolate parsing, routing, injection,
encoding, the write batcher and the task runner.

    python benchmarks/micro/inprocess.py            # with zigmund_fast installed
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import uvloop

import zigmund_fast as zigmund
from zigmund_fast._impl import HTTPProtocol
from zigmund_fast.background import TaskRunner
from zigmund_fast.observability import JSONLinesSink
from zigmund_fast.server.config import Config
from zigmund_fast.server.server import ServerState
from zigmund_fast.testing import _MemoryTransport

REQUESTS = {
    "hello": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "items": b"GET /items/5?q=abc HTTP/1.1\r\nHost: x\r\n\r\n",
    "post": b"POST /tutorial/background-tasks/notifications HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
}


def make_app(with_sink: bool) -> zigmund.App:
    app = zigmund.App()
    if with_sink:
        app.add_sink(JSONLinesSink("/dev/null"))
    sent = [0]

    def send_notification(_ctx: Any) -> None:
        sent[0] += 1

    @app.get("/")
    async def hello() -> dict[str, str]:
        return {"message": "Hello, World!"}

    @app.get("/items/{item_id}")
    async def item(item_id: int, q: str | None = None) -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    @app.post("/tutorial/background-tasks/notifications")
    async def queue(req: zigmund.Request, tasks: zigmund.BackgroundTasks) -> zigmund.Response:
        tasks.add(send_notification, None)
        return zigmund.Response.json({"queued": True})

    return app


class NullTransport(_MemoryTransport):
    def write(self, data: Any) -> None:
        pass


async def measure(app: zigmund.App, raw: bytes, count: int = 50_000, repeats: int = 7,
                  connections: int = 16) -> float:
    """CPU time per request: ``connections`` connections each get ``raw`` in every loop iteration.

    As under load, the server's write batcher and the task runner run once per
    iteration (``asyncio.sleep(0)``) for all of that iteration's requests.
    """
    loop = asyncio.get_running_loop()
    runner = TaskRunner(loop, observer=app.observer)
    state = ServerState(Config(app=app), loop, runner)
    best = float("inf")
    for _ in range(repeats):
        protocols = []
        for port in range(connections):
            protocol = HTTPProtocol(state)
            protocol.connection_made(NullTransport(("127.0.0.1", port + 1)))
            protocols.append(protocol)
        reads = [protocol.data_received for protocol in protocols]
        started = time.process_time()
        for _ in range(count // connections):
            for read in reads:
                read(raw)
            await asyncio.sleep(0)  # the loop's turn: writes, then the queued tasks
        await runner.wait_idle()
        best = min(best, time.process_time() - started)
    return best / (count // connections * connections) * 1e6


async def main() -> None:
    plain, observed = make_app(False), make_app(True)
    for name, raw in REQUESTS.items():
        print(f"{name:6} {await measure(plain, raw):6.2f} us/request")
    print(f"{'post + JSON-lines sink':22} {await measure(observed, REQUESTS['post']):6.2f} us/request")


if __name__ == "__main__":
    uvloop.run(main())
