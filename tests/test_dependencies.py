"""Depends: caching, sub-dependencies, yield cleanup and its timing, overrides, route-level dependencies, 422s."""

# ruff: noqa: B008 - `x = Depends(...)` defaults are the FastAPI API under test
from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import msgspec
import pytest
from openapi_spec_validator import validate

from zigmund_fast import (
    App,
    BackgroundTasks,
    Body,
    Depends,
    Header,
    HTTPException,
    Query,
    Request,
)
from zigmund_fast.testing import TestClient

from .conftest import read_response

GET = b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n"


@pytest.fixture
def client() -> Iterator[Any]:
    clients: list[TestClient] = []

    def make(app: App) -> TestClient:
        clients.append(TestClient(app))
        return clients[-1]

    yield make
    for made in clients:
        made.close()


def wait_for(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


# Resolution: values, caching, sub-dependencies, sync and async


def test_dependency_value_is_passed_to_the_handler(client: Any) -> None:
    app = App()

    async def pagination(skip: int = 0, limit: int = 10) -> dict[str, int]:
        return {"skip": skip, "limit": limit}

    @app.get("/items")
    async def items(page: dict[str, int] = Depends(pagination)) -> dict[str, Any]:
        return page

    assert client(app).get("/items?skip=5").json() == {"skip": 5, "limit": 10}


# NOTE: with `from __future__ import annotations`, what an annotation names must be importable from the
# module (as in FastAPI); the few dependencies named inside `Annotated[...]` live here for that reason.
user_calls: list[str] = []


async def current_user(name: str = "ann") -> str:
    user_calls.append(name)
    return name


def test_a_dependency_used_twice_runs_once_per_request(client: Any) -> None:
    app = App()
    calls = user_calls
    calls.clear()

    async def greeting(user: str = Depends(current_user)) -> str:
        return f"hi {user}"

    @app.get("/twice")
    async def twice(user: Annotated[str, Depends(current_user)], text: str = Depends(greeting)) -> dict[str, str]:
        return {"user": user, "text": text}

    c = client(app)
    assert c.get("/twice?name=bob").json() == {"user": "bob", "text": "hi bob"}
    assert calls == ["bob"]
    c.get("/twice")
    assert calls == ["bob", "ann"]  # cached per request, not across requests


def test_use_cache_false_calls_again(client: Any) -> None:
    app = App()
    calls = 0

    async def counter() -> int:
        nonlocal calls
        calls += 1
        return calls

    @app.get("/fresh")
    async def fresh(a: int = Depends(counter), b: int = Depends(counter, use_cache=False)) -> list[int]:
        return [a, b]

    assert client(app).get("/fresh").json() == [1, 2]
    assert calls == 2


def test_sub_dependencies_resolve_in_order_and_share_values(client: Any) -> None:
    app = App()
    order: list[str] = []

    async def settings() -> dict[str, str]:
        order.append("settings")
        return {"db": "sqlite"}

    async def database(config: dict[str, str] = Depends(settings)) -> str:
        order.append("database")
        return f"db:{config['db']}"

    async def repository(db: str = Depends(database), config: dict[str, str] = Depends(settings)) -> str:
        order.append("repository")
        return f"repo({db},{config['db']})"

    @app.get("/repo")
    async def repo(r: str = Depends(repository)) -> str:
        return r

    assert client(app).get("/repo").json() == "repo(db:sqlite,sqlite)"
    assert order == ["settings", "database", "repository"]


def test_sync_dependencies_run_in_the_thread_pool_async_ones_on_the_loop(client: Any) -> None:
    app = App()
    threads: dict[str, str] = {}

    def sync_dep() -> int:
        threads["sync"] = threading.current_thread().name
        return 1

    async def async_dep(x: int = Depends(sync_dep)) -> int:
        threads["async"] = threading.current_thread().name
        return x + 1

    @app.get("/mixed")
    async def mixed(value: int = Depends(async_dep)) -> int:
        return value

    c = client(app)
    assert c.get("/mixed").json() == 2
    assert threads["sync"].startswith("zigmund-handler")
    assert threads["async"] == threading.current_thread().name  # the TestClient runs the loop in this thread


class CommonQuery:
    def __init__(self, q: str | None = None, limit: int = 100) -> None:
        self.q = q
        self.limit = limit


def test_class_and_callable_instance_dependencies(client: Any) -> None:
    app = App()

    class FixedPrefix:
        def __init__(self, prefix: str) -> None:
            self.prefix = prefix

        async def __call__(self, word: str = "x") -> str:
            return self.prefix + word

    @app.get("/c")
    def handler(commons: Annotated[CommonQuery, Depends()], p: str = Depends(FixedPrefix("pre-"))) -> dict[str, Any]:
        return {"q": commons.q, "limit": commons.limit, "p": p}

    assert client(app).get("/c?q=a&limit=3&word=w").json() == {"q": "a", "limit": 3, "p": "pre-w"}


def test_partial_dependency_gets_its_remaining_parameters_injected(client: Any) -> None:
    app = App()

    async def scaled(factor: int, x: int = 1) -> int:
        return factor * x

    @app.get("/scaled")
    async def handler(value: int = Depends(functools.partial(scaled, 10))) -> int:
        return value

    assert client(app).get("/scaled?x=3").json() == 30


def test_dependencies_get_request_headers_and_the_shared_task_queue(client: Any) -> None:
    app = App()
    ran: list[str] = []

    async def audit(request: Request, tasks: BackgroundTasks, agent: str = Header("none")) -> str:
        tasks.add(ran.append, f"audit {request.path} {agent}")
        return agent

    @app.get("/audited")
    async def audited(tasks: BackgroundTasks, agent: str = Depends(audit)) -> str:
        tasks.add(ran.append, "handler")
        return agent

    assert client(app).get("/audited", headers={"agent": "curl"}).json() == "curl"
    assert ran == ["audit /audited curl", "handler"]


def test_sync_handler_with_dependencies(client: Any) -> None:
    app = App()

    async def number(n: int) -> int:
        return n

    @app.get("/double")
    def double(n: int = Depends(number)) -> dict[str, Any]:
        return {"double": n * 2, "thread": threading.current_thread().name.startswith("zigmund-handler")}

    assert client(app).get("/double?n=4").json() == {"double": 8, "thread": True}


class Item(msgspec.Struct):
    name: str


def test_body_parameters_of_dependencies_are_keys_of_one_json_object(client: Any) -> None:
    app = App()

    async def owner(user: str = Body()) -> str:
        return user

    @app.post("/items")
    async def create(item: Item, who: str = Depends(owner)) -> dict[str, str]:
        return {"item": item.name, "user": who}

    c = client(app)
    assert c.post("/items", json={"item": {"name": "pen"}, "user": "ann"}).json() == {"item": "pen", "user": "ann"}
    schema = app.openapi()["paths"]["/items"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Body_create_items_post"}


# Validation and errors


def test_a_dependencys_invalid_query_param_is_a_422_reported_with_the_handlers(client: Any) -> None:
    app = App()
    called: list[str] = []

    async def paging(limit: int = Query(10, le=100)) -> int:
        called.append("paging")
        return limit

    @app.get("/list")
    async def listing(page: int, limit: int = Depends(paging)) -> int:
        called.append("handler")
        return limit

    response = client(app).get("/list?page=x&limit=500")
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"type": "less_than_equal", "loc": ["query", "limit"], "msg": "Input should be less than or equal to 100",
         "input": "500", "ctx": {"le": 100}},
        {"type": "int_parsing", "loc": ["query", "page"],
         "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "x"},
    ]}
    assert called == []


