"""Injection: running a route's extractors, the per-request half of the plan built at registration.

``items`` is ``/items/{item_id}`` with ``item_id: int`` (path) and
``q: str | None`` (query); ``order-body`` decodes and validates the 1 KiB
order of benchmarks/body.json into a msgspec Struct (the run.py ``body``
route). The Request is built inside the timed call (see test_micro_routing's
``request-only`` for its cost), since the query string is parsed lazily once
per Request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import zigmund_fast as zigmund

# The model run.py's body route validates (the repo root is on sys.path: conftest.py).
from benchmarks.servers.order_structs import Order

pytest.importorskip("pytest_benchmark")

BODY_JSON = Path(__file__).resolve().parent.parent / "body.json"


def route_of(app: zigmund.App, path: str) -> Any:
    return next(route for route in app.routes if route.path == path)


def run_extractors(extractors: tuple[tuple[str, Any], ...], request: zigmund.Request) -> tuple[dict[str, Any], list]:
    errors: list[dict[str, Any]] = []
    return {name: extract(request, errors) for name, extract in extractors}, errors


def test_path_and_query(benchmark: Any, app: zigmund.App) -> None:
    extractors = route_of(app, "/items/{item_id}").plan.extractors
    headers = [(b"host", b"bench")]

    def extract() -> tuple[dict[str, Any], list]:
        request = zigmund.Request("GET", "/items/42", b"q=foo", headers, b"", None)
        request.path_params = {"item_id": "42"}
        return run_extractors(extractors, request)

    assert extract() == ({"item_id": 42, "q": "foo"}, [])
    benchmark(extract)


def test_order_body(benchmark: Any, app: zigmund.App) -> None:
    @app.post("/orders")
    async def create_order(order: Order) -> dict[str, int]:
        return {"order_id": order.order_id}

    extractors = route_of(app, "/orders").plan.extractors
    body = BODY_JSON.read_bytes()
    headers = [(b"host", b"bench"), (b"content-type", b"application/json")]

    def extract() -> tuple[dict[str, Any], list]:
        return run_extractors(extractors, zigmund.Request("POST", "/orders", b"", headers, body, None))

    kwargs, errors = extract()
    assert errors == []
    assert kwargs["order"].order_id == 90210 and len(kwargs["order"].items) == 8
    benchmark(extract)
