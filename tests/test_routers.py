"""Router: prefixes, merged tags and dependencies (FastAPI's order), nesting, and registration-time errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from openapi_spec_validator import validate

from zigmund_fast import APIRouter, App, BackgroundTasks, Depends, Router, WebSocket
from zigmund_fast.testing import TestClient


def recorder(log: list[str], name: str) -> Callable[[], None]:
    def dependency() -> None:
        log.append(name)

    return dependency


def nested_app(log: list[str]) -> App:
    inner = Router(prefix="/inner", tags=["inner"], dependencies=[Depends(recorder(log, "inner-router"))])

    @inner.get("/items/{item_id}", tags=["route"], dependencies=[Depends(recorder(log, "route"))])
    async def read_item(item_id: int, q: str | None = None) -> dict[str, Any]:
        log.append("handler")
        return {"item_id": item_id, "q": q}

    outer = Router(prefix="/outer", tags=["outer"], dependencies=[Depends(recorder(log, "outer-router"))])
    outer.include_router(inner, prefix="/inc", tags=["inc"], dependencies=[Depends(recorder(log, "inc"))])
    app = App(dependencies=[Depends(recorder(log, "app"))])
    app.include_router(outer, prefix="/api", tags=["api"], dependencies=[Depends(recorder(log, "app-include"))])
    return app


def test_nested_routers_combine_prefixes_and_run_dependencies_outermost_first() -> None:
    log: list[str] = []
    with TestClient(nested_app(log)) as client:
        response = client.get("/api/outer/inc/inner/items/7", params={"q": "x"})
    assert response.status_code == 200 and response.json() == {"item_id": 7, "q": "x"}
    # The order FastAPI 0.165 runs them in for the same structure.
    assert log == ["app", "app-include", "outer-router", "inc", "inner-router", "route", "handler"]


def test_tags_are_concatenated_outermost_first_in_the_openapi_document() -> None:
    app = nested_app([])
    operation = app.openapi()["paths"]["/api/outer/inc/inner/items/{item_id}"]["get"]
    assert operation["tags"] == ["api", "outer", "inc", "inner", "route"]
    route = next(route for route in app.routes if route.path == "/api/outer/inc/inner/items/{item_id}")
    assert route.tags == ["api", "outer", "inc", "inner", "route"]


def test_tags_are_not_deduplicated_as_in_fastapi() -> None:
    router = Router(tags=["t"])
    router.get("/dup", lambda: 1, tags=["t"])
    app = App()
    app.include_router(router, tags=["t"])
    assert app.openapi()["paths"]["/dup"]["get"]["tags"] == ["t", "t", "t"]


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "head", "options"])
def test_every_route_method_in_decorator_and_call_form(method: str) -> None:
    router = Router(prefix="/r")

    @getattr(router, method)("/decorated")
    async def decorated() -> dict[str, str]:
        return {"form": "decorator"}

    async def called() -> dict[str, str]:
        return {"form": "call"}

    assert getattr(router, method)("/called", called) is called
    app = App()
    app.include_router(router)
    with TestClient(app) as client:
        for path, form in (("/r/decorated", "decorator"), ("/r/called", "call")):
            response = client.request(method.upper(), path)
            assert response.status_code == 200
            if method != "head":
                assert response.json() == {"form": form}
            assert client.request("TRACE", path).status_code == 405


def test_add_route_with_several_methods_and_route_options_pass_through() -> None:
    router = Router(prefix="/things")
    router.add_route("", lambda: {"ok": True}, ["GET", "post"], status_code=201, summary="Things", name="things")
    app = App()
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/things").status_code == 201
        assert client.post("/things").status_code == 201
    operation = app.openapi()["paths"]["/things"]["post"]
    assert operation["summary"] == "Things"
    assert [route.name for route in app.routes if route.path == "/things"] == ["things"]


def test_include_without_prefix_and_app_level_prefix_only() -> None:
    router = Router()
    router.get("/plain", lambda: "plain")
    app = App()
    app.include_router(router)
    app.include_router(router, prefix="/v2")
    with TestClient(app) as client:
        assert client.get("/plain").json() == "plain"
        assert client.get("/v2/plain").json() == "plain"


def test_routes_added_after_include_are_not_registered() -> None:
    router = Router(prefix="/late")
    router.get("/early", lambda: "early")
    app = App()
    app.include_router(router)
    router.get("/after", lambda: "after")
    with TestClient(app) as client:
        assert client.get("/late/early").status_code == 200
        assert client.get("/late/after").status_code == 404


def test_deprecated_and_include_in_schema_merge_across_levels() -> None:
    hidden = Router(include_in_schema=False)
    hidden.get("/hidden", lambda: 1)
    old = Router(deprecated=True)
    old.get("/old", lambda: 1)
    mixed = Router()
    mixed.get("/visible", lambda: 1)
    mixed.get("/route-hidden", lambda: 1, include_in_schema=False)
    app = App()
    app.include_router(hidden)
    app.include_router(old)
    app.include_router(mixed, deprecated=True)
    paths = app.openapi()["paths"]
    assert "/hidden" not in paths and "/route-hidden" not in paths
    assert paths["/old"]["get"]["deprecated"] is True
    assert paths["/visible"]["get"]["deprecated"] is True
    with TestClient(app) as client:
        assert client.get("/hidden").status_code == 200  # hidden from the schema, still served


def test_router_dependencies_can_reject_a_request() -> None:
    from zigmund_fast import Header, HTTPException

    def require_token(x_token: str = Header()) -> None:
        if x_token != "secret":
            raise HTTPException(403, "bad token")

    router = Router(prefix="/private", dependencies=[Depends(require_token)])
    router.get("/data", lambda: {"data": 1})
    app = App()
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/private/data", headers={"x-token": "secret"}).json() == {"data": 1}
        refused = client.get("/private/data", headers={"x-token": "nope"})
        assert refused.status_code == 403 and refused.json() == {"detail": "bad token"}
        missing = client.get("/private/data")
        assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["header", "x-token"]


def test_routes_without_dependencies_keep_the_plain_fast_path() -> None:
    router = Router(prefix="/fast")
    router.get("/hello", lambda: {"hello": "world"})
    app = App()
    app.include_router(router)
    route = next(route for route in app.routes if route.path == "/fast/hello")
    direct = App().add_route("/hello", lambda: {"hello": "world"})
    assert route.plan.graph is None and direct.plan.graph is None


def test_background_tasks_through_a_router_run_after_the_response() -> None:
    log: list[str] = []
    router = Router(prefix="/jobs")

    @router.post("/")
    async def queue(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(log.append, "task")
        log.append("handler")
        return {"queued": True}

    app = App()
    app.include_router(router)
    with TestClient(app) as client:
        assert client.post("/jobs/").json() == {"queued": True}
    assert log == ["handler", "task"]


def test_apirouter_is_the_same_class() -> None:
    assert APIRouter is Router


# Registration errors


@pytest.mark.parametrize(("prefix", "message"), [("items", "must start with '/'"), ("/items/", "must not end")])
def test_bad_prefixes_are_refused_at_construction_and_at_include(prefix: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Router(prefix=prefix)
    with pytest.raises(ValueError, match=message):
        App().include_router(Router(), prefix=prefix)
    with pytest.raises(ValueError, match=message):
        Router().include_router(Router(), prefix=prefix)


def test_empty_prefix_and_path_is_refused_when_included() -> None:
    router = Router()
    router.get("", lambda: 1)
    with pytest.raises(ValueError, match="prefix and path cannot be both empty"):
        App().include_router(router)
    app = App()
    app.include_router(router, prefix="/root")
    with TestClient(app) as client:
        assert client.get("/root").status_code == 200


def test_unknown_route_keywords_fail_at_registration_not_at_include() -> None:
    router = Router()
    with pytest.raises(TypeError, match="unknown keyword"):
        router.get("/x", lambda: 1, summray="typo")
    with pytest.raises(TypeError, match="unknown keyword"):
        router.get("/x", summray="typo")


def test_other_registration_errors() -> None:
    router = Router()
    with pytest.raises(TypeError, match="must be callable"):
        router.add_route("/x", "not a function")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must start with '/'"):
        router.get("x", lambda: 1)
    with pytest.raises(TypeError, match="list of method names"):
        router.add_route("/x", lambda: 1, "GET")
    with pytest.raises(ValueError, match="cannot include itself"):
        router.include_router(router)
    with pytest.raises(TypeError, match="takes a zigmund_fast Router"):
        App().include_router(App())


def test_duplicate_routes_from_two_routers_are_reported() -> None:
    first, second = Router(), Router()
    first.get("/same", lambda: 1)
    second.get("/same", lambda: 2)
    app = App()
    app.include_router(first)
    with pytest.raises(ValueError, match="already registered"):
        app.include_router(second)


# OpenAPI responses


class Message(msgspec.Struct):
    message: str


def test_responses_merge_by_status_inner_wins_and_models_become_schemas() -> None:
    router = Router(prefix="/r", responses={404: {"description": "router not found"}, 500: {"description": "boom"}})

    @router.get("/x", responses={404: {"model": Message}, 418: {"model": Message}, "5XX": {"description": "server"},
                                 200: {"description": "custom ok", "headers": {"X-A": {"schema": {"type": "string"}}}},
                                 299: {"content": {"text/plain": {}}}})
    async def x() -> dict[str, int]:
        return {}

    app = App()
    app.include_router(router, responses={401: {"description": "who are you"}, 500: {"description": "include"}})
    document = app.openapi()
    validate(document)
    responses = document["paths"]["/r/x"]["get"]["responses"]
    message_ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}
    # What FastAPI 0.165 documents for the same declarations (its key order aside).
    assert responses["200"]["description"] == "custom ok" and "X-A" in responses["200"]["headers"]
    assert "application/json" in responses["200"]["content"]
    assert responses["404"] == {"description": "Not Found", "content": message_ref}
    assert responses["418"] == {"description": "I'm a Teapot", "content": message_ref}
    assert responses["500"] == {"description": "boom"}  # the router's own entry is inner to the include's
    assert responses["401"] == {"description": "who are you"}
    assert responses["5XX"] == {"description": "server"}
    assert responses["299"] == {"description": "Additional Response", "content": {"text/plain": {}}}
    assert "Message" in document["components"]["schemas"]


def test_responses_on_a_plain_app_route() -> None:
    app = App()
    app.get("/item", lambda: {"id": 1}, responses={"default": {"model": Message}, "4xx": {}})
    document = app.openapi()
    validate(document)
    responses = document["paths"]["/item"]["get"]["responses"]
    assert responses["default"]["description"] == "Default Response"
    assert responses["4XX"] == {"description": "Client Error"}


@pytest.mark.parametrize(("responses", "error"), [({"abc": {}}, ValueError), ({700: {}}, ValueError),
                                                   ({404: "Not found"}, TypeError), ([404], TypeError)])
def test_bad_responses_are_refused_at_registration(responses: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="responses"):
        App().get("/x", lambda: 1, responses=responses)
    with pytest.raises(error, match="responses"):
        Router().get("/x", lambda: 1, responses=responses)
    with pytest.raises(error, match="responses"):
        Router(responses=responses)


def test_websocket_routes_are_included_with_the_prefix_and_dependencies() -> None:
    log: list[str] = []
    router = Router(prefix="/ws", dependencies=[Depends(recorder(log, "router"))])

    @router.websocket("/chat", name="chat")
    async def chat(websocket: WebSocket) -> None:
        await websocket.accept()

    app = App()
    app.include_router(router, prefix="/v1")
    [route] = app.websocket_routes
    assert (route.path, route.name) == ("/v1/ws/chat", "chat")
    assert route.plan.graph is not None  # the router's dependency runs before the handler
    assert "/v1/ws/chat" not in app.openapi()["paths"]
