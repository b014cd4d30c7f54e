"""A small native RSGI application for Granian (``--interface rsgi``): no framework, the protocol object only.

The RSGI counterpart of raw_uvloop_httptools.py, with just enough routing for
the hello, items and POST routes (the path and query are split by hand). RSGI
has no background-task facility: the POST handler hands the response to
Granian first and then schedules the plain ``def`` task on the event loop
(``loop.call_soon``), the cheapest "after the response" there is.

    granian --interface rsgi benchmarks.servers.granian_rsgi_app:app --port 8000   # cwd = repo root
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs

JSON_HEADERS = [("content-type", "application/json")]
HELLO = b'{"message":"Hello, World!"}'
QUEUED = b'{"queued":true}'
NOT_FOUND = b'{"detail":"Not Found"}'
INVALID_ID = b'{"detail":"item_id must be an integer"}'
ITEMS_PREFIX = "/items/"

notifications_sent = 0
requests_handled = 0  # POST handlers run; tasks run must equal it


def send_notification(_ctx: object) -> None:
    global notifications_sent
    notifications_sent += 1


def _items(scope: Any, proto: Any) -> None:
    raw_id = scope.path[len(ITEMS_PREFIX):]
    if not raw_id.isdigit():
        proto.response_bytes(422, JSON_HEADERS, INVALID_ID)
        return
    q = parse_qs(scope.query_string).get("q") if scope.query_string else None
    body = json.dumps({"item_id": int(raw_id), "q": q[-1] if q else None}, separators=(",", ":"))
    proto.response_str(200, JSON_HEADERS, body)


async def app(scope: Any, proto: Any) -> None:
    path = scope.path
    method = scope.method
    if path == "/" and method == "GET":
        proto.response_bytes(200, JSON_HEADERS, HELLO)
    elif path.startswith(ITEMS_PREFIX) and method == "GET":
        _items(scope, proto)
    elif path == "/tutorial/background-tasks/notifications" and method == "POST":
        global requests_handled
        requests_handled += 1
        proto.response_bytes(200, JSON_HEADERS, QUEUED)
        asyncio.get_running_loop().call_soon(send_notification, None)
    elif path == "/tutorial/background-tasks/stats" and method == "GET":
        body = json.dumps({"notifications_sent": notifications_sent, "requests_handled": requests_handled})
        proto.response_str(200, JSON_HEADERS, body)
    else:
        proto.response_bytes(404, JSON_HEADERS, NOT_FOUND)
