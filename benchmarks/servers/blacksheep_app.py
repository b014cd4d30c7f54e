"""BlackSheep peer: the hello, items and POST-with-a-background-task routes.

Served by uvicorn, the ASGI server BlackSheep's documentation uses first.
BlackSheep binds ``item_id`` from the route and ``q`` from the query string by
name and type, as FastAPI does. It has no per-request background-task object:
the POST handler schedules the plain ``def`` task on the event loop
(``loop.call_soon``), which runs it once the handler has returned.

    uvicorn benchmarks.servers.blacksheep_app:app --loop uvloop --http httptools \\
        --no-access-log --log-level warning --port 8000      # cwd = repo root
"""

from __future__ import annotations

import asyncio

from blacksheep import Application, Response, json

app = Application(show_error_details=False)

notifications_sent = 0
requests_handled = 0  # POST handlers run; tasks run must equal it


@app.router.get("/")
async def hello() -> Response:
    return json({"message": "Hello, World!"})


@app.router.get("/items/{item_id}")
async def item(item_id: int, q: str | None = None) -> Response:
    return json({"item_id": item_id, "q": q})


def send_notification(_ctx: object) -> None:
    global notifications_sent
    notifications_sent += 1


@app.router.post("/tutorial/background-tasks/notifications")
async def queue_notification() -> Response:
    global requests_handled
    requests_handled += 1
    asyncio.get_running_loop().call_soon(send_notification, None)
    return json({"queued": True})


@app.router.get("/tutorial/background-tasks/stats")
async def stats() -> Response:
    return json({"notifications_sent": notifications_sent, "requests_handled": requests_handled})
