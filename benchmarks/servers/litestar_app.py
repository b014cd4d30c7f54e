"""Litestar peer: the hello, items, POST-with-a-background-task and msgspec JSON-body routes.

Litestar validates bodies with msgspec natively, so its ``/orders`` route takes
the same ``Order`` Struct as zigmund's. Served by uvicorn:

    uvicorn benchmarks.servers.litestar_app:app --loop uvloop --http httptools \\
        --no-access-log --log-level warning --port 8000      # cwd = repo root
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Response, get, post
from litestar.background_tasks import BackgroundTask

from benchmarks.servers.order_structs import Order, order_summary

notifications_sent = 0
requests_handled = 0  # POST handlers run; tasks run must equal it


@get("/")
async def hello() -> dict[str, str]:
    return {"message": "Hello, World!"}


@get("/items/{item_id:int}")
async def item(item_id: int, q: str | None = None) -> dict[str, Any]:
    return {"item_id": item_id, "q": q}


@post("/orders", status_code=200)
async def create_order(data: Order) -> dict[str, Any]:
    return order_summary(data)


def send_notification(_ctx: object) -> None:
    global notifications_sent
    notifications_sent += 1


@post("/tutorial/background-tasks/notifications", status_code=200)
async def queue_notification() -> Response[dict[str, bool]]:
    global requests_handled
    requests_handled += 1
    return Response({"queued": True}, background=BackgroundTask(send_notification, None))


@get("/tutorial/background-tasks/stats")
async def stats() -> dict[str, int]:
    return {"notifications_sent": notifications_sent, "requests_handled": requests_handled}


app = Litestar(route_handlers=[hello, item, create_order, queue_notification, stats], openapi_config=None)
