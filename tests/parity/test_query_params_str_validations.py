"""FastAPI tutorial, "Query Parameters and String Validations": tutorial002-006 and 009-014."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from zigmund_fast import App, Query
from zigmund_fast.testing import TestClient

from ._helpers import assert_422, missing

ITEMS = {"items": [{"item_id": "Foo"}, {"item_id": "Bar"}]}


def _results(q: str | None) -> dict[str, Any]:
    results: dict[str, Any] = {"items": [{"item_id": "Foo"}, {"item_id": "Bar"}]}
    if q:
        results.update({"q": q})
    return results


def str_validations_tutorial002() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(q: Annotated[str | None, Query(max_length=50)] = None) -> dict[str, Any]:
        return _results(q)

    return app


def str_validations_tutorial003() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(q: Annotated[str | None, Query(min_length=3, max_length=50)] = None) -> dict[str, Any]:
        return _results(q)

    return app


def str_validations_tutorial004() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(
        q: Annotated[str | None, Query(min_length=3, max_length=50, pattern="^fixedquery$")] = None,
    ) -> dict[str, Any]:
        return _results(q)

    return app


def str_validations_tutorial005() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(q: Annotated[str, Query(min_length=3)] = "fixedquery") -> dict[str, Any]:
        return _results(q)

    return app


def str_validations_tutorial006() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(q: Annotated[str, Query(min_length=3)]) -> dict[str, Any]:
        return _results(q)

    return app


def str_validations_tutorial009() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(q: Annotated[str | None, Query(alias="item-query")] = None) -> dict[str, Any]:
        return _results(q)

    return app


def str_validations_tutorial010() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(
        q: Annotated[
            str | None,
            Query(
                alias="item-query",
                title="Query string",
                description="Query string for the items to search in the database that have a good match",
                min_length=3,
                max_length=50,
                pattern="^fixedquery$",
                deprecated=True,
            ),
        ] = None,
    ) -> dict[str, Any]:
        return _results(q)

    return app


def str_validations_tutorial011() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(q: Annotated[list[str] | None, Query()] = None) -> dict[str, Any]:
        return {"q": q}

    return app


def str_validations_tutorial012() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(q: Annotated[list[str], Query()] = ["foo", "bar"]) -> dict[str, Any]:  # noqa: B006
        return {"q": q}

    return app


def str_validations_tutorial013() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(q: Annotated[list, Query()] = []) -> dict[str, Any]:  # type: ignore[type-arg]  # noqa: B006
        return {"q": q}

    return app


def str_validations_tutorial014() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(
        hidden_query: Annotated[str | None, Query(include_in_schema=False)] = None,
    ) -> dict[str, Any]:
        if hidden_query:
            return {"hidden_query": hidden_query}
        return {"hidden_query": "Not found"}

    return app


@pytest.mark.parametrize(("url", "expected"), [("/items/", ITEMS), ("/items/?q=query", {**ITEMS, "q": "query"})])
def test_tutorial002_max_length_accepts(url: str, expected: Any) -> None:
    with TestClient(str_validations_tutorial002()) as client:
        response = client.get(url)
    assert (response.status_code, response.json()) == (200, expected)


def test_tutorial002_too_long() -> None:
    long = "x" * 51
    with TestClient(str_validations_tutorial002()) as client:
        response = client.get(f"/items/?q={long}")
    assert_422(response, [{"type": "string_too_long", "loc": ["query", "q"],
                           "msg": "String should have at most 50 characters", "input": long,
                           "ctx": {"max_length": 50}}])


def test_tutorial003_min_length() -> None:
    with TestClient(str_validations_tutorial003()) as client:
        short = client.get("/items/?q=ab")
        enough = client.get("/items/?q=abc")
    assert_422(short, [{"type": "string_too_short", "loc": ["query", "q"],
                        "msg": "String should have at least 3 characters", "input": "ab", "ctx": {"min_length": 3}}])
    assert (enough.status_code, enough.json()) == (200, {**ITEMS, "q": "abc"})


def test_tutorial004_pattern() -> None:
    with TestClient(str_validations_tutorial004()) as client:
        fixed = client.get("/items/?q=fixedquery")
        other = client.get("/items/?q=nonregexquery")
        short = client.get("/items/?q=fi")
    assert (fixed.status_code, fixed.json()) == (200, {**ITEMS, "q": "fixedquery"})
    assert_422(other, [{"type": "string_pattern_mismatch", "loc": ["query", "q"],
                        "msg": "String should match pattern '^fixedquery$'", "input": "nonregexquery",
                        "ctx": {"pattern": "^fixedquery$"}}])
    assert_422(short, [{"type": "string_too_short", "loc": ["query", "q"],
                        "msg": "String should have at least 3 characters", "input": "fi", "ctx": {"min_length": 3}}])


@pytest.mark.parametrize(("url", "expected"), [
    ("/items/", {**ITEMS, "q": "fixedquery"}), ("/items/?q=query", {**ITEMS, "q": "query"}),
])
def test_tutorial005_default_value(url: str, expected: Any) -> None:
    with TestClient(str_validations_tutorial005()) as client:
        response = client.get(url)
    assert (response.status_code, response.json()) == (200, expected)


def test_tutorial006_required_with_validation() -> None:
    with TestClient(str_validations_tutorial006()) as client:
        absent = client.get("/items/")
        given = client.get("/items/?q=query")
    assert_422(absent, [missing("query", "q")])
    assert (given.status_code, given.json()) == (200, {**ITEMS, "q": "query"})


@pytest.mark.parametrize(("url", "expected"), [
    ("/items/?item-query=foo", {**ITEMS, "q": "foo"}), ("/items/?q=foo", ITEMS),
])
def test_tutorial009_alias(url: str, expected: Any) -> None:
    with TestClient(str_validations_tutorial009()) as client:
        response = client.get(url)
    assert (response.status_code, response.json()) == (200, expected)


def test_tutorial010_all_metadata() -> None:
    with TestClient(str_validations_tutorial010()) as client:
        absent = client.get("/items/")
        fixed = client.get("/items/?item-query=fixedquery")
        other = client.get("/items/?item-query=nonregexquery")
        schema = client.get("/openapi.json").json()
    assert (absent.status_code, absent.json()) == (200, ITEMS)
    assert (fixed.status_code, fixed.json()) == (200, {**ITEMS, "q": "fixedquery"})
    assert_422(other, [{"type": "string_pattern_mismatch", "loc": ["query", "item-query"],
                        "msg": "String should match pattern '^fixedquery$'", "input": "nonregexquery",
                        "ctx": {"pattern": "^fixedquery$"}}])
    (parameter,) = schema["paths"]["/items/"]["get"]["parameters"]
    assert (parameter["name"], parameter["in"], parameter["required"]) == ("item-query", "query", False)
    assert parameter["deprecated"] is True
    assert parameter["description"] == (
        "Query string for the items to search in the database that have a good match"
    )


@pytest.mark.parametrize(("url", "expected"), [
    ("/items/?q=foo&q=bar", {"q": ["foo", "bar"]}), ("/items/", {"q": None}),
])
def test_tutorial011_list_of_values(url: str, expected: Any) -> None:
    with TestClient(str_validations_tutorial011()) as client:
        response = client.get(url)
    assert (response.status_code, response.json()) == (200, expected)


@pytest.mark.parametrize(("url", "expected"), [
    ("/items/", {"q": ["foo", "bar"]}), ("/items/?q=baz&q=foobar", {"q": ["baz", "foobar"]}),
])
def test_tutorial012_list_with_defaults(url: str, expected: Any) -> None:
    with TestClient(str_validations_tutorial012()) as client:
        response = client.get(url)
    assert (response.status_code, response.json()) == (200, expected)


@pytest.mark.parametrize(("url", "expected"), [
    ("/items/", {"q": []}), ("/items/?q=baz&q=foobar", {"q": ["baz", "foobar"]}),
])
def test_tutorial013_plain_list(url: str, expected: Any) -> None:
    with TestClient(str_validations_tutorial013()) as client:
        response = client.get(url)
    assert (response.status_code, response.json()) == (200, expected)


def test_tutorial014_hidden_from_the_schema_but_read() -> None:
    with TestClient(str_validations_tutorial014()) as client:
        absent = client.get("/items/")
        given = client.get("/items/?hidden_query=somevalue")
        schema = client.get("/openapi.json").json()
    assert (absent.status_code, absent.json()) == (200, {"hidden_query": "Not found"})
    assert (given.status_code, given.json()) == (200, {"hidden_query": "somevalue"})
    assert "parameters" not in schema["paths"]["/items/"]["get"]