def test_missing_header_of_a_sub_dependency_is_a_422(client: Any) -> None:
    app = App()

    async def token(x_token: str = Header()) -> str:
        return x_token

    async def user(t: str = Depends(token)) -> str:
        return t

    @app.get("/me")
    async def me(u: str = Depends(user)) -> str:
        return u

    c = client(app)
    assert c.get("/me").json() == {"detail": [
        {"type": "missing", "loc": ["header", "x-token"], "msg": "Field required", "input": None}]}
    assert c.get("/me", headers={"x-token": "abc"}).json() == "abc"


def test_a_dependency_raising_http_exception_answers_with_it(client: Any) -> None:
    app = App()
    handled: list[str] = []

    async def verify(key: str = "") -> None:
        if key != "secret":
            raise HTTPException(403, "bad key", headers={"x-why": "key"})

    @app.get("/guarded")
    async def guarded(_: None = Depends(verify)) -> str:
        handled.append("yes")
        return "ok"

    c = client(app)
    response = c.get("/guarded?key=nope")
    assert response.status_code == 403
    assert response.json() == {"detail": "bad key"}
    assert response.headers.get("x-why") == "key"
    assert handled == []
    assert c.get("/guarded?key=secret").json() == "ok"


# Dependencies with yield


def test_yield_exits_run_last_entered_first(client: Any) -> None:
    app = App()
    log: list[str] = []

    async def outer() -> AsyncIterator[str]:
        log.append("enter outer")
        yield "outer"
        log.append("exit outer")

    def middle(o: str = Depends(outer)) -> Iterator[str]:  # a sync generator: entered and exited in the pool
        log.append("enter middle")
        yield "middle"
        log.append("exit middle")

    async def inner(m: str = Depends(middle)) -> AsyncIterator[str]:
        log.append("enter inner")
        yield "inner"
        log.append("exit inner")

    @app.get("/nested")
    async def nested(i: str = Depends(inner), o: str = Depends(outer)) -> str:
        log.append("handler")
        return i + o

    assert client(app).get("/nested").json() == "innerouter"
    assert log == ["enter outer", "enter middle", "enter inner", "handler", "exit inner", "exit middle",
                   "exit outer"]


