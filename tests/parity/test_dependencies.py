"""FastAPI tutorial, "Dependencies": First Steps (tutorial001), Classes as Dependencies (tutorial004),
Sub-dependencies (tutorial005), Dependencies in path operation decorators (tutorial006), Global
Dependencies (tutorial012), Dependencies with yield (tutorial008b/c/d and the cleanup order)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest

from zigmund_fast import App, BackgroundTasks, Cookie, Depends, Header, HTTPException
from zigmund_fast.testing import TestClient

from ..conftest import read_response
from ._helpers import assert_422, cookie_header, int_parsing, missing

FAKE_ITEMS_DB = [{"item_name": "Foo"}, {"item_name": "Bar"}, {"item_name": "Baz"}]


async def common_parameters(q: str | None = None, skip: int = 0, limit: int = 100) -> dict[str, Any]:
    return {"q": q, "skip": skip, "limit": limit}


def dependencies_tutorial001() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(commons: Annotated[dict[str, Any], Depends(common_parameters)]) -> dict[str, Any]:
        return commons

    @app.get("/users/")
    async def read_users(commons: Annotated[dict[str, Any], Depends(common_parameters)]) -> dict[str, Any]:
        return commons

    return app


class CommonQueryParams:
    def __init__(self, q: str | None = None, skip: int = 0, limit: int = 100) -> None:
        self.q = q
        self.skip = skip
        self.limit = limit


def dependencies_tutorial004() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(commons: Annotated[CommonQueryParams, Depends()]) -> dict[str, Any]:
        response: dict[str, Any] = {}
        if commons.q:
            response.update({"q": commons.q})
        items = FAKE_ITEMS_DB[commons.skip : commons.skip + commons.limit]
        response.update({"items": items})
        return response

    return app


def query_extractor(q: str | None = None) -> str | None:
    return q


def query_or_cookie_extractor(
    q: Annotated[str, Depends(query_extractor)], last_query: Annotated[str | None, Cookie()] = None,
) -> str | None:
    if not q:
        return last_query
    return q


def dependencies_tutorial005() -> App:
    app = App()

    @app.get("/items/")
    async def read_query(query_or_default: Annotated[str, Depends(query_or_cookie_extractor)]) -> dict[str, Any]:
        return {"q_or_cookie": query_or_default}

    return app


async def verify_token(x_token: Annotated[str, Header()]) -> None:
    if x_token != "fake-super-secret-token":
        raise HTTPException(status_code=400, detail="X-Token header invalid")


async def verify_key(x_key: Annotated[str, Header()]) -> str:
    if x_key != "fake-super-secret-key":
        raise HTTPException(status_code=400, detail="X-Key header invalid")
    return x_key


def dependencies_tutorial006() -> App:
    app = App()

    @app.get("/items/", dependencies=[Depends(verify_token), Depends(verify_key)])
    async def read_items() -> list[dict[str, str]]:
        return [{"item": "Foo"}, {"item": "Bar"}]

    return app


def dependencies_tutorial012() -> App:
    app = App(dependencies=[Depends(verify_token), Depends(verify_key)])

    @app.get("/items/")
    async def read_items() -> list[dict[str, str]]:
        return [{"item": "Portal Gun"}, {"item": "Plumbus"}]

    @app.get("/users/")
    async def read_users() -> list[dict[str, str]]:
        return [{"username": "Rick"}, {"username": "Morty"}]

    return app


OWNED_DATA = {
    "plumbus": {"description": "Freshly pickled plumbus", "owner": "Morty"},
    "portal-gun": {"description": "Gun to create portals", "owner": "Rick"},
}


class OwnerError(Exception):
    pass


def get_username() -> Iterator[str]:
    try:
        yield "Rick"
    except OwnerError as e:
        raise HTTPException(status_code=400, detail=f"Owner error: {e}") from e


def dependencies_tutorial008b() -> App:
    app = App()

    @app.get("/items/{item_id}")
    def get_item(item_id: str, username: Annotated[str, Depends(get_username)]) -> dict[str, str]:
        if item_id not in OWNED_DATA:
            raise HTTPException(status_code=404, detail="Item not found")
        item = OWNED_DATA[item_id]
        if item["owner"] != username:
            raise OwnerError(username)
        return item

    return app


class InternalError(Exception):
    pass


# What the yield dependencies below saw; each app factory starts it afresh.
EVENTS: list[str] = []


def get_username_swallowing() -> Iterator[str]:
    """tutorial008c: catches the handler's exception and does not raise it again."""
    try:
        yield "Rick"
    except InternalError:
        EVENTS.append("caught")


