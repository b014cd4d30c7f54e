"""Routing: finding the route of a static and of a templated path, alone and through ``App.dispatch``.

``RouteTable.lookup`` is the table the app builds at registration (rebuilt here
from ``app.routes``); ``App.dispatch`` adds the method check and runs the
route's handler, so its numbers include injection and the handler's result
turned into a Response (not yet into bytes). The Request is built inside the
timed call, as the protocol builds one per request; ``request-only`` is that
cost alone, to subtract.
"""

from __future__ import annotations

from typing import Any

import pytest

import zigmund_fast as zigmund
from zigmund_fast.routing import RouteTable

pytest.importorskip("pytest_benchmark")


def table_of(app: zigmund.App) -> RouteTable:
    table = RouteTable()
    for route in app.routes:
        table.add(route)
    return table


@pytest.mark.parametrize(("path", "template", "params"), [
    pytest.param("/", "/", None, id="static"),
    pytest.param("/items/42", "/items/{item_id}", {"item_id": "42"}, id="dynamic"),
])
def test_route_lookup(benchmark: Any, app: zigmund.App, path: str, template: str,
                      params: dict[str, str] | None) -> None:
    table = table_of(app)
    methods, raw_params = table.lookup(path)
    assert methods is not None and methods["GET"].path == template
    assert raw_params == params

    benchmark(table.lookup, path)


def test_request_only(benchmark: Any) -> None:
    request = zigmund.Request("GET", "/items/42", b"q=foo", [(b"host", b"bench")], b"", ("127.0.0.1", 1))
    assert request.query_params["q"] == "foo"

    benchmark(zigmund.Request, "GET", "/items/42", b"q=foo", [(b"host", b"bench")], b"", ("127.0.0.1", 1))


@pytest.mark.parametrize(("path", "query", "body"), [
    pytest.param("/", b"", b'{"message":"Hello, World!"}', id="static"),
    pytest.param("/items/42", b"q=foo", b'{"item_id":42,"q":"foo"}', id="dynamic"),
])
def test_dispatch(benchmark: Any, app: zigmund.App, in_loop: Any, path: str, query: bytes, body: bytes) -> None:
    headers = [(b"host", b"bench")]
    client = ("127.0.0.1", 1)
    request_class = zigmund.Request
    dispatch = app.dispatch

    def dispatch_one() -> Any:
        return dispatch(request_class("GET", path, query, headers, b"", client))

    response = in_loop(dispatch_one)
    assert isinstance(response, zigmund.Response), response
    assert (response.status_code, response.body) == (200, body)

    in_loop(lambda: benchmark(dispatch_one))