def test_default_exit_runs_after_the_background_tasks(client: Any) -> None:
    app = App()
    log: list[str] = []

    async def session() -> AsyncIterator[dict[str, bool]]:
        resource = {"open": True}
        yield resource
        resource["open"] = False
        log.append("closed")

    def use(resource: dict[str, bool]) -> None:
        log.append(f"task sees open={resource['open']}")

    @app.post("/work")
    async def work(tasks: BackgroundTasks, db: dict[str, bool] = Depends(session)) -> str:
        tasks.add(use, db)
        return "queued"

    assert client(app).post("/work").json() == "queued"
    assert log == ["task sees open=True", "closed"]


def test_default_exit_runs_after_the_response_reached_the_client(serve: Any) -> None:
    # The task holds the request open until the client has read the whole response, so the exit can
    # only run after that; and when the client reads it, the resource must still be open.
    app = App()
    client_has_response = threading.Event()
    state: dict[str, Any] = {"open": False, "events": []}

    async def session() -> AsyncIterator[dict[str, Any]]:
        state["open"] = True
        yield state
        state["open"] = False
        state["events"].append("exit")

    def task(resource: dict[str, Any]) -> None:
        resource["events"].append(f"task open={resource['open']}")
        client_has_response.wait(5)

    @app.get("/session")
    async def handler(tasks: BackgroundTasks, resource: dict[str, Any] = Depends(session)) -> str:
        tasks.add(task, resource, blocking=True)
        return "done"

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(GET % b"/session")
        response = read_response(sock)
        open_when_received = state["open"]
        client_has_response.set()
    assert response.status == 200 and response.body == b'"done"'
    assert open_when_received is True
    assert wait_for(lambda: state["events"] == ["task open=True", "exit"]), state["events"]


def test_default_exit_without_tasks_still_runs_after_the_response(serve: Any) -> None:
    app = App()
    closed = threading.Event()

    async def session() -> AsyncIterator[str]:
        yield "s"
        closed.set()

    @app.get("/plain")
    async def plain(s: str = Depends(session)) -> str:
        return s

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(GET % b"/plain")
        assert read_response(sock).body == b'"s"'
    assert closed.wait(5)


scoped_state: dict[str, Any] = {}


def scoped_session() -> Iterator[dict[str, Any]]:
    scoped_state["open"] = True
    yield scoped_state
    scoped_state["open"] = False
    scoped_state["events"].append("exit")


def test_a_streamed_response_keeps_the_resource_open_until_it_ends(client: Any) -> None:
    app = App()
    log: list[str] = []

    async def session() -> AsyncIterator[str]:
        log.append("enter")
        yield "db"
        log.append("exit")

    @app.get("/stream")
    async def stream(db: str = Depends(session)) -> AsyncIterator[dict[str, Any]]:
        for index in range(2):
            log.append(f"chunk {index}")
            yield {"index": index, "db": db}

    assert client(app).get("/stream").text == '{"index":0,"db":"db"}\n{"index":1,"db":"db"}\n'
    assert log == ["enter", "chunk 0", "chunk 1", "exit"]


