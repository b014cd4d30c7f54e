"""zigmund_fast under test: the same five routes as fastapi_app.py.

    zigmund serve benchmarks.servers.zigmund_app:app --port 8000     # cwd = repo root
"""

from __future__ import annotations

import zigmund_fast as zigmund
from benchmarks.servers.order_structs import Order, order_summary

app = zigmund.App(title="bench", version="0")

notifications_sent = 0
requests_handled = 0  # POST handlers run; tasks run must equal it


@app.get("/")
async def hello():
    return {"message": "Hello, World!"}


@app.get("/items/{item_id}")
async def item(item_id: int, q: str | None = None):
    return {"item_id": item_id, "q": q}


@app.post("/orders")
async def create_order(order: Order):
    """The 1 KiB JSON body (benchmarks/body.json), decoded and validated into a msgspec Struct."""
    return order_summary(order)


def send_notification(_ctx) -> None:
    global notifications_sent
    notifications_sent += 1


async def queue_notification(req: zigmund.Request, tasks: zigmund.BackgroundTasks):
    global requests_handled
    requests_handled += 1
    tasks.add(send_notification, None)
    return zigmund.Response.json({"queued": True})


def stats():
    return {"notifications_sent": notifications_sent, "requests_handled": requests_handled}


app.post("/tutorial/background-tasks/notifications", queue_notification)
app.get("/tutorial/background-tasks/stats", stats)
