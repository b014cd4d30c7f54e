"""FastAPI tutorial, "Path Parameters and Numeric Validations": tutorial001, 004, 005, 006."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from zigmund_fast import App, Path, Query
from zigmund_fast.testing import TestClient

from ._helpers import assert_422, float_parsing, missing


def _results(item_id: int, q: str | None, size: float | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {"item_id": item_id}
    if q:
        results.update({"q": q})
    if size:
        results.update({"size": size})
    return results


def numeric_validations_tutorial001() -> App:
    app = App()

    @app.get("/items/{item_id}")
    async def read_items(
        item_id: Annotated[int, Path(title="The ID of the item to get")],
        q: Annotated[str | None, Query(alias="item-query")] = None,
    ) -> dict[str, Any]:
        return _results(item_id, q)

    return app


def numeric_validations_tutorial004() -> App:
    app = App()

    @app.get("/items/{item_id}")
    async def read_items(item_id: Annotated[int, Path(title="The ID of the item to get", ge=1)], q: str) -> Any:
        return _results(item_id, q)

    return app


def numeric_validations_tutorial005() -> App:
    app = App()

    @app.get("/items/{item_id}")
    async def read_items(
        item_id: Annotated[int, Path(title="The ID of the item to get", gt=0, le=1000)], q: str,
    ) -> dict[str, Any]:
        return _results(item_id, q)

    return app


def numeric_validations_tutorial006() -> App:
    app = App()

    @app.get("/items/{item_id}")
    async def read_items(
        *,
        item_id: Annotated[int, Path(title="The ID of the item to get", ge=0, le=1000)],
        q: str,
        size: Annotated[float, Query(gt=0, lt=10.5)],
    ) -> dict[str, Any]:
        return _results(item_id, q, size)

    return app


def _bound(kind: str, loc: list[str], raw: str, bound: float) -> dict[str, Any]:
    words = {"gt": "greater than", "ge": "greater than or equal to", "lt": "less than", "le": "less than or equal to"}
    types = {"gt": "greater_than", "ge": "greater_than_equal", "lt": "less_than", "le": "less_than_equal"}
    return {"type": types[kind], "loc": loc, "msg": f"Input should be {words[kind]} {bound}", "input": raw,
            "ctx": {kind: bound}}


@pytest.mark.parametrize(("url", "expected"), [
    ("/items/42?item-query=foo", {"item_id": 42, "q": "foo"}), ("/items/42", {"item_id": 42}),
])
def test_tutorial001_path_metadata_and_query_alias(url: str, expected: Any) -> None:
    with TestClient(numeric_validations_tutorial001()) as client:
        response = client.get(url)
    assert (response.status_code, response.json()) == (200, expected)


def test_tutorial004_ge() -> None:
    with TestClient(numeric_validations_tutorial004()) as client:
        ok = client.get("/items/1?q=x")
        low = client.get("/items/0?q=x")
        both = client.get("/items/0")
    assert (ok.status_code, ok.json()) == (200, {"item_id": 1, "q": "x"})
    assert_422(low, [_bound("ge", ["path", "item_id"], "0", 1)])
    assert_422(both, [_bound("ge", ["path", "item_id"], "0", 1), missing("query", "q")])


@pytest.mark.parametrize(("url", "status", "expected"), [
    ("/items/1000?q=x", 200, {"item_id": 1000, "q": "x"}),
    ("/items/0?q=x", 422, {"detail": [_bound("gt", ["path", "item_id"], "0", 0)]}),
    ("/items/1001?q=x", 422, {"detail": [_bound("le", ["path", "item_id"], "1001", 1000)]}),
])
def test_tutorial005_gt_and_le(url: str, status: int, expected: Any) -> None:
    with TestClient(numeric_validations_tutorial005()) as client:
        response = client.get(url)
    assert (response.status_code, response.json()) == (status, expected)


@pytest.mark.parametrize(("url", "status", "expected"), [
    ("/items/42?q=foo&size=5.4", 200, {"item_id": 42, "q": "foo", "size": 5.4}),
    ("/items/-1?q=foo&size=5.4", 422, {"detail": [_bound("ge", ["path", "item_id"], "-1", 0)]}),
    ("/items/1001?q=foo&size=5.4", 422, {"detail": [_bound("le", ["path", "item_id"], "1001", 1000)]}),
    ("/items/42?q=foo&size=0", 422, {"detail": [_bound("gt", ["query", "size"], "0", 0)]}),
    ("/items/42?q=foo&size=10.5", 422, {"detail": [_bound("lt", ["query", "size"], "10.5", 10.5)]}),
    ("/items/42?size=x", 422, {"detail": [missing("query", "q"), float_parsing("x", "query", "size")]}),
])
def test_tutorial006_float_bounds(url: str, status: int, expected: Any) -> None:
    with TestClient(numeric_validations_tutorial006()) as client:
        response = client.get(url)
    assert (response.status_code, response.json()) == (status, expected)