def test_function_scope_exits_before_the_response_is_sent(serve: Any) -> None:
    app = App()
    state = scoped_state
    state.update({"open": False, "events": []})

    @app.get("/scoped")
    async def scoped(tasks: BackgroundTasks,
                     resource: Annotated[dict[str, Any], Depends(scoped_session, scope="function")]) -> str:
        tasks.add(lambda: state["events"].append(f"task open={state['open']}"))
        state["events"].append("handler")
        return "done"

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(GET % b"/scoped")
        response = read_response(sock)
        open_when_received = state["open"]
    assert response.body == b'"done"'
    assert open_when_received is False  # closed before the response was written
    assert wait_for(lambda: len(state["events"]) == 3)
    assert state["events"] == ["handler", "exit", "task open=False"]


def test_request_scope_may_not_depend_on_function_scope() -> None:
    app = App()

    def short() -> Iterator[int]:
        yield 1

    async def long(x: int = Depends(short, scope="function")) -> AsyncIterator[int]:
        yield x

    async def handler(y: int = Depends(long)) -> int:
        return y

    with pytest.raises(TypeError, match='"request", it cannot depend on .*short.*"function"'):
        app.get("/bad", handler)


def test_handler_exception_is_thrown_into_the_generators(client: Any) -> None:
    app = App()
    seen: list[str] = []

    async def first() -> AsyncIterator[None]:
        try:
            yield
        except HTTPException as exc:
            seen.append(f"first saw {exc.status_code}")
            raise
        finally:
            seen.append("first exit")

    def second() -> Iterator[None]:
        try:
            yield
        except HTTPException as exc:
            seen.append(f"second saw {exc.status_code}")
            raise

    @app.get("/fails")
    async def fails(a: None = Depends(first), b: None = Depends(second)) -> str:
        raise HTTPException(409, "conflict")

    response = client(app).get("/fails")
    assert (response.status_code, response.json()) == (409, {"detail": "conflict"})
    assert seen == ["second saw 409", "first saw 409", "first exit"]


def test_a_generator_may_turn_the_exception_into_another_response(client: Any) -> None:
    app = App()

    async def translate() -> AsyncIterator[None]:
        try:
            yield
        except KeyError as exc:
            raise HTTPException(404, f"no such key: {exc.args[0]}") from exc

    @app.get("/lookup")
    def lookup(_: None = Depends(translate)) -> str:
        return {}["missing"]  # type: ignore[no-any-return]

    response = client(app).get("/lookup")
    assert (response.status_code, response.json()) == (404, {"detail": "no such key: missing"})


def test_a_generator_that_swallows_the_exception_gives_500(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    async def swallow() -> AsyncIterator[None]:
        try:
            yield
        except Exception:  # noqa: BLE001, S110 - what the test is about
            pass

    @app.get("/swallowed")
    async def swallowed(_: None = Depends(swallow)) -> str:
        raise HTTPException(400, "lost")

    with caplog.at_level(logging.ERROR, logger="zigmund_fast.app"):
        response = client(app).get("/swallowed")
    assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})
    assert "did not raise it again" in caplog.text


def test_validation_error_reaches_entered_generators(client: Any) -> None:
    app = App()
    seen: list[str] = []

    async def tracked() -> AsyncIterator[None]:
        try:
            yield
        except Exception as exc:
            seen.append(type(exc).__name__)
            raise

    @app.get("/v")
    async def v(t: None = Depends(tracked), n: int = 0) -> int:
        return n

    assert client(app).get("/v?n=x").status_code == 422
    assert seen == ["RequestValidationError"]


def test_exits_still_run_when_the_return_value_cannot_be_sent(client: Any) -> None:
    app = App()
    closed: list[bool] = []

    async def session() -> AsyncIterator[None]:
        yield
        closed.append(True)

    @app.get("/unencodable")
    async def unencodable(_: None = Depends(session)) -> Any:
        return {"value": object()}

    assert client(app).get("/unencodable").status_code == 500
    assert closed == [True]