def get_username_reraising() -> Iterator[str]:
    """tutorial008d: catches the handler's exception and raises it again."""
    try:
        yield "Rick"
    except InternalError:
        EVENTS.append("caught")
        raise


def _owner_app(dependency: Any) -> App:
    EVENTS.clear()
    app = App()

    @app.get("/items/{item_id}")
    # NOTE: the default-value form of Depends: a string annotation can't name this factory's local.
    def get_item(item_id: str, username: str = Depends(dependency)) -> str:
        if item_id == "portal-gun":
            raise InternalError(f"The portal gun is too dangerous to be owned by {username}")
        if item_id != "plumbus":
            raise HTTPException(status_code=404, detail="Item not found, there's only a plumbus here")
        return item_id

    return app


def dependencies_tutorial008c() -> App:
    return _owner_app(get_username_swallowing)


def dependencies_tutorial008d() -> App:
    return _owner_app(get_username_reraising)


async def dependency_a() -> AsyncIterator[str]:
    EVENTS.append("a open")
    yield "A"
    EVENTS.append("a close")


async def dependency_b(a: Annotated[str, Depends(dependency_a)]) -> AsyncIterator[str]:
    EVENTS.append("b open")
    yield a + "B"
    EVENTS.append("b close")


async def dependency_c(b: Annotated[str, Depends(dependency_b)]) -> AsyncIterator[str]:
    EVENTS.append("c open")
    yield b + "C"
    EVENTS.append("c close")


def dependencies_with_yield_order() -> App:
    EVENTS.clear()
    app = App()

    @app.get("/abc")
    async def read_abc(c: Annotated[str, Depends(dependency_c)], tasks: BackgroundTasks) -> dict[str, str]:
        EVENTS.append("handler")
        tasks.add_task(EVENTS.append, "task")
        return {"value": c}

    return app


@pytest.mark.parametrize(("url", "status", "expected"), [
    ("/items/", 200, {"q": None, "skip": 0, "limit": 100}),
    ("/items/?q=foo", 200, {"q": "foo", "skip": 0, "limit": 100}),
    ("/items/?q=foo&skip=5", 200, {"q": "foo", "skip": 5, "limit": 100}),
    ("/items/?q=foo&skip=5&limit=30", 200, {"q": "foo", "skip": 5, "limit": 30}),
    ("/users/", 200, {"q": None, "skip": 0, "limit": 100}),
    ("/users/?limit=x", 422, {"detail": [int_parsing("x", "query", "limit")]}),
])
def test_tutorial001_function_dependency(url: str, status: int, expected: Any) -> None:
    with TestClient(dependencies_tutorial001()) as client:
        response = client.get(url)
    assert (response.status_code, response.json()) == (status, expected)


def test_tutorial001_missing_trailing_slash_redirects() -> None:
    # FastAPI's own tests request "/items" and follow this redirect.
    with TestClient(dependencies_tutorial001()) as client:
        response = client.get("/items?q=foo")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/items/?q=foo"


@pytest.mark.parametrize(("url", "expected"), [
    ("/items/", {"items": FAKE_ITEMS_DB}),
    ("/items/?q=foo", {"q": "foo", "items": FAKE_ITEMS_DB}),
    ("/items/?q=foo&skip=1", {"q": "foo", "items": FAKE_ITEMS_DB[1:]}),
    ("/items/?q=bar&limit=2", {"q": "bar", "items": FAKE_ITEMS_DB[:2]}),
    ("/items/?q=bar&skip=1&limit=1", {"q": "bar", "items": [{"item_name": "Bar"}]}),
    ("/items/?limit=1&q=bar&skip=1", {"q": "bar", "items": [{"item_name": "Bar"}]}),
])
def test_tutorial004_class_dependency(url: str, expected: Any) -> None:
    with TestClient(dependencies_tutorial004()) as client:
        response = client.get(url)
    assert (response.status_code, response.json()) == (200, expected)


@pytest.mark.parametrize(("url", "cookies", "expected"), [
    ("/items/", {}, None),
    ("/items/?q=foo", {}, "foo"),
    ("/items/", {"last_query": "COOKIE"}, "COOKIE"),
    ("/items/?q=foo", {"last_query": "COOKIE"}, "foo"),
])
def test_tutorial005_sub_dependencies(url: str, cookies: dict[str, str], expected: str | None) -> None:
    with TestClient(dependencies_tutorial005()) as client:
        response = client.get(url, headers=cookie_header(cookies) if cookies else {})
    assert (response.status_code, response.json()) == (200, {"q_or_cookie": expected})


TOKEN = {"X-Token": "fake-super-secret-token"}
KEY = {"X-Key": "fake-super-secret-key"}


