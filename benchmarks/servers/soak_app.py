"""The app benchmarks/soak.py runs under ``zigmund serve --workers 2``.

    ZIGMUND_SOAK_DIR=/tmp/soak zigmund serve benchmarks.servers.soak_app:app --workers 2

``/task?id=X`` writes ``X`` to ``queued-<pid>.log`` in the handler (the
server-side count of queued tasks) and queues a background task that writes
``X`` to ``ran-<pid>.log``. Each record is one ``write(2)`` on an ``O_APPEND``
descriptor, so nothing is lost in a buffer when a worker exits through
``os._exit`` and lines of one file never interleave. ``slow=1`` makes the
handler suspend for a moment first (a client may hang up meanwhile; the task
must still run), ``async=1`` makes the task a coroutine.
"""

from __future__ import annotations

import asyncio
import os

import zigmund_fast as zigmund

SOAK_DIR_ENV = "ZIGMUND_SOAK_DIR"
BIG_BODY = b"x" * (1024 * 1024)

app = zigmund.App(title="soak", version="0", docs_url=None, openapi_url=None)

# pid -> descriptor; opened in the worker after fork, never shared across processes.
_files: dict[tuple[int, str], int] = {}


def _append(kind: str, ident: str) -> None:
    pid = os.getpid()
    fd = _files.get((pid, kind))
    if fd is None:
        directory = os.environ[SOAK_DIR_ENV]
        fd = os.open(os.path.join(directory, f"{kind}-{pid}.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        _files[(pid, kind)] = fd
    os.write(fd, ident.encode("ascii", "replace") + b"\n")


def record_task(ident: str) -> None:
    _append("ran", ident)


async def record_task_later(ident: str) -> None:
    await asyncio.sleep(0)
    _append("ran", ident)


@app.get("/hello")
async def hello() -> dict[str, bool]:
    return {"ok": True}


async def queue_task(request: zigmund.Request, tasks: zigmund.BackgroundTasks) -> zigmund.Response:
    params = request.query_params
    ident = params.get("id") or "-"
    _append("queued", ident)
    tasks.add(record_task_later if params.get("async") else record_task, ident)
    if params.get("slow"):
        await asyncio.sleep(0.05)
    return zigmund.Response.json({"queued": ident})


app.get("/task", queue_task)
app.post("/task", queue_task)


@app.get("/big")
async def big() -> zigmund.Response:
    return zigmund.Response(BIG_BODY, media_type="application/octet-stream")


@app.post("/echo")
async def echo(request: zigmund.Request) -> zigmund.Response:
    return zigmund.Response(await request.body(), media_type="application/octet-stream")
