"""Sanic peer: the hello, items and POST-with-a-background-task routes, on Sanic's own server.

Run single-process (no worker manager), without access logs or the startup banner:

    sanic benchmarks.servers.sanic_app:app --single-process --no-access-logs --no-motd \\
        --port 8000      # cwd = repo root

Sanic's ``add_task`` wants a coroutine (one asyncio Task per call); for a plain
``def`` task the POST handler schedules it on the loop with ``call_soon``
instead, which runs it once the handler has returned.
"""

from __future__ import annotations

import asyncio

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

app = Sanic("bench")

notifications_sent = 0
requests_handled = 0  # POST handlers run; tasks run must equal it


@app.get("/")
async def hello(request: Request) -> HTTPResponse:
    return json({"message": "Hello, World!"})


@app.get("/items/<item_id:int>")
async def item(request: Request, item_id: int) -> HTTPResponse:
    return json({"item_id": item_id, "q": request.args.get("q")})


def send_notification(_ctx: object) -> None:
    global notifications_sent
    notifications_sent += 1


@app.post("/tutorial/background-tasks/notifications")
async def queue_notification(request: Request) -> HTTPResponse:
    global requests_handled
    requests_handled += 1
    asyncio.get_running_loop().call_soon(send_notification, None)
    return json({"queued": True})


@app.get("/tutorial/background-tasks/stats")
async def stats(request: Request) -> HTTPResponse:
    return json({"notifications_sent": notifications_sent, "requests_handled": requests_handled})