def test_tutorial006_decorator_dependencies() -> None:
    with TestClient(dependencies_tutorial006()) as client:
        nothing = client.get("/items/")
        bad_token = client.get("/items/", headers={"X-Token": "invalid"})
        bad_key = client.get("/items/", headers={**TOKEN, "X-Key": "invalid"})
        ok = client.get("/items/", headers={**TOKEN, **KEY})
    assert_422(nothing, [missing("header", "x-token"), missing("header", "x-key")])
    assert (bad_token.status_code, bad_token.json()) == (400, {"detail": "X-Token header invalid"})
    assert (bad_key.status_code, bad_key.json()) == (400, {"detail": "X-Key header invalid"})
    assert (ok.status_code, ok.json()) == (200, [{"item": "Foo"}, {"item": "Bar"}])


def test_tutorial012_global_dependencies() -> None:
    with TestClient(dependencies_tutorial012()) as client:
        nothing = client.get("/items/")
        bad_token = client.get("/users/", headers={"X-Token": "invalid", **KEY})
        bad_key = client.get("/users/", headers={**TOKEN, "X-Key": "invalid"})
        users = client.get("/users/", headers={**TOKEN, **KEY})
        items = client.get("/items/", headers={**TOKEN, **KEY})
    assert_422(nothing, [missing("header", "x-token"), missing("header", "x-key")])
    assert (bad_token.status_code, bad_token.json()) == (400, {"detail": "X-Token header invalid"})
    assert (bad_key.status_code, bad_key.json()) == (400, {"detail": "X-Key header invalid"})
    assert (users.status_code, users.json()) == (200, [{"username": "Rick"}, {"username": "Morty"}])
    assert (items.status_code, items.json()) == (200, [{"item": "Portal Gun"}, {"item": "Plumbus"}])


def test_tutorial012_global_dependencies_over_a_real_socket(serve: Any) -> None:
    server = serve(dependencies_tutorial012())
    with server.connect() as sock:
        sock.sendall(b"GET /users/ HTTP/1.1\r\nHost: x\r\nX-Token: invalid\r\nX-Key: fake-super-secret-key\r\n\r\n"
                     b"GET /users/ HTTP/1.1\r\nHost: x\r\nX-Token: fake-super-secret-token\r\n"
                     b"X-Key: fake-super-secret-key\r\n\r\n")
        buffer = bytearray()
        refused = read_response(sock, buffer=buffer)
        allowed = read_response(sock, buffer=buffer)
    assert (refused.status, refused.body) == (400, b'{"detail":"X-Token header invalid"}')
    assert (allowed.status, allowed.body) == (200, b'[{"username":"Rick"},{"username":"Morty"}]')


@pytest.mark.parametrize(("url", "status", "expected"), [
    ("/items/plumbus", 400, {"detail": "Owner error: Rick"}),
    ("/items/portal-gun", 200, {"description": "Gun to create portals", "owner": "Rick"}),
    ("/items/moon", 404, {"detail": "Item not found"}),
])
def test_tutorial008b_yield_dependency_turns_an_error_into_http_exception(url: str, status: int, expected: Any) -> None:
    with TestClient(dependencies_tutorial008b()) as client:
        response = client.get(url)
    assert (response.status_code, response.json()) == (status, expected)


@pytest.mark.parametrize("factory", [dependencies_tutorial008c, dependencies_tutorial008d],
                         ids=["tutorial008c", "tutorial008d"])
def test_tutorial008c_d_an_unhandled_error_is_a_500_either_way(factory: Any) -> None:
    with TestClient(factory()) as client:
        ok = client.get("/items/plumbus")
        assert EVENTS == []
        broken = client.get("/items/portal-gun")
        assert EVENTS == ["caught"]
        not_found = client.get("/items/moon")
    assert (ok.status_code, ok.json()) == (200, "plumbus")
    # FastAPI answers "Internal Server Error" as text/plain; zigmund as {"detail": "Internal Server Error"}.
    assert broken.status_code == 500 and "Internal Server Error" in broken.text
    assert (not_found.status_code, not_found.json()) == (404, {"detail": "Item not found, there's only a plumbus here"})
    assert EVENTS == ["caught"]  # an HTTPException is not an InternalError


def test_yield_cleanup_runs_in_reverse_order_after_background_tasks() -> None:
    with TestClient(dependencies_with_yield_order()) as client:
        response = client.get("/abc")
    assert (response.status_code, response.json()) == (200, {"value": "ABC"})
    # The order FastAPI 0.165 gives for the same app.
    assert EVENTS == ["a open", "b open", "c open", "handler", "task", "c close", "b close", "a close"]