def test_failing_exit_after_the_response_is_logged(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    async def broken() -> AsyncIterator[None]:
        yield
        raise RuntimeError("cleanup failed")

    @app.get("/broken")
    async def handler(_: None = Depends(broken)) -> str:
        return "sent"

    with caplog.at_level(logging.ERROR, logger="zigmund_fast.dependencies"):
        assert client(app).get("/broken").json() == "sent"
    assert "cleanup failed" in caplog.text


# Overrides and route-level dependencies


def test_dependency_overrides_replace_a_dependency_until_removed(client: Any) -> None:
    app = App()

    async def real_db() -> str:
        return "postgres"

    async def repository(db: str = Depends(real_db)) -> str:
        return f"repo on {db}"

    @app.get("/repo")
    async def repo(r: str = Depends(repository)) -> str:
        return r

    async def fake_db(name: str = "fake") -> str:  # an override brings its own parameters
        return name

    c = client(app)
    assert c.get("/repo").json() == "repo on postgres"
    app.dependency_overrides[real_db] = fake_db
    assert c.get("/repo?name=memory").json() == "repo on memory"
    app.dependency_overrides[repository] = lambda: "stub"
    assert c.get("/repo").json() == "stub"
    app.dependency_overrides = {}
    assert c.get("/repo").json() == "repo on postgres"


def test_route_level_dependencies_run_first_and_their_values_are_dropped(client: Any) -> None:
    app = App()
    order: list[str] = []

    async def verify_token(x_token: str = Header()) -> str:
        order.append("token")
        if x_token != "t":
            raise HTTPException(400, "X-Token header invalid")
        return x_token

    async def audit() -> None:
        order.append("audit")

    @app.get("/items", dependencies=[Depends(verify_token), Depends(audit)])
    async def items() -> list[str]:
        order.append("handler")
        return ["a"]

    c = client(app)
    assert c.get("/items", headers={"x-token": "t"}).json() == ["a"]
    assert order == ["token", "audit", "handler"]
    assert c.get("/items", headers={"x-token": "no"}).json() == {"detail": "X-Token header invalid"}
    assert c.get("/items").status_code == 422
    parameters = app.openapi()["paths"]["/items"]["get"]["parameters"]
    assert [(p["name"], p["in"]) for p in parameters] == [("x-token", "header")]


def test_app_level_dependencies_apply_to_routes_but_not_to_the_docs(client: Any) -> None:
    calls: list[str] = []

    async def count(request: Request) -> None:
        calls.append(request.path)

    app = App(dependencies=[Depends(count)])

    @app.get("/one")
    async def one() -> int:
        return 1

    c = client(app)
    assert c.get("/one").json() == 1
    assert c.get("/openapi.json").status_code == 200
    assert calls == ["/one"]


def test_the_same_marker_passed_twice_runs_once(client: Any) -> None:
    calls: list[int] = []

    async def once() -> None:
        calls.append(1)

    marker = Depends(once, use_cache=False)
    app = App(dependencies=[marker])
    app.get("/x", lambda: "x", dependencies=[marker])
    client(app).get("/x")
    assert calls == [1]


# Registration


def test_routes_without_dependencies_keep_their_plan() -> None:
    app = App()

    async def plain(q: int = 0) -> int:
        return q

    async def dep() -> int:
        return 1

    async def with_dep(d: int = Depends(dep)) -> int:
        return d

    assert app.add_route("/plain", plain).plan.graph is None
    assert app.add_route("/dep", with_dep).plan.graph is not None


def test_registration_errors_are_readable() -> None:
    app = App()

    async def loops(x: int = Depends(lambda: 0)) -> int:
        return x

    def a(b: Any = None) -> None:
        return None

    def b_(x: Any = Depends(a)) -> None:
        return None

    a.__defaults__ = (Depends(b_),)  # a -> b_ -> a

    async def cyclic(v: Any = Depends(a)) -> None:
        return None

    with pytest.raises(TypeError, match="dependency cycle"):
        app.get("/cycle", cyclic)
    with pytest.raises(TypeError, match=r"dependencies=\[...\] takes Depends"):
        app.get("/wrong", lambda: 1, dependencies=[lambda: 1])
    with pytest.raises(ValueError, match="scope"):
        Depends(lambda: 1, scope="session")  # type: ignore[arg-type]
    app.get("/fine", loops)


@dataclasses.dataclass
class Filters:
    color: str | None = None


def test_dependency_parameters_are_documented(client: Any) -> None:
    app = App()

    async def paging(item_id: int, limit: int = Query(10, ge=1)) -> int:
        return limit

    @app.get("/items/{item_id}")
    async def read(page: int = Depends(paging), f: Filters = Depends(Filters), q: str | None = None) -> int:
        return page

    operation = app.openapi()["paths"]["/items/{item_id}"]["get"]
    assert [(p["name"], p["in"]) for p in operation["parameters"]] == [  # FastAPI's order
        ("item_id", "path"), ("q", "query"), ("limit", "query"), ("color", "query")]
    item_id = operation["parameters"][0]
    assert item_id["schema"]["type"] == "integer" and item_id["required"] is True
    assert "422" in operation["responses"]
    validate(app.openapi())
    assert client(app).get("/items/3?limit=0").status_code == 422
