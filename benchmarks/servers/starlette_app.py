"""Starlette peer: the hello, items and POST-with-a-background-task routes, written the Starlette way.

Served by uvicorn (``run.py --servers starlette``) and by Granian's ASGI interface
(``granian-asgi``), so the two servers run the very same application.

    uvicorn benchmarks.servers.starlette_app:app --loop uvloop --http httptools \\
        --no-access-log --log-level warning --port 8000      # cwd = repo root
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

notifications_sent = 0
requests_handled = 0  # POST handlers run; tasks run must equal it


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello, World!"})


async def item(request: Request) -> JSONResponse:
    # The path converter already made it an int; the query parameter is optional.
    return JSONResponse({"item_id": request.path_params["item_id"], "q": request.query_params.get("q")})


def send_notification(_ctx: object) -> None:
    global notifications_sent
    notifications_sent += 1


async def queue_notification(request: Request) -> JSONResponse:
    global requests_handled
    requests_handled += 1
    # NOTE: Starlette runs a plain-def task in its thread pool after the response, like FastAPI.
    return JSONResponse({"queued": True}, background=BackgroundTask(send_notification, None))


async def stats(request: Request) -> JSONResponse:
    return JSONResponse({"notifications_sent": notifications_sent, "requests_handled": requests_handled})


app = Starlette(routes=[
    Route("/", hello),
    Route("/items/{item_id:int}", item),
    Route("/tutorial/background-tasks/notifications", queue_notification, methods=["POST"]),
    Route("/tutorial/background-tasks/stats", stats),
])
